package oidctest_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parlogin/parlogin/oidctest"
)

// A FAPI 2.0 login: PAR with private_key_jwt, PKCE, iss in the response, a DPoP-bound token, an
// ES256 ID token, and refresh tokens that are not rotated.
func TestFAPI2Flow(t *testing.T) {
	e := newEnv(t, func(s *oidctest.Server) { s.FAPI2 = true })
	for k, v := range map[string]any{
		"token_endpoint_auth_methods_supported":            []any{"private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []any{"PS256", "ES256", "EdDSA"},
		"revocation_endpoint_auth_methods_supported":       []any{"private_key_jwt"},
		"request_object_signing_alg_values_supported":      []any{"PS256", "ES256", "EdDSA"},
		"id_token_signing_alg_values_supported":            []any{"PS256", "ES256"},
		"dpop_signing_alg_values_supported":                []any{"ES256", "PS256", "EdDSA"},
		"authorization_response_iss_parameter_supported":   true,
		"require_pushed_authorization_requests":            true,
		"code_challenge_methods_supported":                 []any{"S256"},
	} {
		if !reflect.DeepEqual(e.meta[k], v) {
			t.Errorf("%s = %v, want %v", k, e.meta[k], v)
		}
	}
	// A client with no AuthMethod uses private_key_jwt.
	c := e.addKeyClient(testKey{alg: "ES256", kid: "k", key: ecKey()}, func(c *oidctest.Client) { c.AuthMethod = "" })
	k := dpopES()
	params, verifier := e.authParams(c)
	params.Set("scope", "openid offline_access")
	got := e.login(c, params)
	if got.Get("iss") != e.srv.Issuer || got.Get("code") == "" {
		t.Fatalf("authorization response %v, want a code and iss", got)
	}
	resp, body := e.tokenDPoP(c, codeForm(got.Get("code"), verifier), e.tokenProof(k, ""))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: status %d: %s", resp.StatusCode, body)
	}
	tokens := decodeJSON(t, body)
	if tokens["token_type"] != "DPoP" {
		t.Errorf("token_type %v, want DPoP", tokens["token_type"])
	}
	claims, _ := e.verifyJWT(tokens["id_token"].(string), "ES256")
	if claims["aud"] != c.ID || claims["nonce"] != params.Get("nonce") {
		t.Errorf("ID token claims %v", claims)
	}
	refresh := tokens["refresh_token"].(string)
	for i := range 2 {
		resp, body = e.tokenDPoP(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}, e.tokenProof(k, ""))
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("refresh %d: status %d: %s", i, resp.StatusCode, body)
		}
		if _, ok := decodeJSON(t, body)["refresh_token"]; ok {
			t.Errorf("refresh %d: a new refresh token, but FAPI 2.0 forbids rotation", i)
		}
	}
}

