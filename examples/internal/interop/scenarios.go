package interop

import (
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/examples/internal/browser"
	"github.com/parlogin/parlogin/examples/internal/exampletest"
)

// App is an example started against the provider, with its client registered.
type App struct {
	*exampletest.Server
	Client Client
	// Requests are the requests the app served, and Log its log.
	Requests *Requests
	Log      *Log
}

// StartApp starts the example's code against p through its PARLOGIN_* settings, as a user would
// run it, and registers its client with p. env adds settings; edit, if not nil, changes parlogin's
// configuration last (see [exampletest.Start]).
func StartApp(t *testing.T, p *Provider, app exampletest.App, alg string, env map[string]string, edit func(*parlogin.Config)) *App {
	t.Helper()
	return startApp(t, p, app, exampletest.Public{}, nil, Client{AuthAlg: alg}, env, edit)
}

// startApp is StartApp for an app reached at pub, calling the provider with client (nil: the
// default client), and registered with the metadata of c beside its ID, secret and URLs; a
// BackchannelLogoutURI or JWKSURI that is a path is on the app. A client with a Key or a JWKSURI
// has no secret: env gives the app its key (PARLOGIN_CLIENT_KEY).
func startApp(t *testing.T, p *Provider, app exampletest.App, pub exampletest.Public, client *http.Client, c Client, env map[string]string, edit func(*parlogin.Config)) *App {
	t.Helper()
	c.ID, c.Secret = "app-"+rand.Text(), rand.Text()+rand.Text()+rand.Text()
	settings := map[string]string{
		"PARLOGIN_ISSUER":        p.Issuer,
		"PARLOGIN_CLIENT_ID":     c.ID,
		"PARLOGIN_CLIENT_SECRET": c.Secret,
		"PARLOGIN_AUTH_ALG":      c.AuthAlg,
	}
	if c.privateKeyJWT() {
		c.Secret = ""
		delete(settings, "PARLOGIN_CLIENT_SECRET")
		delete(settings, "PARLOGIN_AUTH_ALG")
	}
	for k, v := range env {
		settings[k] = v
	}
	a := &App{Client: c, Requests: &Requests{}, Log: &Log{t: t}}
	recorded := exampletest.App{Config: app.Config, Routes: func(auth *parlogin.Middleware, saveTokens bool) http.Handler {
		return a.Requests.Wrap(app.Routes(auth, saveTokens))
	}}
	a.Server = exampletest.StartPublic(t, recorded, pub, settings, func(cfg *parlogin.Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(a.Log, nil))
		cfg.HTTPClient = client
		if edit != nil {
			edit(cfg)
		}
	})
	a.Client.RedirectURIs = []string{a.Env.RedirectURL}
	a.Client.PostLogoutRedirectURIs = []string{a.Env.PostLogoutRedirectURL}
	if strings.HasPrefix(c.BackchannelLogoutURI, "/") {
		a.Client.BackchannelLogoutURI = a.URL + c.BackchannelLogoutURI
	}
	if strings.HasPrefix(c.JWKSURI, "/") {
		a.Client.JWKSURI = a.URL + c.JWKSURI
	}
	p.Register(t, a.Client)
	return a
}

// Login logs in as username from target, through the provider's login and consent pages, and
// returns the page the browser lands on.
func Login(t *testing.T, b *browser.T, appURL, target, username string) *browser.Page {
	t.Helper()
	page := b.Get(appURL + target)
	if !strings.Contains(page.Body, `name="login"`) {
		t.Fatalf("%s did not lead to the provider's login page: %d %s\n%s", target, page.Status, page.URL, page.Body)
	}
	return signIn(t, b, page, username)
}

// TryLogin is Login for logins that may fail on the way: it signs in where the provider asks and
// returns wherever the browser ends.
func TryLogin(t *testing.T, b *browser.T, appURL, target, username string) *browser.Page {
	t.Helper()
	page := b.Get(appURL + target)
	if !strings.Contains(page.Body, `name="login"`) {
		return page
	}
	return signIn(t, b, page, username)
}

