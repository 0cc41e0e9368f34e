package oidctest_test

import (
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/oidctest"
)

// pingOneEnvID is the environment ID of the PingOne-mode tests.
const pingOneEnvID = "abfba8f6-49eb-49f5-a5d9-80ad5c98f9f6"

// newPingOneEnv starts a provider in PingOne mode, after configure edits the unstarted server.
func newPingOneEnv(t *testing.T, configure ...func(*oidctest.Server)) *env {
	t.Helper()
	return newEnv(t, append([]func(*oidctest.Server){func(s *oidctest.Server) { s.EnvID = pingOneEnvID }}, configure...)...)
}

// TestPingOneDiscovery checks the whole document against PingOne's published example
// (developer.pingidentity.com, "Discovery OpenID Configuration"), with this server's URLs.
func TestPingOneDiscovery(t *testing.T) {
	e := newPingOneEnv(t)
	issuer := e.srv.URL + "/" + pingOneEnvID + "/as"
	if e.srv.Issuer != issuer {
		t.Fatalf("Issuer %q, want %q", e.srv.Issuer, issuer)
	}
	want := map[string]any{
		"issuer":                                           issuer,
		"authorization_endpoint":                           issuer + "/authorize",
		"pushed_authorization_request_endpoint":            issuer + "/par",
		"token_endpoint":                                   issuer + "/token",
		"userinfo_endpoint":                                issuer + "/userinfo",
		"jwks_uri":                                         issuer + "/jwks",
		"end_session_endpoint":                             issuer + "/signoff",
		"introspection_endpoint":                           issuer + "/introspect",
		"revocation_endpoint":                              issuer + "/revoke",
		"device_authorization_endpoint":                    issuer + "/device_authorization",
		"claims_parameter_supported":                       false,
		"request_parameter_supported":                      true,
		"request_uri_parameter_supported":                  false,
		"require_pushed_authorization_requests":            false,
		"scopes_supported":                                 []any{"openid", "profile", "email", "address", "phone"},
		"response_types_supported":                         []any{"code", "id_token", "token id_token", "code id_token", "code token", "code token id_token"},
		"response_modes_supported":                         []any{"pi.flow", "query", "fragment", "form_post"},
		"grant_types_supported":                            []any{"authorization_code", "implicit", "client_credentials", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"},
		"subject_types_supported":                          []any{"public"},
		"id_token_signing_alg_values_supported":            []any{"RS256"},
		"userinfo_signing_alg_values_supported":            []any{"none"},
		"request_object_signing_alg_values_supported":      []any{"none", "HS256", "HS384", "HS512", "RS256", "RS384", "RS512"},
		"token_endpoint_auth_methods_supported":            []any{"client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []any{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512"},
		"claim_types_supported":                            []any{"normal"},
		"claims_supported": []any{"sub", "iss", "auth_time", "acr", "name", "given_name", "family_name", "middle_name",
			"preferred_username", "profile", "picture", "zoneinfo", "phone_number", "updated_at", "address", "email", "locale"},
		"code_challenge_methods_supported": []any{"plain", "S256"},
	}
	if !reflect.DeepEqual(e.meta, want) {
		for k, v := range want {
			if !reflect.DeepEqual(e.meta[k], v) {
				t.Errorf("%s = %v, want %v", k, e.meta[k], v)
			}
		}
		for k, v := range e.meta {
			if _, ok := want[k]; !ok {
				t.Errorf("unexpected %s = %v", k, v)
			}
		}
	}
	e.wantRouted("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint", "pushed_authorization_request_endpoint", "revocation_endpoint")
}

// TestPingOneClientAssertion checks the checks of a client_secret_jwt assertion that PingOne
// documents ("Create a client secret JWT"): iss and sub the client ID, aud the issuer, the token
// endpoint or the endpoint called, exp required and at most one hour ahead, nbf not in the
// future, HS256/384/512; iat and jti not validated, unless StrictClientAssertions asks for
// oidctest's own checks.
func TestPingOneClientAssertion(t *testing.T) {
	for _, strict := range []bool{false, true} {
		t.Run(map[bool]string{false: "PingOne", true: "StrictClientAssertions"}[strict], func(t *testing.T) {
			e := newPingOneEnv(t, func(s *oidctest.Server) { s.StrictClientAssertions = strict })
			now := e.clock.Now()
			// strictOnly is the answer of a check PingOne does not make: accepted in PingOne's
			// mode, invalid_client with StrictClientAssertions.
			strictOnly := 0
			if strict {
				strictOnly = http.StatusUnauthorized
			}
			tests := []struct {
				name       string
				edit       func(jwt.MapClaims)
				wantStatus int // 0: accepted
			}{
				{name: "valid", edit: func(jwt.MapClaims) {}},
				{name: "aud is the PAR endpoint", edit: func(c jwt.MapClaims) { c["aud"] = e.endpoint("pushed_authorization_request_endpoint") }},
				{name: "aud is the token endpoint", edit: func(c jwt.MapClaims) { c["aud"] = e.endpoint("token_endpoint") }},
				{name: "no jti", edit: func(c jwt.MapClaims) { delete(c, "jti") }, wantStatus: strictOnly},
				{name: "jti is a number", edit: func(c jwt.MapClaims) { c["jti"] = 7 }, wantStatus: strictOnly},
				{name: "iat in the future", edit: func(c jwt.MapClaims) { c["iat"] = now.Add(time.Hour).Unix() }, wantStatus: strictOnly},
				{name: "aud is another URL", edit: func(c jwt.MapClaims) { c["aud"] = "https://auth.pingone.com/" + pingOneEnvID + "/as" }, wantStatus: 401},
				{name: "sub is not the client ID", edit: func(c jwt.MapClaims) { c["sub"] = "someone" }, wantStatus: 401},
				{name: "no exp", edit: func(c jwt.MapClaims) { delete(c, "exp") }, wantStatus: 401},
				{name: "expired", edit: func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Minute).Unix() }, wantStatus: 401},
				{name: "exp more than one hour ahead", edit: func(c jwt.MapClaims) { c["exp"] = now.Add(time.Hour + time.Minute).Unix() }, wantStatus: 401},
				{name: "nbf in the future", edit: func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Minute).Unix() }, wantStatus: 401},
			}
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					e := e.with(t)
					claims := e.assertionClaims(e.client)
					tc.edit(claims)
					auth := url.Values{"client_assertion_type": {jwtBearer}, "client_assertion": {sign(t, jwt.SigningMethodHS256, []byte(e.client.Secret), claims)}}
					params, _ := e.authParams(e.client)
					status, body := e.par(e.client, merge(params, auth))
					if tc.wantStatus == 0 {
						if status != http.StatusCreated {
							t.Errorf("status %d, want 201: %s", status, body)
						}
						return
					}
					wantOAuthError(t, status, body, tc.wantStatus, "invalid_client")
				})
			}

			t.Run("the same assertion twice", func(t *testing.T) {
				e := e.with(t)
				auth := e.clientAuth(e.client)
				params, _ := e.authParams(e.client)
				if status, body := e.par(e.client, merge(params, auth)); status != http.StatusCreated {
					t.Fatalf("first use: status %d: %s", status, body)
				}
				status, body := e.par(e.client, merge(params, auth))
				if strict {
					wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
				} else if status != http.StatusCreated {
					t.Errorf("second use: status %d, want 201 (PingOne does not validate jti): %s", status, body)
				}
			})
		})
	}
}

