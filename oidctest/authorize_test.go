package oidctest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/parlogin/parlogin/oidctest"
)

func TestAuthorizationCodeFlow(t *testing.T) {
	tests := []struct {
		name  string
		envID string
	}{
		{"plain", ""},
		{"PingOne", "9d2f6c1e-5b4a-4e3d-8c7b-6a5f4e3d2c1b"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(s *oidctest.Server) { s.EnvID = tc.envID })
			now := e.clock.Now()
			params, verifier := e.authParams(e.client)
			resp, body := e.authorize(e.client, e.push(e.client, params))
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("authorization response Cache-Control %q, want no-store", got)
			}
			got := redirectParams(t, resp, body, redirectURI)
			if len(got.Get("code")) < 22 || got.Get("state") != params.Get("state") || got.Get("iss") != e.wantIss() || len(got) != len(e.withIss(url.Values{"code": nil, "state": nil})) {
				t.Fatalf("authorization response %v, want code, state %s and iss %q", got, params.Get("state"), e.wantIss())
			}

			form := merge(e.clientAuth(e.client), url.Values{
				"grant_type":    {"authorization_code"},
				"code":          {got.Get("code")},
				"redirect_uri":  {redirectURI},
				"code_verifier": {verifier},
			})
			req := mustRequest(t, http.MethodPost, e.endpoint("token_endpoint"), strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, body = e.do(req)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("token: status %d: %s", resp.StatusCode, body)
			}
			if got := resp.Header.Get("Cache-Control"); got != "no-store" {
				t.Errorf("token response Cache-Control %q, want no-store", got)
			}
			tokens := decodeJSON(t, body)
			access, _ := tokens["access_token"].(string)
			if access == "" || tokens["token_type"] != "Bearer" || tokens["expires_in"] != float64(3600) || tokens["scope"] != "openid profile email" {
				t.Errorf("token response %s, want access_token, token_type Bearer, expires_in 3600, scope", body)
			}
			if _, ok := tokens["refresh_token"]; ok {
				t.Error("refresh_token issued without offline_access")
			}

			claims, header := e.verifyIDToken(tokens["id_token"].(string))
			kid, _ := e.srv.SigningKey()
			if header["kid"] != kid || header["typ"] != "JWT" || header["alg"] != "RS256" {
				t.Errorf("ID token header %v, want kid %s, typ JWT, alg RS256", header, kid)
			}
			sum := sha256.Sum256([]byte(access))
			want := map[string]any{
				"iss":            e.srv.Issuer,
				"sub":            "alice",
				"aud":            e.client.ID,
				"exp":            float64(now.Add(time.Hour).Unix()),
				"iat":            float64(now.Unix()),
				"auth_time":      float64(now.Unix()),
				"nonce":          params.Get("nonce"),
				"at_hash":        base64.RawURLEncoding.EncodeToString(sum[:16]),
				"name":           "Alice Example",
				"email":          "alice@example.com",
				"email_verified": true,
			}
			if amr, _ := claims["amr"].([]any); len(amr) != 1 || amr[0] != "pwd" {
				t.Errorf("ID token amr %v, want [pwd]", claims["amr"])
			}
			for k, v := range want {
				if claims[k] != v {
					t.Errorf("ID token %s = %v, want %v", k, claims[k], v)
				}
			}
			if sid, _ := claims["sid"].(string); sid == "" {
				t.Error("ID token has no sid")
			}
			if _, ok := claims["acr"]; ok {
				t.Errorf("ID token has acr %v without acr_values or a user acr", claims["acr"])
			}

			resp, body = e.userinfo(access)
			info := decodeJSON(t, body)
			if resp.StatusCode != http.StatusOK || info["sub"] != "alice" || info["email"] != "alice@example.com" || info["name"] != "Alice Example" {
				t.Errorf("userinfo: status %d: %s", resp.StatusCode, body)
			}
		})
	}
}

