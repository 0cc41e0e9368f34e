package parlogin

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parlogin/parlogin/oidctest"
)

// signedIn reports whether the browser of h is signed in at the app.
func (h *harness) signedIn() bool {
	h.t.Helper()
	switch resp := h.api("/api/me"); resp.StatusCode {
	case http.StatusOK:
		return true
	case http.StatusUnauthorized:
		return false
	default:
		h.t.Fatalf("/api/me = %d %s", resp.StatusCode, readBody(resp))
		return false
	}
}

// sid returns the provider session ID of the browser's session at the app.
func (h *harness) sid() string {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.app.URL, nil)
	for _, c := range h.jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	s, err := h.auth.sessions.load(req, true)
	if err != nil || s == nil || s.data.SID == "" {
		h.t.Fatalf("no session with a sid: %v %v", s, err)
	}
	return s.data.SID
}

func TestBackchannelLogout(t *testing.T) {
	t.Run("sid ends that session only", func(t *testing.T) {
		h := newHarness(t, harnessOptions{})
		h.login("/private")
		other := newHarnessBrowser(h) // alice again, in another provider session
		other.login("/private")
		if h.sid() == other.sid() {
			t.Fatal("two logins share a provider session")
		}
		if err := h.op.BackchannelLogout(context.Background(), h.client.ID, "", h.sid()); err != nil {
			t.Fatal(err)
		}
		if h.signedIn() {
			t.Error("the session of the provider session logged out goes on")
		}
		if !other.signedIn() {
			t.Error("the session of another provider session ended too")
		}
	})
	t.Run("sub alone ends every session of the user", func(t *testing.T) {
		h := newHarness(t, harnessOptions{})
		h.login("/private")
		other := newHarnessBrowser(h)
		other.login("/private")
		if err := h.op.BackchannelLogout(context.Background(), h.client.ID, "alice", ""); err != nil {
			t.Fatal(err)
		}
		if h.signedIn() || other.signedIn() {
			t.Error("a session of the user logged out goes on")
		}
		// A login after the logout is a new session.
		h.login("/private")
		if !h.signedIn() {
			t.Error("a login after the back-channel logout does not hold")
		}
	})
	t.Run("the copy of a cookie session", func(t *testing.T) {
		h := newHarness(t, harnessOptions{})
		h.login("/private")
		session := h.cookie("__Host-parlogin")
		if err := h.op.BackchannelLogout(context.Background(), h.client.ID, "", h.sid()); err != nil {
			t.Fatal(err)
		}
		thief := newHarnessBrowser(h)
		thief.setCookie(session.Name, session.Value)
		if thief.signedIn() {
			t.Error("a copy of the session cookie outlives the back-channel logout")
		}
	})
	t.Run("at the provider's end-session endpoint", func(t *testing.T) {
		h := newHarness(t, harnessOptions{config: func(c *Config) { c.SaveTokens = true }})
		h.login("/private")
		other := newHarnessBrowser(h)
		other.login("/private")
		h.follow(h.navigate(http.MethodPost, "/auth/logout", nil)) // to the provider, with id_token_hint
		if other.signedIn() != true {
			t.Error("the provider's logout of one session ended another")
		}
	})
}

