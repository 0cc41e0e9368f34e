package oidctest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/oidctest"
)

func TestDiscovery(t *testing.T) {
	e := newEnv(t)
	issuer := e.srv.URL
	if e.srv.Issuer != issuer {
		t.Fatalf("Issuer %q, want %q", e.srv.Issuer, issuer)
	}
	want := map[string]any{
		"issuer":                                           issuer,
		"authorization_endpoint":                           issuer + "/authorize",
		"token_endpoint":                                   issuer + "/token",
		"userinfo_endpoint":                                issuer + "/userinfo",
		"jwks_uri":                                         issuer + "/jwks",
		"end_session_endpoint":                             issuer + "/end_session",
		"revocation_endpoint":                              issuer + "/revoke",
		"backchannel_logout_supported":                     true,
		"backchannel_logout_session_supported":             true,
		"pushed_authorization_request_endpoint":            issuer + "/par",
		"require_pushed_authorization_requests":            true,
		"authorization_response_iss_parameter_supported":   true,
		"response_types_supported":                         []any{"code"},
		"response_modes_supported":                         []any{"query", "form_post"},
		"grant_types_supported":                            []any{"authorization_code", "refresh_token"},
		"subject_types_supported":                          []any{"public"},
		"id_token_signing_alg_values_supported":            []any{"RS256", "PS256", "ES256"},
		"token_endpoint_auth_methods_supported":            []any{"client_secret_jwt", "private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []any{"HS256", "HS384", "HS512", "RS256", "PS256", "ES256", "EdDSA"},
		"code_challenge_methods_supported":                 []any{"S256"},
		"scopes_supported":                                 []any{"openid", "profile", "email", "offline_access"},
		"request_parameter_supported":                      true,
		"dpop_signing_alg_values_supported":                []any{"ES256", "PS256", "EdDSA"},
		"request_object_signing_alg_values_supported":      []any{"HS256", "HS384", "HS512", "RS256", "PS256", "ES256", "EdDSA"},
	}
	for k, v := range want {
		if !reflect.DeepEqual(e.meta[k], v) {
			t.Errorf("%s = %v, want %v", k, e.meta[k], v)
		}
	}
	if claims, _ := e.meta["claims_supported"].([]any); len(claims) == 0 {
		t.Error("claims_supported is empty")
	}
	e.wantRouted("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint", "pushed_authorization_request_endpoint", "revocation_endpoint")
}

// wantRouted checks that the endpoints of the discovery document named are routed: a GET does not
// answer 404.
func (e *env) wantRouted(names ...string) {
	e.t.Helper()
	for _, name := range names {
		if status, body := e.get(e.endpoint(name)); status == http.StatusNotFound {
			e.t.Errorf("GET %s: 404: %s", name, body)
		}
	}
}

func TestDiscoveryEditMetadata(t *testing.T) {
	e := newEnv(t, func(s *oidctest.Server) {
		s.EditMetadata = func(m map[string]any) {
			delete(m, "pushed_authorization_request_endpoint")
			m["authorization_response_iss_parameter_supported"] = false
		}
	})
	if _, ok := e.meta["pushed_authorization_request_endpoint"]; ok {
		t.Error("pushed_authorization_request_endpoint was not deleted")
	}
	if e.meta["authorization_response_iss_parameter_supported"] != false {
		t.Error("authorization_response_iss_parameter_supported was not set to false")
	}
}

func TestDiscoveryUnencodableMetadata(t *testing.T) {
	srv := oidctest.NewUnstartedServer()
	srv.EditMetadata = func(m map[string]any) { m["bad"] = func() {} }
	srv.Start()
	defer srv.Close()
	resp, err := srv.Client().Get(srv.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	wantOAuthError(t, resp.StatusCode, body, http.StatusInternalServerError, "server_error")
}

func TestRotateKeys(t *testing.T) {
	e := newEnv(t)
	kid1, key1 := e.srv.SigningKey()
	if kid1 == "" || key1 == nil || key1.N.BitLen() != 2048 {
		t.Fatalf("SigningKey() = %q, %v; want a kid and a 2048-bit key", kid1, key1)
	}
	if keys := e.jwks(); len(keys) != 1 || keys[kid1] == nil {
		t.Fatalf("JWKS has keys %v, want only %s", keys, kid1)
	}

	e.srv.RotateKeys()
	kid2, _ := e.srv.SigningKey()
	if keys := e.jwks(); len(keys) != 2 || keys[kid1] == nil || keys[kid2] == nil {
		t.Fatalf("after one rotation, JWKS has %v, want %s and %s", keys, kid2, kid1)
	}
	code, _, verifier := e.code(e.client, nil)
	tokens := e.exchange(e.client, code, verifier)
	if _, header := e.verifyIDToken(tokens["id_token"].(string)); header["kid"] != kid2 {
		t.Errorf("ID token kid %v, want the new key %s", header["kid"], kid2)
	}

	e.srv.RotateKeys()
	kid3, _ := e.srv.SigningKey()
	if keys := e.jwks(); len(keys) != 2 || keys[kid3] == nil || keys[kid2] == nil {
		t.Fatalf("after two rotations, JWKS has %v, want %s and %s (and %s dropped)", keys, kid3, kid2, kid1)
	}
}

func TestTLSServer(t *testing.T) {
	srv := oidctest.NewTLSServer()
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "https://127.0.0.1:") || srv.Issuer != srv.URL {
		t.Fatalf("URL %q, Issuer %q; want https://127.0.0.1:port for both", srv.URL, srv.Issuer)
	}
	c := srv.Client()
	if c.Timeout != 30*time.Second {
		t.Errorf("Client().Timeout = %v, want 30s", c.Timeout)
	}
	resp, err := c.Get(srv.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatalf("discovery over TLS: %v", err)
	}
	defer resp.Body.Close()
	var meta map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&meta); err != nil || meta["issuer"] != srv.Issuer {
		t.Errorf("discovery over TLS: issuer %v (%v), want %s", meta["issuer"], err, srv.Issuer)
	}
}