// TestPingOneRefreshTokens checks when PingOne issues refresh tokens ("Token (refresh_token)"):
// with the refresh_token grant type or the offline_access scope, rotated on every use, valid as
// long as the session, which ends at signoff or 30 days after the sign-on.
func TestPingOneRefreshTokens(t *testing.T) {
	e := newPingOneEnv(t)
	refreshing := e.addClient(oidctest.Client{GrantTypes: []string{"authorization_code", "refresh_token"}})
	tokensOf := func(c oidctest.Client, scope string) map[string]any {
		t.Helper()
		code, _, verifier := e.code(c, func(p url.Values) { p.Set("scope", scope) })
		return e.exchange(c, code, verifier)
	}

	if tokens := tokensOf(e.client, "openid profile"); tokens["refresh_token"] != nil {
		t.Errorf("refresh_token issued to a client without the refresh_token grant type nor offline_access: %v", tokens)
	}
	if tokens := tokensOf(e.client, "openid offline_access"); tokens["refresh_token"] == nil {
		t.Errorf("no refresh_token with offline_access: %v", tokens)
	}

	tokens := tokensOf(refreshing, "openid profile")
	first, _ := tokens["refresh_token"].(string)
	if first == "" {
		t.Fatalf("no refresh_token for a client with the refresh_token grant type: %v", tokens)
	}
	e.clock.Advance(29 * 24 * time.Hour)
	status, body := e.refreshWith(refreshing, first)
	if status != http.StatusOK {
		t.Fatalf("refresh after 29 days: status %d: %s", status, body)
	}
	second, _ := decodeJSON(t, body)["refresh_token"].(string)
	if second == "" || second == first {
		t.Fatalf("refresh answer %s, want a rotated refresh_token", body)
	}
	status, body = e.refreshWith(refreshing, first)
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
	// A refresh does not extend the session.
	e.clock.Advance(24*time.Hour + time.Second)
	status, body = e.refreshWith(refreshing, second)
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")

	t.Run("signoff ends the session and its refresh tokens", func(t *testing.T) {
		e := e.with(t)
		tokens := tokensOf(refreshing, "openid")
		resp, body := e.do(mustRequest(t, http.MethodGet, e.endpoint("end_session_endpoint")+"?"+url.Values{"id_token_hint": {tokens["id_token"].(string)}}.Encode(), nil))
		if resp.StatusCode >= 400 {
			t.Fatalf("signoff: status %d: %s", resp.StatusCode, body)
		}
		status, body := e.refreshWith(refreshing, tokens["refresh_token"].(string))
		wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
	})
}