// Logout tokens that are not the provider's, not for this client, or not logout tokens are
// refused with 400, and no session ends.
func TestBackchannelLogoutRefused(t *testing.T) {
	rogue, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	edit := func(edit func(map[string]any)) func(*harness) {
		return func(h *harness) { h.op.SetLogoutTokenHook(edit) }
	}
	sign := func(h *harness, claims map[string]any, method jwt.SigningMethod, key any, header map[string]any) string {
		tok := jwt.NewWithClaims(method, jwt.MapClaims(claims))
		tok.Header["typ"] = "logout+jwt"
		if kid, _ := h.op.SigningKey(); method == jwt.SigningMethodRS256 {
			tok.Header["kid"] = kid
		}
		for k, v := range header {
			tok.Header[k] = v
		}
		s, err := tok.SignedString(key)
		if err != nil {
			h.t.Fatal(err)
		}
		return s
	}
	signer := func(f func(h *harness, claims map[string]any) string) func(*harness) {
		return func(h *harness) { h.op.SetLogoutTokenSigner(func(c map[string]any) string { return f(h, c) }) }
	}
	tests := []struct {
		name  string
		setup func(*harness)
	}{
		{"another audience", edit(func(c map[string]any) { c["aud"] = "another-client" })},
		{"another issuer", edit(func(c map[string]any) { c["iss"] = "https://evil.example" })},
		{"expired", edit(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() })},
		{"no exp", edit(func(c map[string]any) { delete(c, "exp") })},
		{"issued long ago", edit(func(c map[string]any) { c["iat"] = time.Now().Add(-time.Hour).Unix() })},
		{"issued in the future", edit(func(c map[string]any) { c["iat"] = time.Now().Add(time.Hour).Unix() })},
		{"no iat", edit(func(c map[string]any) { delete(c, "iat") })},
		{"a nonce", edit(func(c map[string]any) { c["nonce"] = "n" })},
		{"no events", edit(func(c map[string]any) { delete(c, "events") })},
		{"another event", edit(func(c map[string]any) { c["events"] = map[string]any{"urn:other": map[string]any{}} })},
		{"an event that is not an object", edit(func(c map[string]any) { c["events"] = map[string]any{backchannelLogoutEvent: "yes"} })},
		{"a null event", edit(func(c map[string]any) { c["events"] = map[string]any{backchannelLogoutEvent: nil} })},
		{"a null nonce", edit(func(c map[string]any) { c["nonce"] = nil })},
		{"neither sub nor sid", edit(func(c map[string]any) { delete(c, "sub"); delete(c, "sid") })},
		{"no jti", edit(func(c map[string]any) { delete(c, "jti") })},
		{"typed as an access token", signer(func(h *harness, c map[string]any) string {
			_, key := h.op.SigningKey()
			return sign(h, c, jwt.SigningMethodRS256, key, map[string]any{"typ": "at+jwt"})
		})},
		{"signed by another key", signer(func(h *harness, c map[string]any) string {
			return sign(h, c, jwt.SigningMethodRS256, rogue, nil)
		})},
		{"MACed with the client secret", signer(func(h *harness, c map[string]any) string {
			return sign(h, c, jwt.SigningMethodHS256, []byte(h.client.Secret), nil)
		})},
		{"alg none", signer(func(h *harness, c map[string]any) string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims(c)).SignedString(jwt.UnsafeAllowNoneSignatureType)
			return s
		})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{})
			h.login("/private")
			tc.setup(h)
			err := h.op.BackchannelLogout(context.Background(), h.client.ID, "alice", h.sid())
			var refused *oidctest.BackchannelLogoutError
			if !errors.As(err, &refused) || refused.StatusCode != http.StatusBadRequest {
				t.Fatalf("BackchannelLogout = %v, want a 400", err)
			}
			var body map[string]string
			if json.Unmarshal([]byte(refused.Body), &body) != nil || body["error"] != "invalid_request" {
				t.Errorf("answer %q, want a JSON invalid_request", refused.Body)
			}
			if !h.signedIn() {
				t.Error("a refused logout token ended the session")
			}
		})
	}
}

// logoutAndKeepToken has the provider log alice out through the back channel, and returns the
// logout token it sent.
func logoutAndKeepToken(h *harness) string {
	h.t.Helper()
	var token string
	h.op.SetLogoutTokenSigner(func(c map[string]any) string {
		kid, key := h.op.SigningKey()
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(c))
		tok.Header["typ"], tok.Header["kid"] = "logout+jwt", kid
		token, _ = tok.SignedString(key)
		return token
	})
	if err := h.op.BackchannelLogout(context.Background(), h.client.ID, "alice", ""); err != nil {
		h.t.Fatal(err)
	}
	return token
}