func TestRouting(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name       string
		method     string
		endpoint   string // discovery name, or a path below the URL
		wantStatus int
		wantAllow  string
		wantType   string
	}{
		{"unknown path", http.MethodGet, "/nope", http.StatusNotFound, "", "text/plain; charset=utf-8"},
		{"GET on PAR", http.MethodGet, "pushed_authorization_request_endpoint", http.StatusMethodNotAllowed, "POST", "application/json"},
		{"GET on token", http.MethodGet, "token_endpoint", http.StatusMethodNotAllowed, "POST", "application/json"},
		{"PUT on authorization", http.MethodPut, "authorization_endpoint", http.StatusMethodNotAllowed, "GET, POST", "text/html; charset=utf-8"},
		{"DELETE on JWKS", http.MethodDelete, "jwks_uri", http.StatusMethodNotAllowed, "GET, HEAD", "application/json"},
		{"POST on discovery", http.MethodPost, "/.well-known/openid-configuration", http.StatusMethodNotAllowed, "GET, HEAD", "application/json"},
		{"PATCH on end session", http.MethodPatch, "end_session_endpoint", http.StatusMethodNotAllowed, "GET, POST", "text/html; charset=utf-8"},
		{"HEAD on JWKS", http.MethodHead, "jwks_uri", http.StatusOK, "", "application/json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			u := e.srv.URL + tc.endpoint
			if !strings.HasPrefix(tc.endpoint, "/") {
				u = e.endpoint(tc.endpoint)
			}
			resp, _ := e.do(mustRequest(t, tc.method, u, nil))
			if resp.StatusCode != tc.wantStatus {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if got := strings.Join(resp.Header.Values("Allow"), ", "); got != tc.wantAllow {
				t.Errorf("Allow %q, want %q", got, tc.wantAllow)
			}
			if got := resp.Header.Get("Content-Type"); got != tc.wantType {
				t.Errorf("Content-Type %q, want %q", got, tc.wantType)
			}
		})
	}
}

func TestLifecycle(t *testing.T) {
	t.Run("close unstarted", func(t *testing.T) {
		s := oidctest.NewUnstartedServer()
		s.Close()
		s.Close()
	})
	t.Run("close twice", func(t *testing.T) {
		s := oidctest.NewServer()
		s.Close()
		s.Close()
	})
	t.Run("start twice panics", func(t *testing.T) {
		s := oidctest.NewServer()
		defer s.Close()
		defer func() {
			if recover() == nil {
				t.Error("second Start did not panic")
			}
		}()
		s.Start()
	})
	t.Run("signing key before start", func(t *testing.T) {
		if kid, key := oidctest.NewUnstartedServer().SigningKey(); kid != "" || key != nil {
			t.Errorf("SigningKey() = %q, %v; want none before Start", kid, key)
		}
	})
	t.Run("addr", func(t *testing.T) {
		s := oidctest.NewUnstartedServer()
		s.Addr = "127.0.0.1:0"
		s.Start()
		defer s.Close()
		if !strings.HasPrefix(s.URL, "http://127.0.0.1:") || strings.HasSuffix(s.URL, ":0") {
			t.Errorf("URL %q, want http://127.0.0.1:<port>", s.URL)
		}
	})
}

