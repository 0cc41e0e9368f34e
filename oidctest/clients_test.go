package oidctest_test

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parlogin/parlogin/oidctest"
)

func TestClientAuthentication(t *testing.T) {
	e := newEnv(t)
	hs512Only := e.addClient(oidctest.Client{AuthAlg: "HS512"})
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()

	// withClaims returns client authentication with an HS256 assertion whose claims edit changed.
	withClaims := func(edit func(jwt.MapClaims)) func(oidctest.Client) (url.Values, http.Header) {
		return func(c oidctest.Client) (url.Values, http.Header) {
			claims := e.assertionClaims(c)
			edit(claims)
			return url.Values{"client_assertion_type": {jwtBearer}, "client_assertion": {sign(t, jwt.SigningMethodHS256, []byte(c.Secret), claims)}}, nil
		}
	}
	// withAssertion returns client authentication with the given assertion.
	withAssertion := func(assertion func(oidctest.Client) string) func(oidctest.Client) (url.Values, http.Header) {
		return func(c oidctest.Client) (url.Values, http.Header) {
			return url.Values{"client_assertion_type": {jwtBearer}, "client_assertion": {assertion(c)}}, nil
		}
	}
	signedWith := func(method jwt.SigningMethod) func(oidctest.Client) string {
		return func(c oidctest.Client) string { return sign(t, method, []byte(c.Secret), e.assertionClaims(c)) }
	}
	valid := func(c oidctest.Client) (url.Values, http.Header) { return e.clientAuth(c), nil }
	basic := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(e.client.ID+":"+e.client.Secret))}}

	tests := []struct {
		name       string
		client     oidctest.Client // default e.client
		token      bool            // call the token endpoint instead of PAR
		auth       func(oidctest.Client) (url.Values, http.Header)
		wantStatus int    // 0: accepted
		wantCode   string // for errors
	}{
		{name: "valid", auth: valid},
		{name: "aud is the PAR endpoint", auth: withClaims(func(c jwt.MapClaims) { c["aud"] = e.endpoint("pushed_authorization_request_endpoint") })},
		{name: "aud is the token endpoint", auth: withClaims(func(c jwt.MapClaims) { c["aud"] = e.endpoint("token_endpoint") })},
		{name: "aud is an array with other values", auth: withClaims(func(c jwt.MapClaims) { c["aud"] = []string{"https://other.example", e.srv.Issuer} })},
		{name: "aud is the token endpoint at the token endpoint", token: true, auth: withClaims(func(c jwt.MapClaims) { c["aud"] = e.endpoint("token_endpoint") })},
		{name: "HS384", auth: withAssertion(signedWith(jwt.SigningMethodHS384))},
		{name: "HS512", auth: withAssertion(signedWith(jwt.SigningMethodHS512))},
		{name: "HS512 for a client registered for it", client: hs512Only, auth: valid},
		{name: "matching client_id", auth: func(c oidctest.Client) (url.Values, http.Header) {
			return merge(e.clientAuth(c), url.Values{"client_id": {c.ID}}), nil
		}},
		{name: "exp within the clock skew", auth: withClaims(func(c jwt.MapClaims) { c["exp"] = now.Add(-3 * time.Second).Unix() })},
		{name: "exp one hour ahead", auth: withClaims(func(c jwt.MapClaims) { c["exp"] = now.Add(time.Hour).Unix() })},
		{name: "no iat", auth: withClaims(func(c jwt.MapClaims) { delete(c, "iat") })},

		{name: "no authentication", auth: func(oidctest.Client) (url.Values, http.Header) { return nil, nil }, wantStatus: 401, wantCode: "invalid_client"},
		{name: "client_secret_post", auth: func(c oidctest.Client) (url.Values, http.Header) {
			return url.Values{"client_id": {c.ID}, "client_secret": {c.Secret}}, nil
		}, wantStatus: 401, wantCode: "invalid_client"},
		{name: "client_secret_basic", auth: func(oidctest.Client) (url.Values, http.Header) { return nil, basic }, wantStatus: 401, wantCode: "invalid_client"},
		{name: "basic alongside the assertion", auth: func(c oidctest.Client) (url.Values, http.Header) { return e.clientAuth(c), basic }, wantStatus: 400, wantCode: "invalid_request"},
		{name: "client_secret alongside the assertion", auth: func(c oidctest.Client) (url.Values, http.Header) {
			return merge(e.clientAuth(c), url.Values{"client_secret": {c.Secret}}), nil
		}, wantStatus: 400, wantCode: "invalid_request"},
		{name: "wrong assertion type", auth: func(c oidctest.Client) (url.Values, http.Header) {
			return merge(e.clientAuth(c), url.Values{"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:saml2-bearer"}}), nil
		}, wantStatus: 401, wantCode: "invalid_client"},
		{name: "no assertion type", auth: func(c oidctest.Client) (url.Values, http.Header) {
			return url.Values{"client_assertion": {e.assertion(c)}}, nil
		}, wantStatus: 401, wantCode: "invalid_client"},
		{name: "empty assertion", auth: withAssertion(func(oidctest.Client) string { return "" }), wantStatus: 401, wantCode: "invalid_client"},
		{name: "not a JWT", auth: withAssertion(func(oidctest.Client) string { return "not-a-jwt" }), wantStatus: 401, wantCode: "invalid_client"},
		{name: "garbage in three parts", auth: withAssertion(func(oidctest.Client) string { return "a.b.c" }), wantStatus: 401, wantCode: "invalid_client"},
		{name: "payload is not an object", auth: withAssertion(func(c oidctest.Client) string {
			parts := strings.Split(e.assertion(c), ".")
			return parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`["x"]`)) + "." + parts[2]
		}), wantStatus: 401, wantCode: "invalid_client"},
		{name: "alg none", auth: withAssertion(func(c oidctest.Client) string {
			return sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, e.assertionClaims(c))
		}), wantStatus: 401, wantCode: "invalid_client"},
		{name: "RS256", auth: withAssertion(func(c oidctest.Client) string {
			return sign(t, jwt.SigningMethodRS256, rsaKey, e.assertionClaims(c))
		}), wantStatus: 401, wantCode: "invalid_client"},
		{name: "HS256 for a client registered for HS512", client: hs512Only, auth: withAssertion(signedWith(jwt.SigningMethodHS256)), wantStatus: 401, wantCode: "invalid_client"},
		{name: "wrong secret", auth: withAssertion(func(c oidctest.Client) string {
			return sign(t, jwt.SigningMethodHS256, []byte("not the secret"), e.assertionClaims(c))
		}), wantStatus: 401, wantCode: "invalid_client"},
		{name: "crit header", auth: withAssertion(func(c oidctest.Client) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, e.assertionClaims(c))
			tok.Header["crit"] = []string{"exp"}
			s, _ := tok.SignedString([]byte(c.Secret))
			return s
		}), wantStatus: 401, wantCode: "invalid_client"},
		{name: "unknown client", auth: withClaims(func(c jwt.MapClaims) { c["iss"], c["sub"] = "nobody", "nobody" }), wantStatus: 401, wantCode: "invalid_client"},
		{name: "no iss", auth: withClaims(func(c jwt.MapClaims) { delete(c, "iss") }), wantStatus: 401, wantCode: "invalid_client"},
		{name: "iss is a number", auth: withClaims(func(c jwt.MapClaims) { c["iss"] = 42 }), wantStatus: 401, wantCode: "invalid_client"},
		{name: "sub differs from iss", auth: withClaims(func(c jwt.MapClaims) { c["sub"] = "someone" }), wantStatus: 401, wantCode: "invalid_client"},
		{name: "no sub", auth: withClaims(func(c jwt.MapClaims) { delete(c, "sub") }), wantStatus: 401, wantCode: "invalid_client"},
		{name: "client_id differs", auth: func(c oidctest.Client) (url.Values, http.Header) {
			return merge(e.clientAuth(c), url.Values{"client_id": {"someone"}}), nil
		}, wantStatus: 401, wantCode: "invalid_client"},
		{name: "aud is another server", auth: withClaims(func(c jwt.MapClaims) { c["aud"] = "https://other.example" }), wantStatus: 401, wantCode: "invalid_client"},
		{name: "aud is the issuer with a trailing slash", auth: withClaims(func(c jwt.MapClaims) { c["aud"] = e.srv.Issuer + "/" }), wantStatus: 401, wantCode: "invalid_client"},
		{name: "aud is the PAR endpoint at the token endpoint", token: true, auth: withClaims(func(c jwt.MapClaims) { c["aud"] = e.endpoint("pushed_authorization_request_endpoint") }), wantStatus: 401, wantCode: "invalid_client"},
		{name: "no aud", auth: withClaims(func(c jwt.MapClaims) { delete(c, "aud") }), wantStatus: 401, wantCode: "invalid_client"},
		{name: "aud is a number", auth: withClaims(func(c jwt.MapClaims) { c["aud"] = 7 }), wantStatus: 401, wantCode: "invalid_client"},
		{name: "no exp", auth: withClaims(func(c jwt.MapClaims) { delete(c, "exp") }), wantStatus: 401, wantCode: "invalid_client"},
		{name: "exp is a string", auth: withClaims(func(c jwt.MapClaims) { c["exp"] = "tomorrow" }), wantStatus: 401, wantCode: "invalid_client"},
		{name: "exp is huge", auth: withClaims(func(c jwt.MapClaims) { c["exp"] = 1e300 }), wantStatus: 401, wantCode: "invalid_client"},
		{name: "expired", auth: withClaims(func(c jwt.MapClaims) { c["exp"] = now.Add(-30 * time.Second).Unix() }), wantStatus: 401, wantCode: "invalid_client"},
		{name: "exp more than one hour ahead", auth: withClaims(func(c jwt.MapClaims) { c["exp"] = now.Add(time.Hour + 30*time.Second).Unix() }), wantStatus: 401, wantCode: "invalid_client"},
		{name: "iat in the future", auth: withClaims(func(c jwt.MapClaims) { c["iat"] = now.Add(30 * time.Second).Unix() }), wantStatus: 401, wantCode: "invalid_client"},
		{name: "nbf in the future", auth: withClaims(func(c jwt.MapClaims) { c["nbf"] = now.Add(30 * time.Second).Unix() }), wantStatus: 401, wantCode: "invalid_client"},
		{name: "no jti", auth: withClaims(func(c jwt.MapClaims) { delete(c, "jti") }), wantStatus: 401, wantCode: "invalid_client"},
		{name: "empty jti", auth: withClaims(func(c jwt.MapClaims) { c["jti"] = "" }), wantStatus: 401, wantCode: "invalid_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := e.with(t)
			c := tc.client
			if c.ID == "" {
				c = e.client
			}
			auth, header := tc.auth(c)
			var status int
			var body []byte
			if tc.token {
				// Without grant_type, an authenticated request fails with invalid_request.
				status, body = e.postForm(e.endpoint("token_endpoint"), auth, header)
			} else {
				params, _ := e.authParams(c)
				status, body = e.postForm(e.endpoint("pushed_authorization_request_endpoint"), merge(params, auth), header)
			}
			switch {
			case tc.wantStatus != 0:
				wantOAuthError(t, status, body, tc.wantStatus, tc.wantCode)
			case tc.token:
				wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_request")
			case status != http.StatusCreated:
				t.Errorf("status %d, want 201: %s", status, body)
			}
			if strings.Contains(string(body), c.Secret) {
				t.Errorf("the answer contains the client secret: %s", body)
			}
			if a := auth.Get("client_assertion"); len(a) > 8 && strings.Contains(string(body), a) {
				t.Errorf("the answer contains the client assertion: %s", body)
			}
		})
	}
}

