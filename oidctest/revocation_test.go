package oidctest_test

import (
	"net/http"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/oidctest"
)

// revoke posts form plus client authentication for c to the revocation endpoint.
func (e *env) revoke(c oidctest.Client, form url.Values) (int, []byte) {
	e.t.Helper()
	return e.postForm(e.endpoint("revocation_endpoint"), merge(form, e.clientAuth(c)), nil)
}

// grantTokens runs a login of c with offline_access and returns its access and refresh tokens.
func (e *env) grantTokens(c oidctest.Client) (access, refresh string) {
	e.t.Helper()
	code, _, verifier := e.code(c, func(p url.Values) { p.Set("scope", "openid email offline_access") })
	tokens := e.exchange(c, code, verifier)
	access, _ = tokens["access_token"].(string)
	refresh, _ = tokens["refresh_token"].(string)
	if access == "" || refresh == "" {
		e.t.Fatalf("token answer %v, want an access and a refresh token", tokens)
	}
	return access, refresh
}

// refreshWith redeems a refresh token of c and returns the status and body.
func (e *env) refreshWith(c oidctest.Client, token string) (int, []byte) {
	e.t.Helper()
	return e.token(c, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {token}})
}

// userinfoStatus calls the userinfo endpoint with an access token and returns the status.
func (e *env) userinfoStatus(access string) int {
	e.t.Helper()
	resp, _ := e.userinfo(access)
	return resp.StatusCode
}

// wantRevoked checks a successful revocation answer: 200 and an empty body.
func wantRevoked(t *testing.T, status int, body []byte) {
	t.Helper()
	if status != http.StatusOK || len(body) != 0 {
		t.Errorf("revocation: status %d, body %q; want 200 and no body", status, body)
	}
}

// mustRevoke revokes with the env's client and checks that the answer is a success.
func (e *env) mustRevoke(form url.Values) {
	e.t.Helper()
	status, body := e.revoke(e.client, form)
	wantRevoked(e.t, status, body)
}

func TestRevocationDiscovery(t *testing.T) {
	e := newEnv(t)
	want := map[string]any{
		"revocation_endpoint":                                   e.srv.Issuer + "/revoke",
		"revocation_endpoint_auth_methods_supported":            []any{"client_secret_jwt", "private_key_jwt"},
		"revocation_endpoint_auth_signing_alg_values_supported": []any{"HS256", "HS384", "HS512", "RS256", "PS256", "ES256", "EdDSA"},
	}
	for k, v := range want {
		if !reflect.DeepEqual(e.meta[k], v) {
			t.Errorf("%s = %v, want %v", k, e.meta[k], v)
		}
	}
}

func TestRevokeRefreshToken(t *testing.T) {
	for _, hint := range []string{"", "refresh_token", "access_token", "id_token"} {
		t.Run("hint "+hint, func(t *testing.T) {
			e := newEnv(t)
			access, refresh := e.grantTokens(e.client)
			// A second access token of the same grant, from a refresh.
			status, body := e.refreshWith(e.client, refresh)
			if status != http.StatusOK {
				t.Fatalf("refresh: status %d: %s", status, body)
			}
			rotated := decodeJSON(t, body)
			access2, _ := rotated["access_token"].(string)
			refresh2, _ := rotated["refresh_token"].(string)
			// Another grant of the same client is not touched.
			otherAccess, otherRefresh := e.grantTokens(e.client)

			form := url.Values{"token": {refresh2}}
			if hint != "" {
				form.Set("token_type_hint", hint) // a wrong or unknown hint changes nothing
			}
			e.mustRevoke(form)

			status, body = e.refreshWith(e.client, refresh2)
			wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
			for _, a := range []string{access, access2} {
				if got := e.userinfoStatus(a); got != http.StatusUnauthorized {
					t.Errorf("userinfo with an access token of the revoked grant: status %d, want 401", got)
				}
			}
			if got := e.userinfoStatus(otherAccess); got != http.StatusOK {
				t.Errorf("userinfo with another grant's access token: status %d, want 200", got)
			}
			if status, body := e.refreshWith(e.client, otherRefresh); status != http.StatusOK {
				t.Errorf("refresh of another grant: status %d: %s", status, body)
			}
			// Revoking it again is revoking an invalid token: 200.
			e.mustRevoke(form)
		})
	}
}

func TestRevokeAccessToken(t *testing.T) {
	e := newEnv(t)
	access, refresh := e.grantTokens(e.client)
	e.mustRevoke(url.Values{"token": {access}, "token_type_hint": {"access_token"}})
	if got := e.userinfoStatus(access); got != http.StatusUnauthorized {
		t.Errorf("userinfo with the revoked access token: status %d, want 401", got)
	}
	// Only that token: the refresh token of its grant still works, and so do its access tokens.
	status, body := e.refreshWith(e.client, refresh)
	if status != http.StatusOK {
		t.Fatalf("refresh after revoking an access token: status %d: %s", status, body)
	}
	if got := e.userinfoStatus(decodeJSON(t, body)["access_token"].(string)); got != http.StatusOK {
		t.Errorf("userinfo with a new access token: status %d, want 200", got)
	}
}