func TestClock(t *testing.T) {
	e := newEnv(t) // the server reads e.clock through its Now field
	iat := func() time.Time {
		t.Helper()
		code, _, verifier := e.code(e.client, nil)
		claims, _ := e.verifyIDToken(e.exchange(e.client, code, verifier)["id_token"].(string))
		iat, err := claims.GetIssuedAt()
		if err != nil || iat == nil {
			t.Fatalf("ID token without iat: %v", err)
		}
		return iat.Time
	}

	fixed := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	e.clock.Set(fixed)
	if got := iat(); !got.Equal(fixed) {
		t.Errorf("with the Now field: iat %v, want %v", got, fixed)
	}

	later := fixed.Add(48 * time.Hour)
	e.srv.SetClock(func() time.Time { return later })
	e.clock.Set(later)
	if got := iat(); !got.Equal(later) {
		t.Errorf("after SetClock: iat %v, want %v", got, later)
	}

	e.srv.SetClock(nil)
	e.clock.Set(time.Now())
	if got := iat(); time.Since(got) > time.Minute || time.Until(got) > time.Minute {
		t.Errorf("after SetClock(nil): iat %v, want about now", got)
	}
}

// TestConcurrentLogins runs complete logins of several clients at once, registering the
// clients while the server serves, for the race detector.
func TestConcurrentLogins(t *testing.T) {
	e := newEnv(t)
	const n = 32
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			errs <- concurrentLogin(e, fmt.Sprintf("user-%d", i))
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	if got := len(e.srv.Requests(parlogin.EndpointToken)); got != n {
		t.Errorf("%d token requests recorded, want %d", got, n)
	}
}

// concurrentLogin registers a client and runs PAR, authorization, token and userinfo requests,
// returning the first problem. It does not use the env helpers, which stop the test on failure.
func concurrentLogin(e *env, name string) error {
	c := e.srv.AddClient(oidctest.Client{RedirectURIs: []string{redirectURI + "/" + name}})
	e.srv.AddUser(oidctest.User{Subject: name})
	now := e.clock.Now()
	endpoint := func(name string) string {
		u, _ := e.meta[name].(string)
		return u
	}
	assertion := func() (string, error) {
		return jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"iss": c.ID, "sub": c.ID, "aud": e.srv.Issuer, "jti": randomString(),
			"exp": now.Add(time.Minute).Unix(),
		}).SignedString([]byte(c.Secret))
	}
	post := func(u string, form url.Values) (int, []byte, error) {
		a, err := assertion()
		if err != nil {
			return 0, nil, err
		}
		form.Set("client_assertion_type", jwtBearer)
		form.Set("client_assertion", a)
		resp, err := e.http.PostForm(u, form)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		return resp.StatusCode, body, err
	}

	verifier := randomString() + randomString()
	status, body, err := post(endpoint("pushed_authorization_request_endpoint"), url.Values{
		"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {c.RedirectURIs[0]},
		"scope": {"openid"}, "state": {name}, "code_challenge": {challenge(verifier)}, "code_challenge_method": {"S256"},
	})
	if err != nil || status != http.StatusCreated {
		return fmt.Errorf("%s: PAR: %d %s %w", name, status, body, err)
	}
	var pushed struct {
		RequestURI string `json:"request_uri"`
	}
	if err := json.Unmarshal(body, &pushed); err != nil {
		return fmt.Errorf("%s: PAR answer: %w", name, err)
	}
	resp, err := e.http.Get(endpoint("authorization_endpoint") + "?" + url.Values{"client_id": {c.ID}, "request_uri": {pushed.RequestURI}}.Encode())
	if err != nil {
		return fmt.Errorf("%s: authorization: %w", name, err)
	}
	resp.Body.Close()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil || loc.Query().Get("state") != name || loc.Query().Get("code") == "" {
		return fmt.Errorf("%s: authorization: %d to %q", name, resp.StatusCode, resp.Header.Get("Location"))
	}
	status, body, err = post(endpoint("token_endpoint"), url.Values{
		"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")},
		"redirect_uri": {c.RedirectURIs[0]}, "code_verifier": {verifier},
	})
	if err != nil || status != http.StatusOK {
		return fmt.Errorf("%s: token: %d %s %w", name, status, body, err)
	}
	var tokens struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.Unmarshal(body, &tokens); err != nil {
		return fmt.Errorf("%s: token answer: %w", name, err)
	}
	req, _ := http.NewRequest(http.MethodGet, endpoint("userinfo_endpoint"), nil)
	req.Header.Set("Authorization", "Bearer "+tokens.AccessToken)
	resp, err = e.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s: userinfo: %w", name, err)
	}
	defer resp.Body.Close()
	var info map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || info["sub"] != "alice" {
		return fmt.Errorf("%s: userinfo: %d %v %w", name, resp.StatusCode, info, err)
	}
	return nil
}
