package parlogin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin/oidctest"
)

func TestSessionExpires(t *testing.T) {
	clk := newClock()
	h := newHarness(t, harnessOptions{config: func(c *Config) { c.Now = clk.Now; c.SessionMaxAge = time.Hour }})
	h.login("/private")
	clk.Add(59 * time.Minute)
	if resp := h.api("/api/me"); resp.StatusCode != http.StatusOK {
		t.Fatalf("session within its lifetime: %d", resp.StatusCode)
	}
	clk.Add(2 * time.Minute)
	if resp := h.api("/api/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("session past its lifetime: %d, want 401", resp.StatusCode)
	}
}

// A session made for one provider is no session for an app configured with another, even when
// both share the session store and its keys.
func TestSessionFromAnotherIssuer(t *testing.T) {
	store := sessions.NewCookieStore([]byte(testSecret))
	h := newHarness(t, harnessOptions{config: func(c *Config) { c.Store = store }})
	h.login("/private")

	other := oidctest.NewTLSServer()
	defer other.Close()
	client := other.AddClient(oidctest.Client{RedirectURIs: []string{h.cfg.RedirectURL}})
	cfg := h.cfg
	cfg.Issuer, cfg.ClientID, cfg.ClientSecret, cfg.HTTPClient = other.Issuer, client.ID, client.Secret, other.Client()
	m, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, h.app.URL+"/api/me", nil)
	for _, c := range h.jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	if _, ok := h.auth.User(req); !ok {
		t.Fatal("the app that made the session does not accept it")
	}
	if _, ok := m.User(req); ok {
		t.Fatal("a session from another issuer was accepted")
	}
}

func TestRefreshChecksSubject(t *testing.T) {
	clk := newClock()
	store := sessions.NewFilesystemStore(t.TempDir(), []byte(testSecret))
	store.MaxLength(0)
	h := newHarness(t, harnessOptions{config: func(c *Config) {
		c.SaveTokens, c.Store, c.Now = true, store, clk.Now
		c.Scopes = append(c.Scopes, "offline_access")
	}})
	h.op.SetClock(clk.Now)
	h.login("/private")
	clk.Add(2 * time.Hour)
	h.op.SetIDTokenHook(func(c map[string]any) { c["sub"] = "mallory" })
	resp := h.navigate(http.MethodGet, "/token", nil)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(readBody(resp), ErrInvalidIDToken.Error()) {
		t.Fatalf("a refresh with an ID token for another subject: %d %s", resp.StatusCode, readBody(resp))
	}
}

// With a server-side store the session cache stays off: a session deleted from the store by
// another instance of the app (a logout there) must end here at once.
func TestServerSideSessionNotCached(t *testing.T) {
	store := sessions.NewFilesystemStore(t.TempDir(), []byte(testSecret))
	h := newHarness(t, harnessOptions{config: func(c *Config) { c.Store = store }})
	h.login("/private")
	if resp := h.api("/api/me"); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed in: %d", resp.StatusCode)
	}
	// Another instance logs the user out: the record goes.
	req, _ := http.NewRequest(http.MethodGet, h.app.URL, nil)
	for _, c := range h.jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	s, err := store.Get(req, "__Host-parlogin")
	if err != nil {
		t.Fatal(err)
	}
	s.Options.MaxAge = -1
	if err := store.Save(req, httptest.NewRecorder(), s); err != nil {
		t.Fatal(err)
	}
	if resp := h.api("/api/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after the record was deleted: %d, want 401", resp.StatusCode)
	}
}

func TestCookieValue(t *testing.T) {
	tests := []struct {
		header []string
		want   string
		found  bool
	}{
		{[]string{"a=1; parlogin=xyz; b=2"}, "xyz", true},
		{[]string{"parlogin=first", "parlogin=second"}, "first", true},
		{[]string{"xparlogin=1;parloginx=2"}, "", false},
		{[]string{"  parlogin=v  ;"}, "v", true},
		{[]string{"parlogin"}, "", false},
		{nil, "", false},
	}
	for _, tc := range tests {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header["Cookie"] = tc.header
		if got, ok := cookieValue(r, "parlogin"); got != tc.want || ok != tc.found {
			t.Errorf("cookieValue(%q) = %q, %v; want %q, %v", tc.header, got, ok, tc.want, tc.found)
		}
	}
}
