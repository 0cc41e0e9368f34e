package oidctest_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parlogin/parlogin/oidctest"
)

func TestTokenErrors(t *testing.T) {
	e := newEnv(t)
	other := e.addClient(oidctest.Client{})
	tests := []struct {
		name       string
		edit       func(form url.Values)
		client     oidctest.Client // who redeems the code; default e.client
		advance    time.Duration   // clock moved before redeeming
		wantStatus int
		wantCode   string
	}{
		{name: "no grant_type", edit: func(f url.Values) { f.Del("grant_type") }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "grant_type password", edit: func(f url.Values) { f.Set("grant_type", "password") }, wantStatus: 400, wantCode: "unsupported_grant_type"},
		{name: "grant_type client_credentials", edit: func(f url.Values) { f.Set("grant_type", "client_credentials") }, wantStatus: 400, wantCode: "unsupported_grant_type"},
		{name: "repeated parameter", edit: func(f url.Values) { f.Add("code", "x") }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "no code", edit: func(f url.Values) { f.Del("code") }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "unknown code", edit: func(f url.Values) { f.Set("code", "nope") }, wantStatus: 400, wantCode: "invalid_grant"},
		{name: "no redirect_uri", edit: func(f url.Values) { f.Del("redirect_uri") }, wantStatus: 400, wantCode: "invalid_grant"},
		{name: "other redirect_uri", edit: func(f url.Values) { f.Set("redirect_uri", "https://app.example/other") }, wantStatus: 400, wantCode: "invalid_grant"},
		{name: "no code_verifier", edit: func(f url.Values) { f.Del("code_verifier") }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "short code_verifier", edit: func(f url.Values) { f.Set("code_verifier", "abc") }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "wrong code_verifier", edit: func(f url.Values) { f.Set("code_verifier", strings.Repeat("x", 43)) }, wantStatus: 400, wantCode: "invalid_grant"},
		{name: "plain code_verifier", edit: func(f url.Values) { f.Set("code_verifier", f.Get("challenge")) }, wantStatus: 400, wantCode: "invalid_grant"},
		{name: "code of another client", client: other, wantStatus: 400, wantCode: "invalid_grant"},
		{name: "code after 61 s", advance: 61 * time.Second, wantStatus: 400, wantCode: "invalid_grant"},
		{name: "code after 60 s", advance: 60 * time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			code, params, verifier := e.code(e.client, nil)
			form := url.Values{
				"grant_type":    {"authorization_code"},
				"code":          {code},
				"redirect_uri":  {redirectURI},
				"code_verifier": {verifier},
				"challenge":     {params.Get("code_challenge")}, // an unknown parameter, ignored
			}
			if tc.edit != nil {
				tc.edit(form)
			}
			c := tc.client
			if c.ID == "" {
				c = e.client
			}
			e.clock.Advance(tc.advance)
			defer e.clock.Advance(-tc.advance)
			status, body := e.token(c, form)
			if tc.wantStatus == 0 {
				if status != http.StatusOK {
					t.Errorf("status %d, want 200: %s", status, body)
				}
				return
			}
			wantOAuthError(t, status, body, tc.wantStatus, tc.wantCode)
		})
	}
}

func TestCodeReplay(t *testing.T) {
	e := newEnv(t)
	code, _, verifier := e.code(e.client, func(p url.Values) { p.Set("scope", "openid offline_access") })
	tokens := e.exchange(e.client, code, verifier)
	access, refresh := tokens["access_token"].(string), tokens["refresh_token"].(string)
	if resp, body := e.userinfo(access); resp.StatusCode != http.StatusOK {
		t.Fatalf("userinfo before the replay: status %d: %s", resp.StatusCode, body)
	}

	status, body := e.token(e.client, url.Values{
		"grant_type":    {"authorization_code"},
		"code":          {code},
		"redirect_uri":  {redirectURI},
		"code_verifier": {verifier},
	})
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")

	resp, body := e.userinfo(access)
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("userinfo after the replay: status %d, WWW-Authenticate %q: %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
	}
	status, body = e.token(e.client, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
}

func TestCodeUsedByFailedRedemption(t *testing.T) {
	e := newEnv(t)
	code, _, verifier := e.code(e.client, nil)
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {strings.Repeat("x", 43)}}
	status, body := e.token(e.client, form)
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
	form.Set("code_verifier", verifier)
	status, body = e.token(e.client, form)
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
}