func TestAuthorizationErrors(t *testing.T) {
	e := newEnv(t)
	twoURIs := e.addClient(oidctest.Client{RedirectURIs: []string{redirectURI, "https://app.example/other"}})
	other := e.addClient(oidctest.Client{})
	pushed := func(c oidctest.Client) string {
		params, _ := e.authParams(c)
		return e.push(c, params)
	}
	used := pushed(e.client)
	e.authorize(e.client, used)

	tests := []struct {
		name     string
		method   string
		query    func() url.Values
		wantPage string // a 400 page with this text; otherwise a redirect with invalid_request_uri
	}{
		{name: "no request_uri", query: func() url.Values { return url.Values{"client_id": {e.client.ID}} }, wantPage: "request_uri is required"},
		{name: "no client_id", query: func() url.Values { return url.Values{"request_uri": {pushed(e.client)}} }, wantPage: "client_id is required"},
		{name: "unknown client", query: func() url.Values { return url.Values{"client_id": {"nobody"}, "request_uri": {pushed(e.client)}} }, wantPage: "not a registered client"},
		{name: "repeated parameter", query: func() url.Values {
			return url.Values{"client_id": {e.client.ID, e.client.ID}, "request_uri": {pushed(e.client)}}
		}, wantPage: "repeated"},
		{name: "unknown request_uri", query: func() url.Values {
			return url.Values{"client_id": {e.client.ID}, "request_uri": {"urn:ietf:params:oauth:request_uri:nope"}}
		}},
		{name: "used request_uri", query: func() url.Values { return url.Values{"client_id": {e.client.ID}, "request_uri": {used}} }},
		{name: "request_uri of another client", query: func() url.Values {
			return url.Values{"client_id": {e.client.ID}, "request_uri": {pushed(other)}}
		}},
		{name: "unknown request_uri for a client with two redirect URIs", query: func() url.Values {
			return url.Values{"client_id": {twoURIs.ID}, "request_uri": {"urn:ietf:params:oauth:request_uri:nope"}}
		}, wantPage: "request_uri is unknown"},
		{name: "unknown request_uri by POST", method: http.MethodPost, query: func() url.Values {
			return url.Values{"client_id": {e.client.ID}, "request_uri": {"urn:ietf:params:oauth:request_uri:nope"}}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			var req *http.Request
			if tc.method == http.MethodPost {
				req = mustRequest(t, http.MethodPost, e.endpoint("authorization_endpoint"), strings.NewReader(tc.query().Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			} else {
				req = mustRequest(t, http.MethodGet, e.endpoint("authorization_endpoint")+"?"+tc.query().Encode(), nil)
			}
			resp, body := e.do(req)
			if tc.wantPage != "" {
				wantPage(t, resp, body, http.StatusBadRequest, tc.wantPage)
				return
			}
			got := redirectParams(t, resp, body, redirectURI)
			if got.Get("error") != "invalid_request_uri" || got.Get("error_description") == "" || got.Get("iss") != e.srv.Issuer || got.Has("state") {
				t.Errorf("redirect with %v, want error invalid_request_uri, a description, iss and no state", got)
			}
		})
	}
}

func TestRequestURIExpiry(t *testing.T) {
	e := newEnv(t)
	params, _ := e.authParams(e.client)
	early := e.push(e.client, params)
	e.clock.Advance(60 * time.Second)
	late := e.push(e.client, params)
	if got := e.authorizeParams(e.client, early); got.Get("code") == "" {
		t.Errorf("request_uri used after 60 s: %v, want a code", got)
	}
	e.clock.Advance(61 * time.Second)
	if got := e.authorizeParams(e.client, late); got.Get("error") != "invalid_request_uri" {
		t.Errorf("request_uri used after 61 s: %v, want invalid_request_uri", got)
	}
}

func TestFormPost(t *testing.T) {
	e := newEnv(t)
	params, _ := e.authParams(e.client)
	params.Set("response_mode", "form_post")
	resp, body := e.authorize(e.client, e.push(e.client, params))
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", resp.StatusCode, body)
	}
	for header, want := range map[string]string{"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"} {
		if got := resp.Header.Get(header); got != want {
			t.Errorf("%s %q, want %q", header, got, want)
		}
	}
	page := string(body)
	for _, want := range []string{`<form method="post" action="` + redirectURI + `">`, "<noscript>", `<button type="submit">`, "document.forms[0].submit()"} {
		if !strings.Contains(page, want) {
			t.Errorf("form_post page lacks %s:\n%s", want, page)
		}
	}
	fields := hiddenFields(page)
	if fields.Get("code") == "" || fields.Get("state") != params.Get("state") || fields.Get("iss") != e.srv.Issuer || len(fields) != 3 {
		t.Errorf("form_post fields %v, want code, state and iss", fields)
	}
}

func TestLoginForm(t *testing.T) {
	tests := []struct {
		name       string
		envID      string
		actionPath string
	}{
		{"plain", "", "/authorize"},
		{"PingOne", "env-42", "/env-42/as/authorize"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(s *oidctest.Server) { s.LoginForm = true; s.EnvID = tc.envID })
			e.srv.AddUser(oidctest.User{Subject: "bob", Claims: map[string]any{"name": "Bob Builder", "email": "bob@example.org", "groups": []string{"builders"}}})

			signIn := func(username string) map[string]any {
				t.Helper()
				params, verifier := e.authParams(e.client)
				resp, body := e.submitLogin(tc.actionPath, e.showLoginForm(params, tc.actionPath), username)
				got := redirectParams(t, resp, body, redirectURI)
				if got.Get("state") != params.Get("state") || got.Get("iss") != e.wantIss() {
					t.Errorf("authorization response %v, want state and iss %q", got, e.wantIss())
				}
				claims, _ := e.verifyIDToken(e.exchange(e.client, got.Get("code"), verifier)["id_token"].(string))
				return claims
			}

			if claims := signIn("bob"); claims["sub"] != "bob" || claims["name"] != "Bob Builder" || claims["email"] != "bob@example.org" {
				t.Errorf("registered user: ID token %v, want bob's claims", claims)
			}
			if claims := signIn("carol"); claims["sub"] != "carol" || claims["email"] != "carol@example.com" || claims["name"] != "carol" {
				t.Errorf("unregistered user: ID token %v, want generated claims for carol", claims)
			}
			if claims := signIn("alice"); claims["sub"] != "alice" || claims["name"] != "Alice Example" {
				t.Errorf("default user: ID token %v, want alice's claims", claims)
			}

			t.Run("empty username shows the form again", func(t *testing.T) {
				e := e.with(t)
				params, _ := e.authParams(e.client)
				interaction := e.showLoginForm(params, tc.actionPath)
				resp, body := e.submitLogin(tc.actionPath, interaction, "  ")
				wantPage(t, resp, body, http.StatusUnprocessableEntity, "Enter a username.")
				resp, body = e.submitLogin(tc.actionPath, interaction, "dave")
				if got := redirectParams(t, resp, body, redirectURI); got.Get("code") == "" {
					t.Errorf("second submission: %v, want a code", got)
				}
			})
			t.Run("interaction is single use", func(t *testing.T) {
				e := e.with(t)
				params, _ := e.authParams(e.client)
				interaction := e.showLoginForm(params, tc.actionPath)
				e.submitLogin(tc.actionPath, interaction, "erin")
				resp, body := e.submitLogin(tc.actionPath, interaction, "erin")
				wantPage(t, resp, body, http.StatusBadRequest, "expired or was already submitted")
			})
			t.Run("unknown interaction", func(t *testing.T) {
				e := e.with(t)
				resp, body := e.submitLogin(tc.actionPath, "nope", "erin")
				wantPage(t, resp, body, http.StatusBadRequest, "expired or was already submitted")
			})
			t.Run("interaction by GET", func(t *testing.T) {
				e := e.with(t)
				resp, body := e.do(mustRequest(t, http.MethodGet, e.srv.URL+tc.actionPath+"?interaction=x&username=erin", nil))
				wantPage(t, resp, body, http.StatusBadRequest, "POST")
			})
			t.Run("prompt none", func(t *testing.T) {
				e := e.with(t)
				params, _ := e.authParams(e.client)
				params.Set("prompt", "none")
				got := e.login(e.client, params)
				if got.Get("error") != "login_required" || got.Get("state") != params.Get("state") || got.Get("iss") != e.wantIss() {
					t.Errorf("prompt=none: %v, want login_required with state and iss %q", got, e.wantIss())
				}
			})
			t.Run("escaping", func(t *testing.T) {
				e := e.with(t)
				e.srv.SetUser(oidctest.User{Subject: `"><script>alert(1)</script>`})
				defer e.srv.SetUser(oidctest.User{Subject: "alice", Claims: map[string]any{"name": "Alice Example", "email": "alice@example.com", "email_verified": true}})
				params, _ := e.authParams(e.client)
				_, body := e.authorize(e.client, e.push(e.client, params))
				if strings.Contains(string(body), "<script>") || !strings.Contains(string(body), "&lt;script&gt;") {
					t.Errorf("the username is not escaped:\n%s", body)
				}
			})
		})
	}
}