// TestPingOneCodeLifetime checks PingOne's documented code lifetime: "An authorization code
// expires after 10 minutes."
func TestPingOneCodeLifetime(t *testing.T) {
	e := newPingOneEnv(t)
	code, _, verifier := e.code(e.client, nil)
	e.clock.Advance(10 * time.Minute)
	e.exchange(e.client, code, verifier)

	code, _, verifier = e.code(e.client, nil)
	e.clock.Advance(10*time.Minute + time.Second)
	status, body := e.token(e.client, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}})
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
}

// TestPingOneSignoff checks /signoff as PingOne's "Signoff" documents it: optional
// id_token_hint, post_logout_redirect_uri and state, no client_id, 302 Found, and PingOne's
// signed-off page when there is no post_logout_redirect_uri.
func TestPingOneSignoff(t *testing.T) {
	e := newPingOneEnv(t)
	other := e.addClient(oidctest.Client{PostLogoutRedirectURIs: []string{"https://other.example/bye"}})
	code, _, verifier := e.code(e.client, nil)
	hint := e.exchange(e.client, code, verifier)["id_token"].(string)
	kid, key := e.srv.SigningKey()
	forge := func(edit func(jwt.MapClaims)) string {
		claims := jwt.MapClaims{"iss": e.srv.Issuer, "sub": "alice", "aud": e.client.ID, "exp": e.clock.Now().Add(-time.Hour).Unix()}
		edit(claims)
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
		tok.Header["kid"] = kid
		signed, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return signed
	}
	signedOff := e.srv.URL + "/" + pingOneEnvID + "/signon/#signedOff"

	tests := []struct {
		name         string
		params       url.Values
		wantRedirect string // a 302 to this URL; otherwise a page
		wantStatus   int
		wantText     string
	}{
		{name: "no parameters", params: url.Values{}, wantRedirect: signedOff},
		{name: "hint only", params: url.Values{"id_token_hint": {hint}}, wantRedirect: signedOff},
		{name: "state without post_logout_redirect_uri", params: url.Values{"state": {"s1"}}, wantRedirect: signedOff},
		{name: "hint, post_logout_redirect_uri and state", params: url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {postLogoutURI}, "state": {"s1"}}, wantRedirect: postLogoutURI + "?state=s1"},
		{name: "expired hint", params: url.Values{"id_token_hint": {forge(func(jwt.MapClaims) {})}, "post_logout_redirect_uri": {postLogoutURI}}, wantRedirect: postLogoutURI},
		{name: "post_logout_redirect_uri of some application, no hint", params: url.Values{"post_logout_redirect_uri": {"https://other.example/bye"}}, wantRedirect: "https://other.example/bye"},
		{name: "client_id is ignored", params: url.Values{"id_token_hint": {hint}, "client_id": {other.ID}, "post_logout_redirect_uri": {postLogoutURI}}, wantRedirect: postLogoutURI},
		{name: "state just short enough", params: url.Values{"post_logout_redirect_uri": {postLogoutURI}, "state": {strings.Repeat("s", 8191-len(postLogoutURI))}},
			wantRedirect: postLogoutURI + "?state=" + strings.Repeat("s", 8191-len(postLogoutURI))},

		{name: "post_logout_redirect_uri of no application", params: url.Values{"post_logout_redirect_uri": {"https://evil.example/"}}, wantStatus: 400, wantText: "not registered for any application"},
		{name: "another application's post_logout_redirect_uri", params: url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://other.example/bye"}}, wantStatus: 400, wantText: "application of id_token_hint"},
		{name: "state too long", params: url.Values{"post_logout_redirect_uri": {postLogoutURI}, "state": {strings.Repeat("s", 8192-len(postLogoutURI))}}, wantStatus: 400, wantText: "8192"},
		{name: "hint for no application", params: url.Values{"id_token_hint": {forge(func(c jwt.MapClaims) { c["aud"] = "nobody" })}}, wantStatus: 400, wantText: "registered application"},
		{name: "hint from another issuer", params: url.Values{"id_token_hint": {forge(func(c jwt.MapClaims) { c["iss"] = "https://auth.pingone.com/" + pingOneEnvID + "/as" })}}, wantStatus: 400, wantText: "not issued by this provider"},
		{name: "hint not a JWT", params: url.Values{"id_token_hint": {"nope"}}, wantStatus: 400, wantText: "id_token_hint"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			resp, body := e.do(mustRequest(t, http.MethodGet, e.endpoint("end_session_endpoint")+"?"+tc.params.Encode(), nil))
			if tc.wantRedirect != "" {
				if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != tc.wantRedirect {
					t.Errorf("status %d to %q, want 302 to %q: %s", resp.StatusCode, resp.Header.Get("Location"), tc.wantRedirect, body)
				}
				return
			}
			wantPage(t, resp, body, tc.wantStatus, tc.wantText)
		})
	}

	// POST works the same way ("Signoff (POST)").
	form := url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {postLogoutURI}}
	req := mustRequest(t, http.MethodPost, e.endpoint("end_session_endpoint"), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, body := e.do(req); resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != postLogoutURI {
		t.Errorf("POST: status %d to %q: %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}

	// The signed-off page the browser lands on.
	page, _, _ := strings.Cut(signedOff, "#")
	resp, body := e.do(mustRequest(t, http.MethodGet, page, nil))
	wantPage(t, resp, body, http.StatusOK, "Signed out")
}

// directAuthorize visits the authorization endpoint with params in the URL, without PAR.
func (e *env) directAuthorize(params url.Values) (*http.Response, []byte) {
	e.t.Helper()
	return e.do(mustRequest(e.t, http.MethodGet, e.endpoint("authorization_endpoint")+"?"+params.Encode(), nil))
}

// TestPingOneAuthorizationWithoutPAR checks that PingOne mode accepts authorization requests
// that were not pushed, unless the application requires PAR: "By default, PingOne accepts both
// standard and PAR authorization requests" (Orchestration SDKs, "Configuring JavaScript apps for
// Pushed Authorization Requests").
func TestPingOneAuthorizationWithoutPAR(t *testing.T) {
	e := newPingOneEnv(t)
	params, verifier := e.authParams(e.client)
	got := redirectParams(t, e.directAuthorizeOK(params), nil, redirectURI)
	if got.Get("code") == "" || got.Get("state") != params.Get("state") || got.Has("iss") {
		t.Fatalf("authorization response %v, want code and state, no iss", got)
	}
	claims, _ := e.verifyIDToken(e.exchange(e.client, got.Get("code"), verifier)["id_token"].(string))
	if claims["nonce"] != params.Get("nonce") || claims["sub"] != "alice" {
		t.Errorf("ID token %v, want the request's nonce and alice", claims)
	}

	t.Run("an application that requires PAR", func(t *testing.T) {
		e := e.with(t)
		c := e.addClient(oidctest.Client{RequirePushedAuthorizationRequests: true})
		params, _ := e.authParams(c)
		resp, body := e.directAuthorize(params)
		wantPage(t, resp, body, http.StatusBadRequest, "requires pushed authorization requests")
		// Its pushed requests are accepted.
		if got := e.login(c, params); got.Get("code") == "" {
			t.Errorf("pushed request of an application that requires PAR: %v", got)
		}
	})

	tests := []struct {
		name     string
		edit     func(url.Values)
		wantPage string // an error page with this text; otherwise an error sent to redirect_uri
		wantCode string
	}{
		{name: "no client_id", edit: func(p url.Values) { p.Del("client_id") }, wantPage: "client_id is required"},
		{name: "unknown client", edit: func(p url.Values) { p.Set("client_id", "nobody") }, wantPage: "not a registered client"},
		{name: "unregistered redirect_uri", edit: func(p url.Values) { p.Set("redirect_uri", "https://evil.example/cb") }, wantPage: "not registered"},
		{name: "no redirect_uri", edit: func(p url.Values) { p.Del("redirect_uri") }, wantPage: "redirect_uri is required"},
		{name: "no openid scope", edit: func(p url.Values) { p.Set("scope", "profile") }, wantCode: "invalid_scope"},
		{name: "response_type token", edit: func(p url.Values) { p.Set("response_type", "token") }, wantCode: "unsupported_response_type"},
		{name: "unknown response_mode", edit: func(p url.Values) { p.Set("response_mode", "web_message") }, wantCode: "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			params, _ := e.authParams(e.client)
			tc.edit(params)
			resp, body := e.directAuthorize(params)
			if tc.wantPage != "" {
				wantPage(t, resp, body, http.StatusBadRequest, tc.wantPage)
				return
			}
			got := redirectParams(t, resp, body, redirectURI)
			if got.Get("error") != tc.wantCode || got.Get("state") != params.Get("state") {
				t.Errorf("error response %v, want %s with state", got, tc.wantCode)
			}
		})
	}
}

// directAuthorizeOK visits the authorization endpoint without PAR and checks for a redirect.
func (e *env) directAuthorizeOK(params url.Values) *http.Response {
	e.t.Helper()
	resp, body := e.directAuthorize(params)
	if resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("authorization: status %d, want 303: %s", resp.StatusCode, body)
	}
	return resp
}

