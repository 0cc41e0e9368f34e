package oidctest_test

import (
	"crypto/rand"
	"crypto/rsa"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parlogin/parlogin/oidctest"
)

func TestEndSession(t *testing.T) {
	e := newEnv(t)
	other := e.addClient(oidctest.Client{PostLogoutRedirectURIs: []string{"https://other.example/bye"}})
	code, _, verifier := e.code(e.client, nil)
	hint := e.exchange(e.client, code, verifier)["id_token"].(string)

	kid, key := e.srv.SigningKey()
	forge := func(edit func(jwt.MapClaims), signWith *rsa.PrivateKey) string {
		claims := jwt.MapClaims{"iss": e.srv.Issuer, "sub": "alice", "aud": e.client.ID, "exp": e.clock.Now().Add(-time.Hour).Unix()}
		edit(claims)
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
		tok.Header["kid"] = kid
		s, err := tok.SignedString(signWith)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	strangerKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name         string
		params       url.Values
		wantRedirect string // a 303 to this URL; otherwise a page
		wantStatus   int
		wantText     string
	}{
		{name: "no parameters", params: url.Values{}, wantStatus: 200, wantText: "Signed out"},
		{name: "hint only", params: url.Values{"id_token_hint": {hint}}, wantStatus: 200, wantText: "Signed out"},
		{name: "hint and post_logout_redirect_uri", params: url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {postLogoutURI}, "state": {"s1"}}, wantRedirect: postLogoutURI + "?state=s1"},
		{name: "client_id and post_logout_redirect_uri", params: url.Values{"client_id": {e.client.ID}, "post_logout_redirect_uri": {postLogoutURI}}, wantRedirect: postLogoutURI},
		{name: "expired hint", params: url.Values{"id_token_hint": {forge(func(jwt.MapClaims) {}, key)}, "post_logout_redirect_uri": {postLogoutURI}}, wantRedirect: postLogoutURI},
		{name: "hint and matching client_id", params: url.Values{"id_token_hint": {hint}, "client_id": {e.client.ID}, "post_logout_redirect_uri": {postLogoutURI}}, wantRedirect: postLogoutURI},

		{name: "unregistered post_logout_redirect_uri", params: url.Values{"client_id": {e.client.ID}, "post_logout_redirect_uri": {"https://evil.example/"}}, wantStatus: 400, wantText: "not registered"},
		{name: "another client's post_logout_redirect_uri", params: url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {"https://other.example/bye"}}, wantStatus: 400, wantText: "not registered"},
		{name: "post_logout_redirect_uri without a client", params: url.Values{"post_logout_redirect_uri": {postLogoutURI}}, wantStatus: 400, wantText: "client_id or id_token_hint"},
		{name: "unknown client", params: url.Values{"client_id": {"nobody"}, "post_logout_redirect_uri": {postLogoutURI}}, wantStatus: 400, wantText: "not a registered client"},
		{name: "hint and another client_id", params: url.Values{"id_token_hint": {hint}, "client_id": {other.ID}}, wantStatus: 400, wantText: "does not match"},
		{name: "hint not a JWT", params: url.Values{"id_token_hint": {"nope"}}, wantStatus: 400, wantText: "id_token_hint"},
		{name: "hint signed by another key", params: url.Values{"id_token_hint": {forge(func(jwt.MapClaims) {}, strangerKey)}}, wantStatus: 400, wantText: "invalid signature"},
		{name: "hint from another issuer", params: url.Values{"id_token_hint": {forge(func(c jwt.MapClaims) { c["iss"] = "https://other.example" }, key)}}, wantStatus: 400, wantText: "not issued by this provider"},
		{name: "hint with alg HS256", params: url.Values{"id_token_hint": {sign(t, jwt.SigningMethodHS256, []byte("k"), jwt.MapClaims{"iss": e.srv.Issuer, "aud": e.client.ID})}}, wantStatus: 400, wantText: "RS256"},
		{name: "repeated parameter", params: url.Values{"state": {"a", "b"}}, wantStatus: 400, wantText: "repeated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			resp, body := e.do(mustRequest(t, http.MethodGet, e.endpoint("end_session_endpoint")+"?"+tc.params.Encode(), nil))
			if tc.wantRedirect != "" {
				if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != tc.wantRedirect {
					t.Errorf("status %d to %q, want 303 to %q: %s", resp.StatusCode, resp.Header.Get("Location"), tc.wantRedirect, body)
				}
				return
			}
			wantPage(t, resp, body, tc.wantStatus, tc.wantText)
		})
	}

	// POST works the same way.
	form := url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {postLogoutURI}}
	req := mustRequest(t, http.MethodPost, e.endpoint("end_session_endpoint"), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if resp, body := e.do(req); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != postLogoutURI {
		t.Errorf("POST: status %d to %q: %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
}