// signIn fills in the provider's login page and approves its consent page.
func signIn(t *testing.T, b *browser.T, loginPage *browser.Page, username string) *browser.Page {
	t.Helper()
	page := b.Submit(loginPage, map[string]string{"login": username, "password": "any"})
	if strings.Contains(page.Body, `name="prompt" value="consent"`) {
		page = b.Submit(page, nil)
	}
	return page
}

// LoginLogout checks the example against oidc-provider, with client assertions
// signed with alg: the API refuses an anonymous call, a login through the provider's pages reaches
// the protected page with the right subject, the authorization response carried the provider's
// iss (RFC 9207), the API answers, and logout goes through the provider's end-session endpoint.
func LoginLogout(t *testing.T, app exampletest.App, alg string) {
	p := Start(t)
	a := StartApp(t, p, app, alg, nil, nil)
	b := browser.NewT(t, nil)

	if page := b.Fetch(a.URL + "/api/me"); page.Status != http.StatusUnauthorized {
		t.Fatalf("anonymous /api/me = %d, want 401", page.Status)
	}
	page := Login(t, b, a.URL, "/private?from=interop", "alice")
	if page.Status != http.StatusOK || page.URL.String() != a.URL+"/private?from=interop" ||
		!strings.Contains(page.Body, `<strong id="sub">alice</strong>`) {
		t.Fatalf("after login: %d %s\n%s", page.Status, page.URL, page.Body)
	}
	callback := lastVisit(b, "/auth/callback")
	if callback == nil || callback.Query().Get("iss") != p.Issuer || callback.Query().Get("code") == "" {
		t.Fatalf("the authorization response %v did not carry the provider's iss", callback)
	}
	authorize := firstVisit(b, "/auth")
	if q := authorize.Query(); len(q) != 2 || q.Get("client_id") != a.Client.ID || !strings.HasPrefix(q.Get("request_uri"), "urn:ietf:params:oauth:request_uri:") {
		t.Fatalf("authorization request %s: want only client_id and request_uri", authorize)
	}
	var me struct{ Sub, Email string }
	if err := json.Unmarshal([]byte(b.Fetch(a.URL+"/api/me").Body), &me); err != nil || me.Sub != "alice" || me.Email != "alice@example.com" {
		t.Fatalf("/api/me after login: %+v %v", me, err)
	}

	confirm := b.Submit(page, nil) // the page's Sign out form
	if !strings.Contains(confirm.Body, "op.logoutForm") {
		t.Fatalf("logout did not reach the provider's end-session page: %d %s\n%s", confirm.Status, confirm.URL, confirm.Body)
	}
	home := b.Submit(confirm, map[string]string{"logout": "yes"})
	if home.URL.Path != "/" || home.URL.Host != mustURL(a.URL).Host || !strings.Contains(home.Body, "not signed in") {
		t.Fatalf("after the provider's logout: %d %s\n%s", home.Status, home.URL, home.Body)
	}
	if page := b.Fetch(a.URL + "/api/me"); page.Status != http.StatusUnauthorized {
		t.Fatalf("/api/me after logout = %d, want 401", page.Status)
	}
	// The provider's session ended too: the next login asks for credentials again.
	if page := b.Get(a.URL + "/private"); !strings.Contains(page.Body, `name="login"`) {
		t.Fatalf("after logout the provider did not ask to log in again: %s", page.URL)
	}
}

// RequiresPAR checks that the provider really requires pushed authorization requests from the
// example's client: an authorization request sent through the browser is refused, while the
// example's logins (which always push) work.
func RequiresPAR(t *testing.T, app exampletest.App) {
	p := Start(t)
	a := StartApp(t, p, app, "HS256", nil, nil)
	b := browser.NewT(t, nil)
	q := url.Values{
		"client_id": {a.Client.ID}, "response_type": {"code"}, "scope": {"openid"},
		"redirect_uri": {a.Client.RedirectURIs[0]}, "state": {rand.Text()},
		"code_challenge": {strings.Repeat("a", 43)}, "code_challenge_method": {"S256"},
	}
	page := b.Get(p.Issuer + "/auth?" + q.Encode())
	if page.URL.Path != "/auth/callback" || page.Status != http.StatusBadRequest {
		t.Fatalf("a non-pushed authorization request: %d %s", page.Status, page.URL)
	}
	if e := lastVisit(b, "/auth/callback").Query(); e.Get("error") != "invalid_request" {
		t.Fatalf("provider's answer to a non-pushed request: %v", e)
	}
	if page := Login(t, b, a.URL, "/private", "bob"); !strings.Contains(page.Body, `<strong id="sub">bob</strong>`) {
		t.Fatalf("login with PAR required: %d %s", page.Status, page.URL)
	}
}