// TestPingOneLoginWithoutPAR checks that Login signs its subject in through an application that
// does not push its authorization requests.
func TestPingOneLoginWithoutPAR(t *testing.T) {
	e := newPingOneEnv(t)
	app := newRP(t, e.srv, e.clock.Now, rpOptions{direct: true})
	browser := e.srv.Login(t, app.URL+"/me", "bob")
	if claims := app.claims(t, browser); claims["sub"] != "bob" {
		t.Errorf("signed in as %v, want bob", claims["sub"])
	}
}

// TestPingOnePKCE checks PingOne's PKCE enforcement options ("PKCE enforcement"): OPTIONAL (the
// default), REQUIRED, S256_REQUIRED.
func TestPingOnePKCE(t *testing.T) {
	e := newPingOneEnv(t)
	required := e.addClient(oidctest.Client{PKCEEnforcement: "REQUIRED"})
	s256 := e.addClient(oidctest.Client{PKCEEnforcement: "S256_REQUIRED"})
	typo := e.addClient(oidctest.Client{PKCEEnforcement: "S256"})
	plainVerifier := randomString() + randomString()

	noPKCE := func(p url.Values) { p.Del("code_challenge"); p.Del("code_challenge_method") }
	plain := func(p url.Values) { p.Set("code_challenge", plainVerifier); p.Set("code_challenge_method", "plain") }
	plainByDefault := func(p url.Values) { p.Set("code_challenge", plainVerifier); p.Del("code_challenge_method") }
	tests := []struct {
		name       string
		client     oidctest.Client
		edit       func(url.Values)
		verifier   string // for the token request: "" none, "-" the S256 verifier of authParams
		wantStatus int    // 0: a code, redeemed with verifier
		wantText   string
	}{
		{name: "OPTIONAL without PKCE", client: e.client, edit: noPKCE},
		{name: "OPTIONAL with plain", client: e.client, edit: plain, verifier: plainVerifier},
		{name: "OPTIONAL with plain by default", client: e.client, edit: plainByDefault, verifier: plainVerifier},
		{name: "OPTIONAL with S256", client: e.client, edit: func(url.Values) {}, verifier: "-"},
		{name: "REQUIRED with plain", client: required, edit: plain, verifier: plainVerifier},
		{name: "REQUIRED without PKCE", client: required, edit: noPKCE, wantStatus: 400, wantText: "code_challenge is required"},
		{name: "S256_REQUIRED with S256", client: s256, edit: func(url.Values) {}, verifier: "-"},
		{name: "S256_REQUIRED with plain", client: s256, edit: plain, wantStatus: 400, wantText: "must be S256"},
		{name: "S256_REQUIRED with the default method", client: s256, edit: plainByDefault, wantStatus: 400, wantText: "must be S256"},
		{name: "unknown method", client: e.client, edit: func(p url.Values) { p.Set("code_challenge_method", "S512") }, wantStatus: 400, wantText: "S256 or plain"},
		{name: "unknown PKCEEnforcement", client: typo, edit: func(url.Values) {}, wantStatus: 400, wantText: "PKCEEnforcement"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			params, s256Verifier := e.authParams(tc.client)
			tc.edit(params)
			if tc.wantStatus != 0 {
				status, body := e.par(tc.client, params)
				wantOAuthError(t, status, body, tc.wantStatus, "invalid_request")
				if !strings.Contains(string(body), tc.wantText) {
					t.Errorf("error %s, want %q in the description", body, tc.wantText)
				}
				return
			}
			got := e.login(tc.client, params)
			form := url.Values{"grant_type": {"authorization_code"}, "code": {got.Get("code")}, "redirect_uri": {redirectURI}}
			switch tc.verifier {
			case "-":
				form.Set("code_verifier", s256Verifier)
			case "":
			default:
				form.Set("code_verifier", tc.verifier)
			}
			if tc.verifier != "" {
				// A wrong verifier first: refused, and the code is spent.
				wrong := merge(form, url.Values{"code_verifier": {strings.Repeat("w", 43)}})
				status, body := e.token(tc.client, wrong)
				wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
				got = e.login(tc.client, params)
				form.Set("code", got.Get("code"))
			}
			if status, body := e.token(tc.client, form); status != http.StatusOK {
				t.Errorf("token: status %d: %s", status, body)
			}
		})
	}
}