func TestRevokeInvalidTokens(t *testing.T) {
	e := newEnv(t)
	access, refresh := e.grantTokens(e.client)
	status, body := e.refreshWith(e.client, refresh) // rotates refresh
	if status != http.StatusOK {
		t.Fatalf("refresh: status %d: %s", status, body)
	}
	// RFC 7009 section 2.2: an invalid token is answered 200.
	for name, token := range map[string]string{
		"unknown token":         "nope",
		"rotated refresh token": refresh,
	} {
		t.Run(name, func(t *testing.T) {
			e := e.with(t)
			e.mustRevoke(url.Values{"token": {token}})
		})
	}
	t.Run("expired access token", func(t *testing.T) {
		e := e.with(t)
		e.clock.Advance(time.Hour + time.Second)
		defer e.clock.Advance(-time.Hour - time.Second)
		e.mustRevoke(url.Values{"token": {access}})
	})
}

func TestRevokeAnotherClientsToken(t *testing.T) {
	e := newEnv(t)
	other := e.addClient(oidctest.Client{})
	access, refresh := e.grantTokens(e.client)
	// RFC 7009 section 2.1: the request is refused, and the tokens keep working.
	for _, token := range []string{access, refresh} {
		status, body := e.revoke(other, url.Values{"token": {token}})
		wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_grant")
	}
	if got := e.userinfoStatus(access); got != http.StatusOK {
		t.Errorf("userinfo after another client's revocation: status %d, want 200", got)
	}
	if status, body := e.refreshWith(e.client, refresh); status != http.StatusOK {
		t.Errorf("refresh after another client's revocation: status %d: %s", status, body)
	}
}

func TestRevocationRequestErrors(t *testing.T) {
	e := newEnv(t)
	access, _ := e.grantTokens(e.client)
	u := e.endpoint("revocation_endpoint")
	tests := []struct {
		name       string
		form       url.Values
		header     http.Header
		wantStatus int
		wantCode   string
	}{
		{name: "no token", form: e.clientAuth(e.client), wantStatus: 400, wantCode: "invalid_request"},
		{name: "no client authentication", form: url.Values{"token": {access}}, wantStatus: 401, wantCode: "invalid_client"},
		{name: "client_secret", form: url.Values{"token": {access}, "client_id": {e.client.ID}, "client_secret": {e.client.Secret}}, wantStatus: 401, wantCode: "invalid_client"},
		{name: "two methods", form: merge(e.clientAuth(e.client), url.Values{"token": {access}}), header: http.Header{"Authorization": {"Basic eDp5"}}, wantStatus: 400, wantCode: "invalid_request"},
		{name: "repeated token", form: merge(e.clientAuth(e.client), url.Values{"token": {access, access}}), wantStatus: 400, wantCode: "invalid_request"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			status, body := e.postForm(u, tc.form, tc.header)
			wantOAuthError(t, status, body, tc.wantStatus, tc.wantCode)
		})
	}
	if got := e.userinfoStatus(access); got != http.StatusOK {
		t.Errorf("userinfo after refused revocations: status %d, want 200", got)
	}

	t.Run("replayed assertion", func(t *testing.T) {
		e := e.with(t)
		form := merge(e.clientAuth(e.client), url.Values{"token": {"nope"}})
		status, body := e.postForm(u, form, nil)
		wantRevoked(t, status, body)
		status, body = e.postForm(u, form, nil)
		wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
	})
	t.Run("GET", func(t *testing.T) {
		e := e.with(t)
		resp, body := e.do(mustRequest(t, http.MethodGet, u+"?"+merge(e.clientAuth(e.client), url.Values{"token": {access}}).Encode(), nil))
		wantOAuthError(t, resp.StatusCode, body, http.StatusMethodNotAllowed, "invalid_request")
		if got := resp.Header.Get("Allow"); got != http.MethodPost {
			t.Errorf("Allow %q, want POST", got)
		}
	})
	t.Run("query parameters are not read", func(t *testing.T) {
		e := e.with(t)
		status, body := e.postForm(u+"?"+url.Values{"token": {access}}.Encode(), e.clientAuth(e.client), nil)
		wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_request")
	})
}

func TestRevocationFaultAndRequests(t *testing.T) {
	e := newEnv(t)
	e.srv.Inject(parlogin.EndpointRevocation, oidctest.Fault{Error: "temporarily_unavailable", Status: 503, Times: 1})
	form := url.Values{"token": {"nope"}, "token_type_hint": {"refresh_token"}}
	status, body := e.revoke(e.client, form)
	wantOAuthError(t, status, body, http.StatusServiceUnavailable, "temporarily_unavailable")
	e.mustRevoke(form)
	reqs := e.srv.Requests(parlogin.EndpointRevocation)
	if len(reqs) != 2 || reqs[1].Get("token") != "nope" || reqs[1].Get("token_type_hint") != "refresh_token" || reqs[1].Get("client_assertion") == "" {
		t.Errorf("Requests(Revocation) = %v, want the two requests", reqs)
	}
}