// Failure is a login that must end on one of parlogin's error pages.
type Failure struct {
	Name string
	// Config edits the app's configuration; Run runs the browser, starting at the app's URL.
	Config func(*parlogin.Config)
	Run    func(t *testing.T, b *browser.T, appURL string) *browser.Page
	// Status is the status of the error page, Log a text the app's log must contain: the
	// provider's answer as parlogin reports it.
	Status int
	Log    string
}

// Failures checks logins that go wrong against oidc-provider: each must end on parlogin's error
// page with the expected status, not a crash, a loop or a stack trace.
func Failures(t *testing.T, app exampletest.App) {
	p := Start(t)
	tests := []Failure{
		{
			Name:   "wrong client secret",
			Config: func(c *parlogin.Config) { c.ClientSecret = strings.Repeat("w", 64) },
			Run:    tryLogin,
			Status: http.StatusBadGateway,
			Log:    "par endpoint answered invalid_client",
		},
		{
			Name:   "app clock two hours ahead",
			Config: func(c *parlogin.Config) { c.Now = func() time.Time { return time.Now().Add(2 * time.Hour) } },
			Run:    tryLogin,
			Status: http.StatusBadGateway,
			Log:    "invalid id token",
		},
		{
			Name:   "app clock two hours behind",
			Config: func(c *parlogin.Config) { c.Now = func() time.Time { return time.Now().Add(-2 * time.Hour) } },
			Run:    tryLogin,
			Status: http.StatusBadGateway,
			Log:    "par endpoint answered invalid_client",
		},
	}
	for _, tc := range tests {
		t.Run(tc.Name, func(t *testing.T) {
			var logs strings.Builder
			appURL := StartApp(t, p, app, "HS256", nil, func(c *parlogin.Config) {
				c.Logger = newLogger(&logs)
				tc.Config(c)
			}).URL
			b := browser.NewT(t, nil)
			page := tc.Run(t, b, appURL)
			if page.Status != tc.Status || page.URL.Host != mustURL(appURL).Host || !strings.Contains(page.Body, "<h1>"+http.StatusText(tc.Status)+"</h1>") ||
				strings.Contains(page.Body, "parlogin:") {
				t.Fatalf("ended on %d %s\n%s\nwant parlogin's %d page", page.Status, page.URL, page.Body, tc.Status)
			}
			if !strings.Contains(logs.String(), tc.Log) {
				t.Fatalf("app log does not contain %q:\n%s", tc.Log, logs.String())
			}
			t.Logf("provider's answer, as logged by the app: %s", lastLine(logs.String()))
		})
	}
}

// BackButton checks what happens when the browser goes back to the provider's authorization URL.
// Before the login completes, oidc-provider simply shows its login page again. After, its
// request_uri is used: a signed-in user is sent on by parlogin, and a user whose session has gone
// meanwhile gets a fresh login (oidc-provider answers invalid_request_uri without state).
func BackButton(t *testing.T, app exampletest.App) {
	p := Start(t)
	a := StartApp(t, p, app, "HS256", nil, nil)
	b := browser.NewT(t, nil)

	b.Get(a.URL + "/private")
	authorize := firstVisit(b, "/auth")
	page := b.Get(authorize.String()) // back, before signing in
	if !strings.Contains(page.Body, `name="login"`) {
		t.Fatalf("back before signing in: %d %s", page.Status, page.URL)
	}
	if page := signIn(t, b, page, "alice"); !strings.Contains(page.Body, `<strong id="sub">alice</strong>`) {
		t.Fatalf("login: %d %s", page.Status, page.URL)
	}

	page = b.Get(authorize.String()) // back, signed in
	if page.Status != http.StatusOK || page.URL.String() != a.URL+"/" || !strings.Contains(page.Body, `<strong id="sub">alice</strong>`) {
		t.Fatalf("back button when signed in: %d %s\n%s", page.Status, page.URL, page.Body)
	}

	// The app's session ends (it expired, or the app restarted with new keys), then back again.
	b.Client.Jar.SetCookies(mustURL(a.URL), []*http.Cookie{{Name: "parlogin", Path: "/", MaxAge: -1}})
	page = b.Get(authorize.String())
	var answer url.Values
	for _, u := range b.History() {
		if u.Path == "/auth/callback" && u.Query().Has("error") {
			answer = u.Query()
		}
	}
	if answer.Get("error") != "invalid_request_uri" || answer.Has("state") || answer.Get("iss") != p.Issuer {
		t.Fatalf("provider's answer to a used request_uri: %v", answer)
	}
	t.Logf("oidc-provider answered %s", answer.Encode())
	if fresh := lastVisit(b, "/auth"); fresh.Query().Get("request_uri") == authorize.Query().Get("request_uri") {
		t.Fatal("the login did not start again with a fresh request_uri")
	}
	if page.Status != http.StatusOK || !strings.Contains(page.Body, `<strong id="sub">alice</strong>`) {
		t.Fatalf("after the restarted login (the provider remembers alice): %d %s\n%s", page.Status, page.URL, page.Body)
	}
}