// TestPingOneResponseModes checks PingOne's response modes beyond query and form_post: fragment,
// and pi.flow, PingOne's own, which answers the authorization request with JSON.
func TestPingOneResponseModes(t *testing.T) {
	e := newPingOneEnv(t)

	t.Run("fragment", func(t *testing.T) {
		e := e.with(t)
		params, _ := e.authParams(e.client)
		params.Set("response_mode", "fragment")
		resp, body := e.authorize(e.client, e.push(e.client, params))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("status %d, want 303: %s", resp.StatusCode, body)
		}
		loc, err := url.Parse(resp.Header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		got, err := url.ParseQuery(loc.Fragment)
		if err != nil || got.Get("code") == "" || got.Get("state") != params.Get("state") || loc.RawQuery != "" {
			t.Errorf("Location %s, want code and state in the fragment", loc)
		}
	})

	t.Run("pi.flow", func(t *testing.T) {
		e := e.with(t)
		params, verifier := e.authParams(e.client)
		params.Set("response_mode", "pi.flow")
		params.Del("redirect_uri") // not required with pi.flow
		resp, body := e.authorize(e.client, e.push(e.client, params))
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("status %d, Content-Type %q, want 200 JSON: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		flow := decodeJSON(t, body)
		authz, _ := flow["authorizeResponse"].(map[string]any)
		env, _ := flow["environment"].(map[string]any)
		session, _ := flow["session"].(map[string]any)
		code, _ := authz["code"].(string)
		if flow["status"] != "COMPLETED" || code == "" || authz["state"] != params.Get("state") || env["id"] != pingOneEnvID || session["id"] == "" {
			t.Fatalf("flow answer %s, want status COMPLETED, authorizeResponse with code and state, environment and session", body)
		}
		tokens := e.tokenOK(e.client, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}})
		if claims, _ := e.verifyIDToken(tokens["id_token"].(string)); claims["sid"] != session["id"] {
			t.Errorf("ID token sid %v, want the flow's session %v", claims["sid"], session["id"])
		}
	})

	t.Run("pi.flow error", func(t *testing.T) {
		e := e.with(t)
		params, _ := e.authParams(e.client)
		params.Set("response_mode", "pi.flow")
		uri := e.push(e.client, params)
		e.srv.Inject(parlogin.EndpointAuthorization, oidctest.Fault{Error: "access_denied", ErrorDescription: "no", Times: 1})
		resp, body := e.authorize(e.client, uri)
		m := decodeJSON(t, body)
		details, _ := m["details"].([]any)
		var first map[string]any
		if len(details) == 1 {
			first, _ = details[0].(map[string]any)
		}
		if resp.StatusCode != http.StatusBadRequest || m["id"] == "" || m["code"] != "INVALID_DATA" || m["message"] == "" || first["code"] != "access_denied" || first["message"] != "no" {
			t.Errorf("status %d: %s, want 400 with id, code INVALID_DATA, message and details[0] access_denied", resp.StatusCode, body)
		}
	})

	t.Run("not without EnvID", func(t *testing.T) {
		e := newEnv(t)
		for _, mode := range []string{"fragment", "pi.flow"} {
			params, _ := e.authParams(e.client)
			params.Set("response_mode", mode)
			status, body := e.par(e.client, params)
			wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_request")
		}
	})
}