func TestAuthorizationResponseHook(t *testing.T) {
	e := newEnv(t)
	e.srv.SetAuthorizationResponseHook(func(p url.Values) {
		p.Del("iss")
		p.Set("state", "tampered")
		p.Set("junk", "1")
	})
	params, _ := e.authParams(e.client)
	got := e.login(e.client, params)
	if got.Has("iss") || got.Get("state") != "tampered" || got.Get("junk") != "1" || got.Get("code") == "" {
		t.Errorf("hooked response %v, want no iss, state tampered, junk and a code", got)
	}

	e.srv.SetAuthorizationResponseHook(nil)
	params, _ = e.authParams(e.client)
	if got := e.login(e.client, params); got.Get("iss") != e.srv.Issuer || got.Get("state") != params.Get("state") {
		t.Errorf("after removing the hook: %v, want iss and state", got)
	}
}

func TestAuthenticationContext(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name      string
		acrValues string
		user      oidctest.User
		wantACR   any
		wantAMR   []any
	}{
		{name: "acr_values: the first is asserted", acrValues: "urn:acr:mfa urn:acr:pwd", wantACR: "urn:acr:mfa", wantAMR: []any{"pwd"}},
		{name: "fixed ACR below the requested one", acrValues: "urn:acr:mfa", user: oidctest.User{ACR: "urn:acr:pwd"}, wantACR: "urn:acr:pwd", wantAMR: []any{"pwd"}},
		{name: "fixed ACR without acr_values", user: oidctest.User{ACR: "urn:acr:pwd"}, wantACR: "urn:acr:pwd", wantAMR: []any{"pwd"}},
		{name: "fixed AMR", acrValues: "urn:acr:mfa", user: oidctest.User{AMR: []string{"pwd", "otp", "mfa"}}, wantACR: "urn:acr:mfa", wantAMR: []any{"pwd", "otp", "mfa"}},
		{name: "acr_values win over Claims[acr]", acrValues: "urn:acr:mfa", user: oidctest.User{Claims: map[string]any{"acr": "urn:acr:user"}}, wantACR: "urn:acr:mfa", wantAMR: []any{"pwd"}},
		{name: "Claims[acr] without acr_values", user: oidctest.User{Claims: map[string]any{"acr": "urn:acr:user", "amr": []string{"ignored"}}}, wantACR: "urn:acr:user", wantAMR: []any{"pwd"}},
		{name: "nothing requested", wantACR: nil, wantAMR: []any{"pwd"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			tc.user.Subject = "alice"
			e.srv.SetUser(tc.user)
			signedIn := e.clock.Now()
			code, _, verifier := e.code(e.client, func(p url.Values) {
				if tc.acrValues != "" {
					p.Set("acr_values", tc.acrValues)
				}
			})
			e.clock.Advance(30 * time.Second) // the code is redeemed after the sign-in
			claims, _ := e.verifyIDToken(e.exchange(e.client, code, verifier)["id_token"].(string))
			if claims["acr"] != tc.wantACR {
				t.Errorf("acr %v, want %v", claims["acr"], tc.wantACR)
			}
			if !reflect.DeepEqual(claims["amr"], tc.wantAMR) {
				t.Errorf("amr %v, want %v", claims["amr"], tc.wantAMR)
			}
			if claims["auth_time"] != float64(signedIn.Unix()) || claims["iat"] != float64(signedIn.Unix()+30) {
				t.Errorf("auth_time %v and iat %v, want the sign-in time %d and the token time %d", claims["auth_time"], claims["iat"], signedIn.Unix(), signedIn.Unix()+30)
			}
		})
	}
}