// A client that tried to authenticate with the Authorization header is refused in its scheme:
// 401 with a WWW-Authenticate challenge of that scheme (RFC 6749 section 5.2).
func TestClientAuthenticationChallenge(t *testing.T) {
	e := newEnv(t)
	basic := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(e.client.ID+":"+e.client.Secret))}}
	resp, body := e.post(e.endpoint("token_endpoint"), url.Values{"grant_type": {"client_credentials"}}, basic)
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Basic ") {
		t.Errorf("client_secret_basic: %d, WWW-Authenticate %q, want 401 and a Basic challenge: %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
	}
	resp, _ = e.post(e.endpoint("token_endpoint"), url.Values{"grant_type": {"client_credentials"}}, nil)
	if got := resp.Header.Get("WWW-Authenticate"); got != "" {
		t.Errorf("no Authorization header: WWW-Authenticate %q, want none", got)
	}
}

func TestClientAssertionReplay(t *testing.T) {
	e := newEnv(t)
	other := e.addClient(oidctest.Client{})
	claims := e.assertionClaims(e.client)
	assertion := sign(t, jwt.SigningMethodHS256, []byte(e.client.Secret), claims)
	auth := url.Values{"client_assertion_type": {jwtBearer}, "client_assertion": {assertion}}

	params, _ := e.authParams(e.client)
	if status, body := e.par(e.client, merge(params, auth)); status != http.StatusCreated {
		t.Fatalf("first use: status %d: %s", status, body)
	}
	for _, endpoint := range []string{"pushed_authorization_request_endpoint", "token_endpoint"} {
		status, body := e.postForm(e.endpoint(endpoint), merge(params, auth), nil)
		wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
		if !strings.Contains(string(body), "replay") {
			t.Errorf("replay at %s: description does not say replay: %s", endpoint, body)
		}
	}

	// The same jti from another client is that client's own.
	otherClaims := e.assertionClaims(other)
	otherClaims["jti"] = claims["jti"]
	otherParams, _ := e.authParams(other)
	otherAuth := url.Values{"client_assertion_type": {jwtBearer}, "client_assertion": {sign(t, jwt.SigningMethodHS256, []byte(other.Secret), otherClaims)}}
	if status, body := e.par(other, merge(otherParams, otherAuth)); status != http.StatusCreated {
		t.Errorf("same jti from another client: status %d: %s", status, body)
	}
}