// tokenOK posts form to the token endpoint for c and returns the answer, failing on an error.
func (e *env) tokenOK(c oidctest.Client, form url.Values) map[string]any {
	e.t.Helper()
	status, body := e.token(c, form)
	if status != http.StatusOK {
		e.t.Fatalf("token: status %d: %s", status, body)
	}
	return decodeJSON(e.t, body)
}

// TestPingOneClientFieldsIgnoredWithoutEnvID checks that the PingOne settings of a Client do not
// loosen the provider without EnvID.
func TestPingOneClientFieldsIgnoredWithoutEnvID(t *testing.T) {
	e := newEnv(t)
	c := e.addClient(oidctest.Client{PKCEEnforcement: "OPTIONAL"})
	params, _ := e.authParams(c)
	params.Del("code_challenge")
	params.Del("code_challenge_method")
	status, body := e.par(c, params)
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_request")

	params, _ = e.authParams(c)
	resp, body := e.directAuthorize(params)
	wantPage(t, resp, body, http.StatusBadRequest, "request_uri is required")
}

// TestPingOneRevocation checks PingOne's rule for its revocation endpoint ("Token Revocation"):
// only tokens for a custom resource are revoked, so tokens of OpenID Connect scopes only keep
// working.
func TestPingOneRevocation(t *testing.T) {
	e := newPingOneEnv(t)
	c := e.addClient(oidctest.Client{GrantTypes: []string{"authorization_code", "refresh_token"}})
	tokensOf := func(scope string) (access, refresh string) {
		t.Helper()
		code, _, verifier := e.code(c, func(p url.Values) { p.Set("scope", scope) })
		tokens := e.exchange(c, code, verifier)
		return tokens["access_token"].(string), tokens["refresh_token"].(string)
	}

	access, refresh := tokensOf("openid profile email")
	for _, token := range []string{access, refresh} {
		status, body := e.revoke(c, url.Values{"token": {token}})
		wantRevoked(t, status, body)
	}
	if got := e.userinfoStatus(access); got != http.StatusOK {
		t.Errorf("userinfo with an OpenID Connect access token after revocation: status %d, want 200 (not revocable at PingOne)", got)
	}
	if status, body := e.refreshWith(c, refresh); status != http.StatusOK {
		t.Errorf("refresh with an OpenID Connect refresh token after revocation: status %d: %s", status, body)
	}

	access, refresh = tokensOf("openid orders:read")
	status, body := e.revoke(c, url.Values{"token": {refresh}})
	wantRevoked(t, status, body)
	status, body = e.refreshWith(c, refresh)
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
	if got := e.userinfoStatus(access); got != http.StatusUnauthorized {
		t.Errorf("userinfo with an access token of the revoked grant: status %d, want 401", got)
	}

	discovery := e.meta
	if discovery["revocation_endpoint"] != e.srv.Issuer+"/revoke" {
		t.Errorf("revocation_endpoint %v, want PingOne's {issuer}/revoke", discovery["revocation_endpoint"])
	}
}

