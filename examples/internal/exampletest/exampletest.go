// Package exampletest is the end-to-end test every example passes: it starts the example with its
// embedded provider and logs in, calls the API, and logs out, as a browser would.
package exampletest

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/parlogin/parlogin/examples/internal/browser"
	"github.com/parlogin/parlogin/examples/internal/demo"
)

// Start starts the example built by mount on a free loopback port, with settings from env on top
// of the defaults, and stops it when the test ends.
func Start(t *testing.T, mount demo.Mount, env map[string]string) *demo.Server {
	t.Helper()
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		if k == "PARLOGIN_ADDR" {
			return "127.0.0.1:0"
		}
		return ""
	}
	srv, err := demo.Start(context.Background(), getenv, testWriter{t}, mount)
	if err != nil {
		t.Fatalf("starting the example: %v", err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// LoginLogout checks the example built by mount end to end: the API refuses an anonymous call,
// the private page leads through the provider's login form and back, the API then answers, and
// logout ends the session at the app and the provider.
func LoginLogout(t *testing.T, mount demo.Mount) {
	srv := Start(t, mount, nil)
	b := browser.NewT(t, nil)

	if p := b.Fetch(srv.URL + "/api/me"); p.Status != http.StatusUnauthorized {
		t.Fatalf("anonymous /api/me = %d, want 401", p.Status)
	}
	if p := b.Get(srv.URL + "/"); !strings.Contains(p.Body, "not signed in") {
		t.Fatalf("home page for an anonymous user: %d %s", p.Status, p.Body)
	}
	login := b.Get(srv.URL + "/private?from=test")
	if !strings.Contains(login.Body, `name="username"`) {
		t.Fatalf("/private did not lead to the provider's login form: %d %s", login.Status, login.Body)
	}
	private := b.Submit(login, map[string]string{"username": "bob"})
	if private.Status != http.StatusOK || private.URL.String() != srv.URL+"/private?from=test" ||
		!strings.Contains(private.Body, `<strong id="sub">bob</strong>`) {
		t.Fatalf("after login: %d %s %s", private.Status, private.URL, private.Body)
	}
	me := b.Fetch(srv.URL + "/api/me")
	var profile struct {
		Subject string `json:"sub"`
		Email   string `json:"email"`
	}
	if err := json.Unmarshal([]byte(me.Body), &profile); err != nil || profile.Subject != "bob" || profile.Email != "bob@example.com" {
		t.Fatalf("/api/me after login: %d %s", me.Status, me.Body)
	}

	home := b.Submit(private, nil) // the page's only form: Sign out
	if home.URL.Path != "/" || !strings.Contains(home.Body, "not signed in") {
		t.Fatalf("after logout: %d %s %s", home.Status, home.URL, home.Body)
	}
	if p := b.Fetch(srv.URL + "/api/me"); p.Status != http.StatusUnauthorized {
		t.Fatalf("/api/me after logout = %d, want 401", p.Status)
	}
}

// CallbackPath checks that the example built by mount serves the callback where
// PARLOGIN_REDIRECT_URL says, not only at /auth/callback: an empty authorization response there
// reaches parlogin, which refuses it.
func CallbackPath(t *testing.T, mount demo.Mount) {
	srv := Start(t, mount, map[string]string{"PARLOGIN_REDIRECT_URL": "http://127.0.0.1:8080/oauth2/callback"})
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		req, _ := http.NewRequest(method, srv.URL+"/oauth2/callback", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s /oauth2/callback = %d, want 400 from parlogin", method, resp.StatusCode)
		}
	}
}

// testWriter sends an example's output to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

var _ io.Writer = testWriter{}
