package oidctest_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parlogin/parlogin/oidctest"
)

func TestPARAnswer(t *testing.T) {
	tests := []struct {
		name    string
		envID   string
		pattern string
	}{
		{"plain", "", requestURIPattern},
		{"PingOne", "env-1", `^urn:ietf:params:oauth:request_uri:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(s *oidctest.Server) { s.EnvID = tc.envID })
			params, _ := e.authParams(e.client)
			req := mustRequest(t, http.MethodPost, e.endpoint("pushed_authorization_request_endpoint"), strings.NewReader(merge(params, e.clientAuth(e.client)).Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
			resp, body := e.do(req)
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("status %d, want 201: %s", resp.StatusCode, body)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q, want no-store", got)
			}
			if got := resp.Header.Get("Content-Type"); got != "application/json" {
				t.Errorf("Content-Type %q, want application/json", got)
			}
			m := decodeJSON(t, body)
			if len(m) != 2 || m["expires_in"] != float64(60) {
				t.Errorf("answer %s, want request_uri and expires_in 60", body)
			}
			uri, _ := m["request_uri"].(string)
			if !regexp.MustCompile(tc.pattern).MatchString(uri) {
				t.Errorf("request_uri %q does not match %s", uri, tc.pattern)
			}
		})
	}
}

func TestPARValidation(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name       string
		edit       func(url.Values)
		wantStatus int // 0: 201
		wantCode   string
	}{
		{name: "valid", edit: func(url.Values) {}},
		{name: "prompt and max_age", edit: func(p url.Values) { p.Set("prompt", "login consent"); p.Set("max_age", "0") }},
		{name: "response_mode query", edit: func(p url.Values) { p.Set("response_mode", "query") }},
		{name: "response_mode form_post", edit: func(p url.Values) { p.Set("response_mode", "form_post") }},
		{name: "extra parameters", edit: func(p url.Values) { p.Set("login_hint", "bob"); p.Set("mobilePayload", "x") }},
		{name: "128-character code_challenge", edit: func(p url.Values) { p.Set("code_challenge", strings.Repeat("a", 128)) }},
		{name: "no state or nonce", edit: func(p url.Values) { p.Del("state"); p.Del("nonce") }},

		{name: "request_uri", edit: func(p url.Values) { p.Set("request_uri", "urn:ietf:params:oauth:request_uri:x") }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "repeated parameter", edit: func(p url.Values) { p.Add("state", "again") }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "no response_type", edit: func(p url.Values) { p.Del("response_type") }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "response_type token", edit: func(p url.Values) { p.Set("response_type", "token") }, wantStatus: 400, wantCode: "unsupported_response_type"},
		{name: "response_type code id_token", edit: func(p url.Values) { p.Set("response_type", "code id_token") }, wantStatus: 400, wantCode: "unsupported_response_type"},
		{name: "no redirect_uri", edit: func(p url.Values) { p.Del("redirect_uri") }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "unregistered redirect_uri", edit: func(p url.Values) { p.Set("redirect_uri", "https://evil.example/cb") }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "redirect_uri with a trailing slash", edit: func(p url.Values) { p.Set("redirect_uri", redirectURI+"/") }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "no scope", edit: func(p url.Values) { p.Del("scope") }, wantStatus: 400, wantCode: "invalid_scope"},
		{name: "scope without openid", edit: func(p url.Values) { p.Set("scope", "profile email") }, wantStatus: 400, wantCode: "invalid_scope"},
		{name: "no code_challenge", edit: func(p url.Values) { p.Del("code_challenge") }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "short code_challenge", edit: func(p url.Values) { p.Set("code_challenge", strings.Repeat("a", 42)) }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "long code_challenge", edit: func(p url.Values) { p.Set("code_challenge", strings.Repeat("a", 129)) }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "code_challenge with padding", edit: func(p url.Values) { p.Set("code_challenge", strings.Repeat("a", 43)+"=") }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "code_challenge_method plain", edit: func(p url.Values) { p.Set("code_challenge_method", "plain") }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "no code_challenge_method", edit: func(p url.Values) { p.Del("code_challenge_method") }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "response_mode fragment", edit: func(p url.Values) { p.Set("response_mode", "fragment") }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "negative max_age", edit: func(p url.Values) { p.Set("max_age", "-1") }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "max_age with a sign", edit: func(p url.Values) { p.Set("max_age", "+5") }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "max_age not a number", edit: func(p url.Values) { p.Set("max_age", "soon") }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "max_age overflows", edit: func(p url.Values) { p.Set("max_age", "99999999999999999999") }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "unknown prompt", edit: func(p url.Values) { p.Set("prompt", "create") }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "prompt none with login", edit: func(p url.Values) { p.Set("prompt", "none login") }, wantStatus: 400, wantCode: "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			params, _ := e.authParams(e.client)
			tc.edit(params)
			status, body := e.par(e.client, params)
			if tc.wantStatus == 0 {
				if status != http.StatusCreated {
					t.Errorf("status %d, want 201: %s", status, body)
				}
				return
			}
			wantOAuthError(t, status, body, tc.wantStatus, tc.wantCode)
		})
	}
}

func TestBackChannelRequestFormat(t *testing.T) {
	e := newEnv(t)
	valid := func() string {
		params, _ := e.authParams(e.client)
		return merge(params, e.clientAuth(e.client)).Encode()
	}
	tests := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int
	}{
		{"JSON body", "application/json", `{"response_type":"code"}`, http.StatusBadRequest},
		{"no content type", "", valid(), http.StatusBadRequest},
		{"multipart", "multipart/form-data; boundary=x", "--x--", http.StatusBadRequest},
		{"malformed form", "application/x-www-form-urlencoded", "a=%zz", http.StatusBadRequest},
		{"body over 1 MB", "application/x-www-form-urlencoded", valid() + "&pad=" + strings.Repeat("a", 1<<20), http.StatusRequestEntityTooLarge},
	}
	for _, endpoint := range []string{"pushed_authorization_request_endpoint", "token_endpoint"} {
		for _, tc := range tests {
			t.Run(endpoint+"/"+tc.name, func(t *testing.T) {
				e := e.with(t)
				req := mustRequest(t, http.MethodPost, e.endpoint(endpoint), strings.NewReader(tc.body))
				if tc.contentType != "" {
					req.Header.Set("Content-Type", tc.contentType)
				}
				resp, body := e.do(req)
				wantOAuthError(t, resp.StatusCode, body, tc.wantStatus, "invalid_request")
			})
		}
	}
}

func TestPARRequestObject(t *testing.T) {
	e := newEnv(t)
	hs384Only := e.addClient(oidctest.Client{AuthAlg: "HS384"})
	now := e.clock.Now()

	// object returns the claims of a valid request object for c: the authorization parameters,
	// with max_age as a number, plus iss, aud and exp.
	object := func(c oidctest.Client) jwt.MapClaims {
		params, _ := e.authParams(c)
		claims := jwt.MapClaims{"iss": c.ID, "aud": e.srv.Issuer, "exp": now.Add(time.Minute).Unix(), "max_age": 300}
		for k := range params {
			claims[k] = params.Get(k)
		}
		return claims
	}
	tests := []struct {
		name     string
		client   oidctest.Client
		method   jwt.SigningMethod
		key      func(oidctest.Client) []byte
		edit     func(jwt.MapClaims)
		wantCode string // "": 201
	}{
		{name: "valid"},
		{name: "HS512", method: jwt.SigningMethodHS512},
		{name: "aud array", edit: func(c jwt.MapClaims) { c["aud"] = []string{e.srv.Issuer, "https://x.example"} }},
		{name: "no client_id claim", edit: func(c jwt.MapClaims) { delete(c, "client_id") }},
		{name: "HS384 for a client registered for it", client: hs384Only, method: jwt.SigningMethodHS384},

		{name: "wrong secret", key: func(oidctest.Client) []byte { return []byte("guess") }, wantCode: "invalid_request_object"},
		{name: "HS256 for a client registered for HS384", client: hs384Only, wantCode: "invalid_request_object"},
		{name: "iss is another client", edit: func(c jwt.MapClaims) { c["iss"] = "someone" }, wantCode: "invalid_request_object"},
		{name: "no iss", edit: func(c jwt.MapClaims) { delete(c, "iss") }, wantCode: "invalid_request_object"},
		{name: "aud is the PAR endpoint", edit: func(c jwt.MapClaims) { c["aud"] = e.endpoint("pushed_authorization_request_endpoint") }, wantCode: "invalid_request_object"},
		{name: "no aud", edit: func(c jwt.MapClaims) { delete(c, "aud") }, wantCode: "invalid_request_object"},
		{name: "no exp", edit: func(c jwt.MapClaims) { delete(c, "exp") }, wantCode: "invalid_request_object"},
		{name: "expired", edit: func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() }, wantCode: "invalid_request_object"},
		{name: "client_id claim of another client", edit: func(c jwt.MapClaims) { c["client_id"] = "someone" }, wantCode: "invalid_request_object"},
		{name: "request_uri claim", edit: func(c jwt.MapClaims) { c["request_uri"] = "urn:x" }, wantCode: "invalid_request_object"},
		{name: "nested request claim", edit: func(c jwt.MapClaims) { c["request"] = "a.b.c" }, wantCode: "invalid_request_object"},
		{name: "no code_challenge", edit: func(c jwt.MapClaims) { delete(c, "code_challenge") }, wantCode: "invalid_request"},
		{name: "max_age not an integer", edit: func(c jwt.MapClaims) { c["max_age"] = 1.5 }, wantCode: "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			c := tc.client
			if c.ID == "" {
				c = e.client
			}
			method := tc.method
			if method == nil {
				method = jwt.SigningMethodHS256
			}
			key := []byte(c.Secret)
			if tc.key != nil {
				key = tc.key(c)
			}
			claims := object(c)
			if tc.edit != nil {
				tc.edit(claims)
			}
			// Outer parameters other than client authentication are ignored.
			form := merge(e.clientAuth(c), url.Values{
				"request":      {sign(t, method, key, claims)},
				"client_id":    {c.ID},
				"redirect_uri": {"https://evil.example/cb"},
				"state":        {"outer"},
			})
			status, body := e.par(c, form)
			if tc.wantCode != "" {
				wantOAuthError(t, status, body, http.StatusBadRequest, tc.wantCode)
				return
			}
			if status != http.StatusCreated {
				t.Fatalf("status %d, want 201: %s", status, body)
			}
			uri, _ := decodeJSON(t, body)["request_uri"].(string)
			resp, body := e.authorize(c, uri)
			got := redirectParams(t, resp, body, redirectURI)
			if got.Get("state") != claims["state"] {
				t.Errorf("state %q, want the request object's %q", got.Get("state"), claims["state"])
			}
		})
	}
}
