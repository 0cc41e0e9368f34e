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