// RedisSessions runs the example with its sessions in a real Redis (PARLOGIN_REDIS_ADDR, through
// parloginredis) and the tokens kept (PARLOGIN_SAVE_TOKENS), against oidc-provider: the cookie
// holds only a session identifier, Redis the session under parlogin:session:<ID> and parlogin's
// shared state under parlogin:shared:…, logout sends the ID token as id_token_hint and deletes the
// record, and a copy of the cookie taken before logout no longer opens the session, as it would
// with a cookie store.
func RedisSessions(t *testing.T, app exampletest.App) {
	p := Start(t)
	rdb := StartRedis(t)
	a := StartApp(t, p, app, "HS256", map[string]string{
		"PARLOGIN_REDIS_ADDR":  rdb.Socket,
		"PARLOGIN_SAVE_TOKENS": "1",
	}, nil)
	b := browser.NewT(t, nil)
	page := Login(t, b, a.URL, "/private", "alice")
	if !strings.Contains(page.Body, `<strong id="sub">alice</strong>`) {
		t.Fatalf("login: %d %s", page.Status, page.URL)
	}
	var session *http.Cookie
	for _, c := range b.Cookies(a.URL) {
		if c.Name == "parlogin" {
			session = c
		}
	}
	if session == nil || len(session.Value) > 256 {
		t.Fatalf("session cookie %v: want a small identifier", session)
	}
	if keys := rdb.Keys(t, "parlogin:session:*"); len(keys) != 1 {
		t.Fatalf("Redis holds the sessions %v, want the one session", keys)
	}
	if keys := rdb.Keys(t, "parlogin:shared:*"); len(keys) == 0 {
		t.Fatal("no parlogin:shared:* key in Redis after a login: Config.Shared is not in Redis")
	}

	confirm := b.Submit(page, nil) // Sign out
	if endSession := lastVisit(b, "/session/end"); endSession == nil || endSession.Query().Get("id_token_hint") == "" {
		t.Fatalf("logout went to %v, want the end-session endpoint with id_token_hint", endSession)
	}
	if home := b.Submit(confirm, map[string]string{"logout": "yes"}); !strings.Contains(home.Body, "not signed in") {
		t.Fatalf("after logout: %d %s", home.Status, home.URL)
	}
	if keys := rdb.Keys(t, "parlogin:session:*"); len(keys) != 0 {
		t.Fatalf("Redis still holds %v after logout", keys)
	}
	thief := browser.NewT(t, nil)
	thief.Client.Jar.SetCookies(mustURL(a.URL), []*http.Cookie{{Name: session.Name, Value: session.Value, Path: "/"}})
	if page := thief.Fetch(a.URL + "/api/me"); page.Status != http.StatusUnauthorized {
		t.Fatalf("the session cookie copied before logout: /api/me = %d, want 401", page.Status)
	}
}

func tryLogin(t *testing.T, b *browser.T, appURL string) *browser.Page {
	return TryLogin(t, b, appURL, "/private", "alice")
}