func TestRefresh(t *testing.T) {
	e := newEnv(t)
	other := e.addClient(oidctest.Client{})
	authTime := e.clock.Now()
	code, _, verifier := e.code(e.client, func(p url.Values) { p.Set("scope", "openid email offline_access") })
	tokens := e.exchange(e.client, code, verifier)
	first, _ := tokens["refresh_token"].(string)
	if first == "" {
		t.Fatalf("no refresh_token with offline_access: %v", tokens)
	}
	refresh := func(token string, extra url.Values) (int, map[string]any, []byte) {
		t.Helper()
		status, body := e.token(e.client, merge(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}}, extra))
		if status != http.StatusOK {
			return status, nil, body
		}
		return status, decodeJSON(t, body), body
	}

	e.clock.Advance(10 * time.Minute)
	status, rotated, body := refresh(first, nil)
	if status != http.StatusOK {
		t.Fatalf("refresh: status %d: %s", status, body)
	}
	second, _ := rotated["refresh_token"].(string)
	if second == "" || second == first || rotated["access_token"] == tokens["access_token"] || rotated["scope"] != "openid email offline_access" {
		t.Errorf("refresh answer %s, want a new access token and a rotated refresh token", body)
	}
	claims, _ := e.verifyIDToken(rotated["id_token"].(string))
	if _, ok := claims["nonce"]; ok {
		t.Error("ID token from a refresh has a nonce")
	}
	if claims["auth_time"] != float64(authTime.Unix()) || claims["iat"] != float64(e.clock.Now().Unix()) || claims["sub"] != "alice" || claims["email"] != "alice@example.com" {
		t.Errorf("ID token from a refresh: %v, want the original auth_time, a new iat, sub and email", claims)
	}

	status, body = e.token(e.client, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first}})
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")

	status, body = e.token(other, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second}})
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")

	status, body = e.token(e.client, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second}, "scope": {"openid admin"}})
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_scope")

	status, body = e.token(e.client, url.Values{"grant_type": {"refresh_token"}})
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_request")

	status, narrowed, body := refresh(second, url.Values{"scope": {"openid"}})
	if status != http.StatusOK || narrowed["scope"] != "openid" {
		t.Fatalf("narrowing refresh: status %d: %s", status, body)
	}
	if claims, _ := e.verifyIDToken(narrowed["id_token"].(string)); claims["email"] != nil {
		t.Errorf("ID token for scope openid has email %v", claims["email"])
	}
	// The rotated refresh token keeps the scope originally granted.
	if status, again, body := refresh(narrowed["refresh_token"].(string), nil); status != http.StatusOK || again["scope"] != "openid email offline_access" {
		t.Errorf("refresh after narrowing: status %d: %s", status, body)
	}
}

// A refresh token is good for 14 days from its issue; its successor, for 14 days from the refresh.
func TestRefreshTokenExpires(t *testing.T) {
	e := newEnv(t)
	code, _, verifier := e.code(e.client, func(p url.Values) { p.Set("scope", "openid offline_access") })
	first, _ := e.exchange(e.client, code, verifier)["refresh_token"].(string)
	e.clock.Advance(13 * 24 * time.Hour)
	status, body := e.token(e.client, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first}})
	if status != http.StatusOK {
		t.Fatalf("a refresh after 13 days: status %d: %s", status, body)
	}
	second, _ := decodeJSON(t, body)["refresh_token"].(string)
	e.clock.Advance(14*24*time.Hour + time.Second)
	status, body = e.token(e.client, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {second}})
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
}

func TestReleasedClaims(t *testing.T) {
	e := newEnv(t)
	e.srv.SetUser(oidctest.User{Subject: "alice", Claims: map[string]any{
		"name":           "Alice Example",
		"given_name":     "Alice",
		"email":          "alice@example.com",
		"email_verified": true,
		"groups":         []any{"admins"},
		"phone_number":   "+1 555 0100",
		"iss":            "https://evil.example", // reserved: ignored
		"sid":            "forged",               // reserved: ignored
	}})
	tests := []struct {
		scope string
		want  map[string]any // released claims besides sub
	}{
		{"openid", map[string]any{"groups": []any{"admins"}}},
		{"openid profile", map[string]any{"groups": []any{"admins"}, "name": "Alice Example", "given_name": "Alice"}},
		{"openid email", map[string]any{"groups": []any{"admins"}, "email": "alice@example.com", "email_verified": true}},
		{"openid phone", map[string]any{"groups": []any{"admins"}, "phone_number": "+1 555 0100"}},
		{"openid profile email unknown", map[string]any{"groups": []any{"admins"}, "name": "Alice Example", "given_name": "Alice", "email": "alice@example.com", "email_verified": true}},
	}
	for _, tc := range tests {
		t.Run(tc.scope, func(t *testing.T) {
			e := e.with(t)
			code, _, verifier := e.code(e.client, func(p url.Values) { p.Set("scope", tc.scope) })
			tokens := e.exchange(e.client, code, verifier)

			_, body := e.userinfo(tokens["access_token"].(string))
			info := decodeJSON(t, body)
			want := map[string]any{"sub": "alice"}
			for k, v := range tc.want {
				want[k] = v
			}
			if !reflect.DeepEqual(info, want) {
				t.Errorf("userinfo %v, want %v", info, want)
			}

			claims, _ := e.verifyIDToken(tokens["id_token"].(string))
			for _, k := range []string{"name", "given_name", "email", "email_verified", "groups", "phone_number"} {
				if !reflect.DeepEqual(claims[k], tc.want[k]) {
					t.Errorf("ID token %s = %v, want %v", k, claims[k], tc.want[k])
				}
			}
			if claims["iss"] != e.srv.Issuer || claims["sid"] == "forged" {
				t.Errorf("ID token iss %v, sid %v: the user's claims replaced reserved ones", claims["iss"], claims["sid"])
			}
		})
	}
}