// TestPingOneErrors checks the form of errors at PingOne's back-channel endpoints: OAuth 2.0
// JSON with error and error_description (Ping Identity's SDK reads PAR errors so), not PingOne's
// platform error, which pi.flow answers (TestPingOneResponseModes).
func TestPingOneErrors(t *testing.T) {
	e := newPingOneEnv(t)
	other := e.addClient(oidctest.Client{})
	access, _ := e.grantTokens(e.client)
	badPAR, _ := e.authParams(e.client)
	badPAR.Set("redirect_uri", "https://evil.example/cb")

	checks := []struct {
		name       string
		call       func() (int, []byte)
		wantStatus int
		wantCode   string
	}{
		{"PAR", func() (int, []byte) { return e.par(e.client, badPAR) }, 400, "invalid_request"},
		{"token", func() (int, []byte) {
			return e.token(e.client, url.Values{"grant_type": {"authorization_code"}, "code": {"nope"}, "redirect_uri": {redirectURI}})
		}, 400, "invalid_grant"},
		{"token client authentication", func() (int, []byte) {
			return e.postForm(e.endpoint("token_endpoint"), url.Values{"grant_type": {"authorization_code"}}, nil)
		}, 401, "invalid_client"},
		{"revocation", func() (int, []byte) { return e.revoke(other, url.Values{"token": {access}}) }, 400, "invalid_grant"},
		{"userinfo", func() (int, []byte) { resp, body := e.userinfo("nope"); return resp.StatusCode, body }, 401, "invalid_token"},
	}
	for _, tc := range checks {
		t.Run(tc.name, func(t *testing.T) {
			status, body := tc.call()
			wantOAuthError(t, status, body, tc.wantStatus, tc.wantCode)
			m := decodeJSON(t, body)
			if _, ok := m["error_description"].(string); !ok || len(m) != 2 {
				t.Errorf("error %s, want exactly error and error_description", body)
			}
		})
	}
}