// Each FAPI 2.0 requirement fails on its own.
func TestFAPI2Refusals(t *testing.T) {
	e := newEnv(t, func(s *oidctest.Server) { s.FAPI2 = true })
	es := testKey{alg: "ES256", kid: "k", key: ecKey()}
	k := dpopES()
	push := func(e *env, c oidctest.Client, edit func(p url.Values), assertion string) (int, []byte) {
		params, _ := e.authParams(c)
		if edit != nil {
			edit(params)
		}
		if assertion != "" {
			params.Set("client_assertion_type", jwtBearer)
			params.Set("client_assertion", assertion)
		}
		return e.par(c, params)
	}
	tests := []struct {
		name       string
		register   func(c *oidctest.Client)
		assertion  func(e *env, c oidctest.Client) string
		edit       func(p url.Values)
		wantStatus int
		wantCode   string
		why        string
	}{
		{name: "client_secret_jwt", register: func(c *oidctest.Client) { c.AuthMethod = "client_secret_jwt"; c.Keys = nil },
			assertion: func(e *env, c oidctest.Client) string {
				return sign(e.t, jwt.SigningMethodHS256, []byte(c.Secret), e.assertionClaims(c))
			}, wantStatus: 401, wantCode: "invalid_client", why: "private_key_jwt"},
		{name: "RS256 assertion", register: func(c *oidctest.Client) { c.Keys = []oidctest.ClientKey{{ID: "k", Key: rsaKey().Public()}} },
			assertion: func(e *env, c oidctest.Client) string {
				return testKey{alg: "RS256", kid: "k", key: rsaKey()}.sign(e.t, e.assertionClaims(c))
			}, wantStatus: 401, wantCode: "invalid_client", why: "PS256, ES256, EdDSA"},
		{name: "aud an array", assertion: func(e *env, c oidctest.Client) string {
			claims := e.assertionClaims(c)
			claims["aud"] = []string{e.srv.Issuer}
			return es.sign(e.t, claims)
		}, wantStatus: 401, wantCode: "invalid_client", why: "single string"},
		{name: "aud the PAR endpoint", assertion: func(e *env, c oidctest.Client) string {
			claims := e.assertionClaims(c)
			claims["aud"] = e.endpoint("pushed_authorization_request_endpoint")
			return es.sign(e.t, claims)
		}, wantStatus: 401, wantCode: "invalid_client", why: "aud"},
		{name: "IDTokenAlg RS256", register: func(c *oidctest.Client) { c.IDTokenAlg = "RS256" }, wantStatus: 401, wantCode: "invalid_client", why: "IDTokenAlg"},
		{name: "JWKSURI over http", register: func(c *oidctest.Client) { c.Keys, c.JWKSURI = nil, "http://127.0.0.1:1/jwks" }, wantStatus: 401, wantCode: "invalid_client", why: "https"},
		{name: "http redirect_uri", register: func(c *oidctest.Client) { c.RedirectURIs = []string{"http://app.example/cb"} }, wantStatus: 400, wantCode: "invalid_request", why: "loopback"},
		{name: "http redirect_uri on localhost", register: func(c *oidctest.Client) { c.RedirectURIs = []string{"http://localhost:8080/cb"} }, wantStatus: 400, wantCode: "invalid_request", why: "loopback"},
		{name: "http redirect_uri on a loopback address", register: func(c *oidctest.Client) { c.RedirectURIs = []string{"http://127.0.0.1:8080/cb"} }, wantStatus: 201},
		{name: "plain PKCE", edit: func(p url.Values) { p.Set("code_challenge_method", "plain") }, wantStatus: 400, wantCode: "invalid_request", why: "S256"},
		{name: "RS256 request object", edit: func(p url.Values) {
			claims := jwt.MapClaims{"iss": p.Get("client_id"), "aud": e.srv.Issuer, "exp": e.clock.Now().Add(time.Minute).Unix()}
			for name := range p {
				claims[name] = p.Get(name)
			}
			for name := range p {
				if name != "client_id" {
					p.Del(name)
				}
			}
			p.Set("request", testKey{alg: "RS256", kid: "k", key: rsaKey()}.sign(e.t, claims))
		}, wantStatus: 400, wantCode: "invalid_request_object", why: "PS256, ES256, EdDSA"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			c := e.addKeyClient(es, tc.register)
			assertion := ""
			if tc.assertion != nil {
				assertion = tc.assertion(e, c)
			}
			status, body := push(e, c, tc.edit, assertion)
			if tc.wantCode == "" {
				if status != tc.wantStatus {
					t.Fatalf("status %d, want %d: %s", status, tc.wantStatus, body)
				}
				return
			}
			wantOAuthError(t, status, body, tc.wantStatus, tc.wantCode)
			if !strings.Contains(string(body), tc.why) {
				t.Errorf("error_description does not say %q: %s", tc.why, body)
			}
		})
	}
	t.Run("token request without DPoP", func(t *testing.T) {
		e := e.with(t)
		c := e.addKeyClient(es, nil)
		code, _, verifier := e.code(c, nil)
		resp, body := e.tokenDPoP(c, codeForm(code, verifier))
		wantOAuthError(t, resp.StatusCode, body, http.StatusBadRequest, "invalid_request")
		if resp, body := e.tokenDPoP(c, codeForm(code, verifier), e.tokenProof(k, "")); resp.StatusCode != http.StatusOK {
			t.Fatalf("then with a proof: status %d: %s", resp.StatusCode, body)
		}
	})
	t.Run("code after 61 s", func(t *testing.T) {
		e := e.with(t)
		c := e.addKeyClient(es, nil)
		code, _, verifier := e.code(c, nil)
		e.clock.Advance(61 * time.Second)
		defer e.clock.Advance(-61 * time.Second)
		resp, body := e.tokenDPoP(c, codeForm(code, verifier), e.tokenProof(k, ""))
		wantOAuthError(t, resp.StatusCode, body, http.StatusBadRequest, "invalid_grant")
	})
}

// Client.FAPI2 holds one client to FAPI 2.0 and leaves the others alone.
func TestClientFAPI2(t *testing.T) {
	e := newEnv(t)
	c := e.addKeyClient(testKey{alg: "PS256", kid: "k", key: rsaKey()}, func(c *oidctest.Client) { c.FAPI2, c.AuthMethod = true, "" })
	code, _, verifier := e.code(c, nil)
	resp, body := e.tokenDPoP(c, codeForm(code, verifier))
	wantOAuthError(t, resp.StatusCode, body, http.StatusBadRequest, "invalid_request")
	resp, body = e.tokenDPoP(c, codeForm(code, verifier), e.tokenProof(dpopES(), ""))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("token: status %d: %s", resp.StatusCode, body)
	}
	e.verifyJWT(decodeJSON(t, body)["id_token"].(string), "ES256")

	rsClient := e.addKeyClient(testKey{alg: "RS256", kid: "k", key: rsaKey()}, func(c *oidctest.Client) { c.FAPI2, c.AuthMethod = true, "" })
	status, body := e.parWith(rsClient, e.assertion(rsClient))
	wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")

	// The server's other clients keep client_secret_jwt, Bearer tokens and RS256 ID tokens.
	code, _, verifier = e.code(e.client, nil)
	tokens := e.exchange(e.client, code, verifier)
	if tokens["token_type"] != "Bearer" {
		t.Errorf("token_type %v, want Bearer", tokens["token_type"])
	}
	e.verifyIDToken(tokens["id_token"].(string))
	if got := e.meta["token_endpoint_auth_methods_supported"]; !reflect.DeepEqual(got, []any{"client_secret_jwt", "private_key_jwt"}) {
		t.Errorf("token_endpoint_auth_methods_supported %v", got)
	}
}

func TestFAPI2PingOnePanics(t *testing.T) {
	srv := oidctest.NewUnstartedServer()
	srv.EnvID, srv.FAPI2 = "env", true
	defer srv.Close()
	defer func() {
		if recover() == nil {
			t.Error("Start with FAPI2 and EnvID did not panic")
		}
	}()
	srv.Start()
}