func TestUserInfoErrors(t *testing.T) {
	e := newEnv(t)
	code, _, verifier := e.code(e.client, nil)
	access := e.exchange(e.client, code, verifier)["access_token"].(string)
	tests := []struct {
		name    string
		header  string
		advance time.Duration
	}{
		{"no Authorization header", "", 0},
		{"unknown token", "Bearer nope", 0},
		{"Basic scheme", "Basic " + access, 0},
		{"expired token", "Bearer " + access, time.Hour + time.Second},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			e.clock.Advance(tc.advance)
			defer e.clock.Advance(-tc.advance)
			req := mustRequest(t, http.MethodGet, e.endpoint("userinfo_endpoint"), nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, body := e.do(req)
			wantOAuthError(t, resp.StatusCode, body, http.StatusUnauthorized, "invalid_token")
			if got := resp.Header.Get("WWW-Authenticate"); !strings.HasPrefix(got, `Bearer error="invalid_token"`) {
				t.Errorf("WWW-Authenticate %q, want Bearer error=\"invalid_token\"", got)
			}
		})
	}
	// The lower-case scheme is accepted (RFC 9110: schemes are case-insensitive).
	req := mustRequest(t, http.MethodGet, e.endpoint("userinfo_endpoint"), nil)
	req.Header.Set("Authorization", "bearer "+access)
	if resp, body := e.do(req); resp.StatusCode != http.StatusOK {
		t.Errorf("bearer scheme in lower case: status %d: %s", resp.StatusCode, body)
	}
}

func TestIDTokenHookAndSigner(t *testing.T) {
	e := newEnv(t)
	idToken := func() string {
		t.Helper()
		code, _, verifier := e.code(e.client, nil)
		return e.exchange(e.client, code, verifier)["id_token"].(string)
	}

	e.srv.SetIDTokenHook(func(c map[string]any) {
		c["aud"] = []string{e.client.ID, "someone-else"}
		c["iss"] = "https://evil.example"
		c["exp"] = c["iat"].(int64) - 60
		delete(c, "at_hash")
	})
	claims, _ := e.verifyIDToken(idToken())
	if !reflect.DeepEqual(claims["aud"], []any{e.client.ID, "someone-else"}) || claims["iss"] != "https://evil.example" || claims["exp"].(float64) >= claims["iat"].(float64) || claims["at_hash"] != nil {
		t.Errorf("hooked ID token %v, want two audiences, a wrong iss, an expired exp and no at_hash", claims)
	}

	var signed map[string]any
	e.srv.SetIDTokenSigner(func(c map[string]any) string {
		signed = c
		return "forged.token.value"
	})
	if got := idToken(); got != "forged.token.value" {
		t.Errorf("id_token %q, want the signer's", got)
	}
	if signed["iss"] != "https://evil.example" {
		t.Errorf("the signer received %v, want the claims after the hook", signed)
	}

	e.srv.SetIDTokenHook(nil)
	e.srv.SetIDTokenSigner(nil)
	if claims, _ := e.verifyIDToken(idToken()); claims["iss"] != e.srv.Issuer {
		t.Errorf("after removing the hook and signer: iss %v", claims["iss"])
	}

	// A hook that makes the claims unencodable gets a server_error, not a panic.
	e.srv.SetIDTokenHook(func(c map[string]any) { c["bad"] = make(chan int) })
	code, _, verifier := e.code(e.client, nil)
	status, body := e.token(e.client, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {redirectURI}, "code_verifier": {verifier}})
	wantOAuthError(t, status, body, http.StatusInternalServerError, "server_error")
}

// TestGrantTypesIgnoredWithoutPingOne checks that without EnvID only offline_access brings a
// refresh token.
func TestGrantTypesIgnoredWithoutPingOne(t *testing.T) {
	e := newEnv(t)
	c := e.addClient(oidctest.Client{GrantTypes: []string{"authorization_code", "refresh_token"}})
	code, _, verifier := e.code(c, nil)
	if tokens := e.exchange(c, code, verifier); tokens["refresh_token"] != nil {
		t.Errorf("refresh_token without offline_access: %v", tokens)
	}
}