// A logout token is good once: sent again (replayed by someone who saw it), it is refused.
func TestBackchannelLogoutReplay(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.login("/private")
	token := logoutAndKeepToken(h)
	h.login("/private") // a new session, after the logout
	resp := h.post("/auth/backchannel-logout", url.Values{"logout_token": {token}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("the same logout token again = %d, want 400", resp.StatusCode)
	}
	if !h.signedIn() {
		t.Error("a replayed logout token ended the new session")
	}
}

// A logout token typed with the generic "JWT" (RFC 7519 §5.1), as Keycloak before 25 types
// them, or not typed at all, is a logout token: the event and the absence of a nonce tell it from
// an ID token.
func TestBackchannelLogoutGenericType(t *testing.T) {
	for _, typ := range []string{"JWT", "jwt", ""} {
		t.Run("typ "+typ, func(t *testing.T) {
			h := newHarness(t, harnessOptions{})
			h.login("/private")
			h.op.SetLogoutTokenSigner(func(c map[string]any) string {
				kid, key := h.op.SigningKey()
				tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(c))
				tok.Header["kid"] = kid
				if typ == "" {
					delete(tok.Header, "typ")
				} else {
					tok.Header["typ"] = typ
				}
				s, _ := tok.SignedString(key)
				return s
			})
			if err := h.op.BackchannelLogout(context.Background(), h.client.ID, "alice", h.sid()); err != nil {
				t.Fatal(err)
			}
			if h.signedIn() {
				t.Error("the logout token did not end the session")
			}
		})
	}
}

// A logout token is remembered for as long as it is accepted, also when the provider's clock is
// behind the app's: the token's times are the provider's, and the memory of used tokens expires
// them by the app's clock.
func TestBackchannelLogoutReplayProviderBehind(t *testing.T) {
	clk := newClock()
	h := newHarness(t, harnessOptions{
		op: func(s *oidctest.Server) {
			s.SetClock(func() time.Time { return clk.Now().Add(-4*time.Minute - 30*time.Second) })
		},
		config: func(c *Config) { c.Now, c.Shared = clk.Now, newMemoryShared(clk.Now) },
	})
	h.login("/private")
	token := logoutAndKeepToken(h)
	clk.Add(2 * time.Minute) // the token is still good by the provider's clock
	h.login("/private")
	if resp := h.post("/auth/backchannel-logout", url.Values{"logout_token": {token}}); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("the same logout token again = %d, want 400", resp.StatusCode)
	}
	if !h.signedIn() {
		t.Error("a replayed logout token ended the new session")
	}
}

func TestBackchannelLogoutMalformed(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	for name, tc := range map[string]struct {
		method string
		body   string
		want   int
	}{
		"GET":              {http.MethodGet, "", http.StatusMethodNotAllowed},
		"no token":         {http.MethodPost, "", http.StatusBadRequest},
		"two tokens":       {http.MethodPost, "logout_token=a&logout_token=b", http.StatusBadRequest},
		"not a JWT":        {http.MethodPost, "logout_token=hello", http.StatusBadRequest},
		"oversized":        {http.MethodPost, "logout_token=" + strings.Repeat("a", maxLogoutRequest), http.StatusBadRequest},
		"malformed escape": {http.MethodPost, "logout_token=%zz", http.StatusBadRequest},
	} {
		t.Run(name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, h.app.URL+"/auth/backchannel-logout", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp := h.do(req)
			if resp.StatusCode != tc.want || resp.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("%d, Cache-Control %q; want %d, no-store", resp.StatusCode, resp.Header.Get("Cache-Control"), tc.want)
			}
		})
	}
}

// A back-channel logout received by one replica ends the session on the others, within
// revocationsStale, with cookie sessions too.
func TestBackchannelLogoutAcrossReplicas(t *testing.T) {
	clk := newClock()
	shared := newMemoryShared(clk.Now)
	h := newHarness(t, harnessOptions{config: func(c *Config) { c.Shared = shared; c.Now = clk.Now }})
	h.login("/private")
	replica, err := New(context.Background(), h.auth.cfg)
	if err != nil {
		t.Fatal(err)
	}
	first := h.auth
	h.use(replica)
	if !h.signedIn() { // the replica reads the log once
		t.Fatal("the other replica does not accept the session")
	}
	h.use(first)
	if err := h.op.BackchannelLogout(context.Background(), h.client.ID, "", h.sid()); err != nil {
		t.Fatal(err)
	}
	h.use(replica)
	clk.Add(revocationsStale)
	if h.signedIn() {
		t.Fatal("the other replica still accepts the session a second after the back-channel logout")
	}
}