// TestPingOnePAR checks PingOne's PAR answer ("Pushed Authorization Request"): 201 with a
// request_uri urn:ietf:params:oauth:request_uri:<uuid> and expires_in 60; "PingOne accepts a
// particular request URI only once"; "the default lifetime is 60 seconds".
func TestPingOnePAR(t *testing.T) {
	e := newPingOneEnv(t)
	params, _ := e.authParams(e.client)
	status, body := e.par(e.client, params)
	if status != http.StatusCreated {
		t.Fatalf("status %d, want 201: %s", status, body)
	}
	m := decodeJSON(t, body)
	uri, _ := m["request_uri"].(string)
	if !regexp.MustCompile(`^urn:ietf:params:oauth:request_uri:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(uri) || m["expires_in"] != float64(60) || len(m) != 2 {
		t.Fatalf("answer %s, want request_uri urn:ietf:params:oauth:request_uri:<uuid v4> and expires_in 60", body)
	}
	if got := e.authorizeParams(e.client, uri); got.Get("code") == "" {
		t.Fatalf("first use: %v, want a code", got)
	}
	if got := e.authorizeParams(e.client, uri); got.Get("error") != "invalid_request_uri" || got.Has("iss") {
		t.Errorf("second use: %v, want invalid_request_uri without iss", got)
	}

	late := e.push(e.client, params)
	e.clock.Advance(61 * time.Second)
	if got := e.authorizeParams(e.client, late); got.Get("error") != "invalid_request_uri" {
		t.Errorf("request_uri used after 61 s: %v, want invalid_request_uri", got)
	}
}