// authorizeParams visits the authorization endpoint and returns the parameters of the redirect
// to the client.
func (e *env) authorizeParams(c oidctest.Client, requestURI string) url.Values {
	e.t.Helper()
	resp, body := e.authorize(c, requestURI)
	return redirectParams(e.t, resp, body, c.RedirectURIs[0])
}

// showLoginForm pushes params, checks the login page shown and returns its interaction id.
func (e *env) showLoginForm(params url.Values, actionPath string) string {
	e.t.Helper()
	uri := e.push(e.client, params)
	resp, body := e.authorize(e.client, uri)
	wantPage(e.t, resp, body, http.StatusOK, "<title>Sign in — oidctest</title>")
	page := string(body)
	for _, want := range []string{`<form method="post" action="` + actionPath + `">`, `name="username" value="alice"`, `<button type="submit">Sign in</button>`} {
		if !strings.Contains(page, want) {
			e.t.Errorf("login page lacks %s:\n%s", want, page)
		}
	}
	// The request_uri was used when the form was shown.
	if got := e.authorizeParams(e.client, uri); got.Get("error") != "invalid_request_uri" {
		e.t.Errorf("request_uri reused after the form was shown: %v, want invalid_request_uri", got)
	}
	return hiddenFields(page).Get("interaction")
}

// submitLogin posts the login form.
func (e *env) submitLogin(actionPath, interaction, username string) (*http.Response, []byte) {
	e.t.Helper()
	form := url.Values{"interaction": {interaction}, "username": {username}}
	req := mustRequest(e.t, http.MethodPost, e.srv.URL+actionPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(req)
}

// wantPage checks an HTML page answer.
func wantPage(t *testing.T, resp *http.Response, body []byte, status int, text string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status %d, want %d: %s", resp.StatusCode, status, body)
	}
	if got := resp.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q, want text/html", got)
	}
	if !strings.Contains(string(body), text) {
		t.Errorf("page lacks %q:\n%s", text, body)
	}
}

var hiddenField = regexp.MustCompile(`<input type="hidden" name="([^"]*)" value="([^"]*)">`)

// hiddenFields returns the hidden inputs of a page (their values are simple: no entities).
func hiddenFields(page string) url.Values {
	v := url.Values{}
	for _, m := range hiddenField.FindAllStringSubmatch(page, -1) {
		v.Add(m[1], m[2])
	}
	return v
}
