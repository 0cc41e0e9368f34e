package exampletest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/examples/internal/browser"
	"github.com/parlogin/parlogin/examples/internal/demo"
	"github.com/parlogin/parlogin/oidctest"
	"github.com/redis/go-redis/v9"
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

// publicURL is the app's URL behind a proxy in CallbackPath and BehindProxy.
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

// BehindProxy checks that, with PARLOGIN_REDIRECT_URL set to the app's public URL behind a
// proxy, every URL the app sends the provider or a browser to is public: the pushed redirect_uri,
// and the post_logout_redirect_uri of logout, which the provider then redirects to. None derives
// from the listen address.
func BehindProxy(t *testing.T, app App) {
	srv := Start(t, app, map[string]string{"PARLOGIN_REDIRECT_URL": publicURL + "/auth/callback"}, nil)
	op := srv.Env.Provider
	if srv.Env.URL != publicURL {
		t.Errorf("the app's URL is %s, want %s", srv.Env.URL, publicURL)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	send := func(method, target string, header http.Header) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, target, nil)
		if strings.HasPrefix(target, srv.URL) {
			req.Host = "app.example" // as a proxy passes it on
		}
		for name, values := range header {
			req.Header[name] = values
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}

	resp := send(http.MethodGet, srv.URL+"/private", http.Header{"Sec-Fetch-Mode": {"navigate"}, "Accept": {"text/html"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), op.Issuer) {
		t.Fatalf("GET /private = %d to %q, want a redirect to the provider", resp.StatusCode, resp.Header.Get("Location"))
	}
	pushed := op.Requests(parlogin.EndpointPAR)
	if len(pushed) != 1 || pushed[0].Get("redirect_uri") != publicURL+"/auth/callback" {
		t.Fatalf("pushed authorization requests %v, want one with redirect_uri %s/auth/callback", pushed, publicURL)
	}

	resp = send(http.MethodPost, srv.URL+"/auth/logout", http.Header{"Sec-Fetch-Site": {"same-origin"}})
	endSession, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || !strings.HasPrefix(endSession.String(), op.Issuer) ||
		endSession.Query().Get("post_logout_redirect_uri") != publicURL+"/" {
		t.Fatalf("POST /auth/logout = %d to %q, want the provider's end-session endpoint with post_logout_redirect_uri=%s/",
			resp.StatusCode, endSession, publicURL)
	}
	resp = send(http.MethodGet, endSession.String(), nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != publicURL+"/" {
		t.Fatalf("the provider's end-session endpoint answered %d to %q, want a redirect to %s/", resp.StatusCode, resp.Header.Get("Location"), publicURL)
	}
}

// tokenAnswer is the answer of GET /api/token.
type tokenAnswer struct {
	Type   string    `json:"token_type"`
	Expiry time.Time `json:"expiry"`
}

// fetchToken calls GET /api/token and checks that the answer names the token's type and expiry,
// and nothing else: no token.
func fetchToken(t *testing.T, b *browser.T, appURL string) tokenAnswer {
	t.Helper()
	return fetchTokenOfType(t, b, appURL, "Bearer")
}

// fetchTokenOfType is fetchToken for a token of type typ, Bearer or DPoP.
func fetchTokenOfType(t *testing.T, b *browser.T, appURL, typ string) tokenAnswer {
	t.Helper()
	p := b.Fetch(appURL + "/api/token")
	var fields map[string]any
	var answer tokenAnswer
	if p.Status != http.StatusOK || json.Unmarshal([]byte(p.Body), &fields) != nil || json.Unmarshal([]byte(p.Body), &answer) != nil {
		t.Fatalf("/api/token = %d %s, want 200 and JSON", p.Status, p.Body)
	}
	if len(fields) != 2 || answer.Type != typ || answer.Expiry.IsZero() || strings.Contains(p.Body, "eyJ") {
		t.Fatalf("/api/token = %s, want only token_type %s and an RFC 3339 expiry", p.Body, typ)
	}
	return answer
}

// Token checks GET /api/token with PARLOGIN_SAVE_TOKENS=1: 401 for an anonymous call, the token's
// type and expiry for a signed-in user (never the token), a refresh once the access token has
// expired, and, when the provider refuses the refresh token, the status of [parlogin.ErrorStatus]
// and the end of the session.
func Token(t *testing.T, app App) {
	var ahead atomic.Int64 // how far the clocks of the app and the provider are moved ahead
	clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	srv := Start(t, app, map[string]string{
		"PARLOGIN_SAVE_TOKENS": "1",
		"PARLOGIN_SCOPES":      "profile email offline_access", // a refresh token
	}, func(c *parlogin.Config) { c.Now = clock })
	op := srv.Env.Provider
	op.SetClock(clock)
	b := browser.NewT(t, nil)

	if p := b.Fetch(srv.URL + "/api/token"); p.Status != http.StatusUnauthorized {
		t.Fatalf("anonymous /api/token = %d, want 401", p.Status)
	}
	login(t, b, srv.URL+"/private", "bob")
	first := fetchToken(t, b, srv.URL)
	if again := fetchToken(t, b, srv.URL); !again.Expiry.Equal(first.Expiry) {
		t.Fatalf("a token that has not expired changed: expiry %v, then %v", first.Expiry, again.Expiry)
	}

	ahead.Store(int64(time.Until(first.Expiry) + time.Minute))
	second := fetchToken(t, b, srv.URL)
	if !second.Expiry.After(first.Expiry) {
		t.Fatalf("after the access token expired, /api/token has expiry %v, want a refreshed token's, after %v", second.Expiry, first.Expiry)
	}

	ahead.Store(int64(time.Until(second.Expiry) + time.Minute))
	op.Inject(parlogin.EndpointToken, oidctest.Fault{Error: "invalid_grant", ErrorDescription: "the grant was revoked", Times: 1})
	refused := parlogin.ErrorStatus(&parlogin.ProviderError{Endpoint: parlogin.EndpointToken, StatusCode: http.StatusBadRequest, Code: "invalid_grant"})
	if p := b.Fetch(srv.URL + "/api/token"); p.Status != refused || strings.Contains(p.Body, "eyJ") {
		t.Fatalf("/api/token with the refresh refused = %d %s, want %d", p.Status, p.Body, refused)
	}
	if p := b.Fetch(srv.URL + "/api/me"); p.Status != http.StatusUnauthorized {
		t.Fatalf("/api/me after a refused refresh = %d, want 401: the session has ended", p.Status)
	}
}

// BackchannelLogout checks the back-channel logout endpoint, POST /auth/backchannel-logout: a
// logout token from the provider ends the user's session.
func BackchannelLogout(t *testing.T, app App) {
	srv := Start(t, app, nil, nil)
	b := browser.NewT(t, nil)
	login(t, b, srv.URL+"/private", "bob")
	if err := srv.Env.Provider.BackchannelLogout(context.Background(), srv.Env.ClientID, "bob", ""); err != nil {
		t.Fatalf("back-channel logout: %v", err)
	}
	if p := b.Fetch(srv.URL + "/api/me"); p.Status != http.StatusUnauthorized {
		t.Fatalf("/api/me after a back-channel logout = %d, want 401", p.Status)
	}
}

// RedisSessions checks PARLOGIN_REDIS_ADDR with the Redis server at addr (host:port or a unix
// socket): the session cookie holds only a session ID, under which Redis keeps the session, tokens
// included (PARLOGIN_SAVE_TOKENS); parlogin's shared state is in Redis too; logout deletes the
// session's record, so that a copy of the cookie taken before no longer opens it.
func RedisSessions(t *testing.T, app App, addr string) {
	srv := Start(t, app, map[string]string{"PARLOGIN_REDIS_ADDR": addr, "PARLOGIN_SAVE_TOKENS": "1"}, nil)
	opts := &redis.Options{Addr: addr}
	if strings.Contains(addr, "/") {
		opts.Network = "unix"
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	keys := func(pattern string) []string {
		t.Helper()
		keys, err := rdb.Keys(context.Background(), pattern).Result()
		if err != nil {
			t.Fatal(err)
		}
		return keys
	}

	b := browser.NewT(t, nil)
	private := login(t, b, srv.URL+"/private", "bob")
	fetchToken(t, b, srv.URL) // the tokens are kept
	var cookie *http.Cookie
	for _, c := range b.Cookies(srv.URL) {
		if c.Name == "parlogin" {
			cookie = c
		}
	}
	var id string
	if cookie == nil || securecookie.DecodeMulti(cookie.Name, cookie.Value, &id, securecookie.CodecsFromPairs(srv.Env.HashKey, srv.Env.BlockKey)...) != nil {
		t.Fatalf("session cookie %v: want one that the session keys decode", cookie)
	}
	if got := keys("parlogin:session:*"); len(got) != 1 || got[0] != "parlogin:session:"+id {
		t.Fatalf("Redis holds the sessions %v, want the one the cookie names, parlogin:session:%s", got, id)
	}
	if got := keys("parlogin:shared:*"); len(got) == 0 {
		t.Fatal("no parlogin:shared:* key in Redis after a login: Config.Shared is not in Redis")
	}

	if home := b.Submit(private, nil); !strings.Contains(home.Body, "not signed in") { // Sign out
		t.Fatalf("after logout: %d %s", home.Status, home.URL)
	}
	if got := keys("parlogin:session:*"); len(got) != 0 {
		t.Fatalf("Redis still holds %v after logout", got)
	}
	thief := browser.NewT(t, nil)
	appURL, _ := url.Parse(srv.URL)
	thief.Client.Jar.SetCookies(appURL, []*http.Cookie{{Name: cookie.Name, Value: cookie.Value, Path: "/"}})
	if p := thief.Fetch(srv.URL + "/api/me"); p.Status != http.StatusUnauthorized {
		t.Fatalf("the session cookie copied before logout: /api/me = %d, want 401", p.Status)
	}
}
