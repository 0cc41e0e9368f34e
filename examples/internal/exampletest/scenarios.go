package exampletest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/parlogin/parlogin/examples/internal/browser"
	"github.com/parlogin/parlogin/examples/internal/demo"
)

// LoginLogout checks the example end to end: the API refuses an anonymous call, the private page
// leads through the provider's login form and back, the API then answers, and logout ends the
// session at the app and the provider.
func LoginLogout(t *testing.T, app App) {
	srv := Start(t, app, nil, nil)
	b := browser.NewT(t, nil)

	if p := b.Fetch(srv.URL + "/api/me"); p.Status != http.StatusUnauthorized {
		t.Fatalf("anonymous /api/me = %d, want 401", p.Status)
	}
	if p := b.Get(srv.URL + "/"); !strings.Contains(p.Body, "not signed in") {
		t.Fatalf("home page for an anonymous user: %d %s", p.Status, p.Body)
	}
	private := login(t, b, srv.URL+"/private?from=test", "bob")
	var profile struct {
		Subject string `json:"sub"`
		Email   string `json:"email"`
	}
	me := b.Fetch(srv.URL + "/api/me")
	if err := json.Unmarshal([]byte(me.Body), &profile); err != nil || profile.Subject != "bob" || profile.Email != "bob@example.com" {
		t.Fatalf("/api/me after login: %d %s", me.Status, me.Body)
	}

	home := b.Submit(private, nil) // the page's only form: Sign out
	if home.URL.String() != srv.URL+"/" || !strings.Contains(home.Body, "not signed in") {
		t.Fatalf("after logout: %d %s %s", home.Status, home.URL, home.Body)
	}
	if p := b.Fetch(srv.URL + "/api/me"); p.Status != http.StatusUnauthorized {
		t.Fatalf("/api/me after logout = %d, want 401", p.Status)
	}
	if p := b.Get(srv.URL + "/private"); !strings.Contains(p.Body, `name="username"`) {
		t.Fatalf("after logout, /private did not lead to the provider's login form: %d %s", p.Status, p.URL)
	}
}

// login opens target, signs in as username at the embedded provider's login form, and returns
// the page it leads back to, which must be target, signed in.
func login(t *testing.T, b *browser.T, target, username string) *browser.Page {
	t.Helper()
	form := b.Get(target)
	if !strings.Contains(form.Body, `name="username"`) {
		t.Fatalf("%s did not lead to the provider's login form: %d %s %s", target, form.Status, form.URL, form.Body)
	}
	page := b.Submit(form, map[string]string{"username": username})
	if page.Status != http.StatusOK || page.URL.String() != target ||
		!strings.Contains(page.Body, `<strong id="sub">`+username+`</strong>`) {
		t.Fatalf("after login: %d %s %s", page.Status, page.URL, page.Body)
	}
	return page
}

// publicURL is the app's URL behind a proxy in CallbackPath.
const publicURL = "https://app.example"

// CallbackPath checks that the example serves the callback at /auth/callback, GET and POST (for
// form_post), when PARLOGIN_REDIRECT_URL names another host: an empty authorization response
// there reaches parlogin, which refuses it. A PARLOGIN_REDIRECT_URL with another path, which the
// examples' routes at /auth could not serve, stops the example at start.
func CallbackPath(t *testing.T, app App) {
	srv := Start(t, app, map[string]string{"PARLOGIN_REDIRECT_URL": publicURL + "/auth/callback"}, nil)
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		req, _ := http.NewRequest(method, srv.URL+"/auth/callback", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s /auth/callback = %d, want 400 from parlogin", method, resp.StatusCode)
		}
	}
	env := map[string]string{"PARLOGIN_REDIRECT_URL": "http://127.0.0.1:8080/oauth2/callback"}
	if _, err := demo.Load(func(name string) string { return env[name] }); err == nil || !strings.Contains(err.Error(), "/auth/callback") {
		t.Errorf("a redirect URL at /oauth2/callback: %v, want an error naming /auth/callback", err)
	}
}