func TestAddClient(t *testing.T) {
	e := newEnv(t)
	generated := e.srv.AddClient(oidctest.Client{RedirectURIs: []string{redirectURI}})
	if len(generated.ID) < 16 || strings.ContainsAny(generated.ID, "+/=") {
		t.Errorf("generated ID %q, want a random URL-safe string", generated.ID)
	}
	if raw, err := base64.RawURLEncoding.DecodeString(generated.Secret); err != nil || len(raw) != 32 || len(generated.Secret) != 43 {
		t.Errorf("generated secret %q, want 32 random bytes in base64url (43 characters)", generated.Secret)
	}
	fixed := e.srv.AddClient(oidctest.Client{ID: "my-app", Secret: "my-secret", RedirectURIs: []string{redirectURI}})
	if fixed.ID != "my-app" || fixed.Secret != "my-secret" {
		t.Errorf("AddClient changed given fields: %+v", fixed)
	}
	e.push(fixed, func() url.Values { p, _ := e.authParams(fixed); return p }())

	// A client without redirect URIs is accepted, and PAR says what is wrong.
	none := e.srv.AddClient(oidctest.Client{})
	params, _ := e.authParams(e.client)
	params.Set("client_id", none.ID)
	status, body := e.par(none, params)
	wantOAuthError(t, status, body, http.StatusBadRequest, "invalid_request")

	// An unusable AuthAlg makes authentication fail.
	rs := e.srv.AddClient(oidctest.Client{RedirectURIs: []string{redirectURI}, AuthAlg: "RS256"})
	params, _ = e.authParams(rs)
	status, body = e.par(rs, params)
	wantOAuthError(t, status, body, http.StatusUnauthorized, "invalid_client")
}
