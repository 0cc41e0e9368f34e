package interop

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/examples/internal/browser"
	"github.com/parlogin/parlogin/examples/internal/exampletest"
)

// backchannelLogoutEvent is the member of a logout token's events claim that makes it one.
const backchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// BackchannelLogout checks OpenID Connect Back-Channel Logout with oidc-provider, with cookie
// sessions and with sessions in Redis, and logout tokens that name the provider's session (sid)
// or only the user (sub).
//
// Alice signs in to the example in two browsers, and in the first to a second app too; there she
// signs out, and at oidc-provider's end-session page signs out of the provider as well. The
// provider then posts a logout token to the example's backchannel_logout_uri: the example must
// answer 200 and end the session of the first browser, and, when the token names only the user,
// the second browser's too; with a sid, the second browser, another provider session, stays
// signed in. The token must be what parlogin checks (typ logout+jwt, the back-channel logout
// event, iss, aud, sub, sid), the example's log and events must say that a back-channel logout
// ended the session, and the provider must have seen it succeed.
func BackchannelLogout(t *testing.T, app exampletest.App) {
	p := Start(t)
	for _, store := range []string{"cookie", "redis"} {
		for _, sid := range []bool{true, false} {
			name := store + " sessions/logout token with sub only"
			if sid {
				name = store + " sessions/logout token with sid"
			}
			t.Run(name, func(t *testing.T) { backchannelLogout(t, p, app, store == "redis", sid) })
		}
	}
}

func backchannelLogout(t *testing.T, p *Provider, app exampletest.App, redis, sid bool) {
	env := map[string]string{}
	var rdb *Redis
	if redis {
		rdb = StartRedis(t)
		env["PARLOGIN_REDIS_ADDR"] = rdb.Socket
	}
	var (
		mu     sync.Mutex
		events []parlogin.Event
	)
	a := startApp(t, p, app, exampletest.Public{}, nil, Client{
		AuthAlg:                          "HS256",
		BackchannelLogoutURI:             "/auth/backchannel-logout",
		BackchannelLogoutSessionRequired: sid,
	}, env, func(c *parlogin.Config) {
		c.OnEvent = func(_ context.Context, e parlogin.Event) {
			mu.Lock()
			events = append(events, e)
			mu.Unlock()
		}
	})
	// Where alice signs out: another app, on another host, as cookies on 127.0.0.1 are shared
	// across ports.
	other := startApp(t, p, app, exampletest.Public{Host: "localhost"}, nil, Client{AuthAlg: "HS256"}, nil, nil)

	first, second := browser.NewT(t, nil), browser.NewT(t, nil)
	for _, b := range []*browser.T{first, second} {
		if page := Login(t, b, a.URL, "/private", "alice"); !strings.Contains(page.Body, `<strong id="sub">alice</strong>`) {
			t.Fatalf("login: %d %s", page.Status, page.URL)
		}
	}
	page := visit(t, first, other.URL+"/private", "alice") // signed in at the provider: consent only
	if !strings.Contains(page.Body, `<strong id="sub">alice</strong>`) {
		t.Fatalf("login at the second app: %d %s", page.Status, page.URL)
	}
	for _, b := range []*browser.T{first, second} {
		if me := b.Fetch(a.URL + "/api/me"); me.Status != http.StatusOK {
			t.Fatalf("/api/me before logout = %d", me.Status)
		}
	}
	if rdb != nil {
		if keys := rdb.Keys(t, "parlogin:session:*"); len(keys) != 2 {
			t.Fatalf("Redis holds the sessions %v, want the two browsers'", keys)
		}
	}

	confirm := first.Submit(page, nil) // Sign out, at the second app
	if !strings.Contains(confirm.Body, "op.logoutForm") {
		t.Fatalf("logout did not reach the provider's end-session page: %d %s", confirm.Status, confirm.URL)
	}
	home := first.Submit(confirm, map[string]string{"logout": "yes"}) // and out of the provider
	if home.URL.Host != mustURL(other.URL).Host || !strings.Contains(home.Body, "not signed in") {
		t.Fatalf("after the provider's logout: %d %s", home.Status, home.URL)
	}

	// oidc-provider posts the logout tokens before it redirects the browser back.
	posts := a.Requests.To("/auth/backchannel-logout")
	if len(posts) != 1 || posts[0].Status != http.StatusOK {
		t.Fatalf("back-channel logout requests to the example: %+v, want one answered 200\n%s", posts, p.Stderr())
	}
	checkLogoutToken(t, posts[0].Form.Get("logout_token"), p.Issuer, a.Client.ID, sid)
	if !strings.Contains(p.Stderr(), `{"event":"backchannel.success","client_id":"`+a.Client.ID+`"`) {
		t.Fatalf("oidc-provider did not report the back-channel logout to the example a success:\n%s", p.Stderr())
	}
	kind := "kind=sub"
	if sid {
		kind = "kind=sid"
	}
	if log := a.Log.String(); !strings.Contains(log, `msg="parlogin: back-channel logout" `+kind) {
		t.Fatalf("the example's log does not say that a back-channel logout (%s) ended sessions:\n%s", kind, log)
	}
	mu.Lock()
	var got []parlogin.Event
	for _, e := range events {
		if e.Kind == parlogin.EventBackchannelLogout || e.Kind == parlogin.EventLogout {
			got = append(got, e)
		}
	}
	mu.Unlock()
	if len(got) != 1 || got[0].Kind != parlogin.EventBackchannelLogout || got[0].Subject != "alice" || got[0].Issuer != p.Issuer {
		t.Fatalf("the example's logout events: %+v, want one back-channel logout of alice", got)
	}

	if me := first.Fetch(a.URL + "/api/me"); me.Status != http.StatusUnauthorized {
		t.Fatalf("/api/me in the browser that signed out = %d, want 401", me.Status)
	}
	want := http.StatusUnauthorized // every session of alice
	if sid {
		want = http.StatusOK // another provider session
	}
	if me := second.Fetch(a.URL + "/api/me"); me.Status != want {
		t.Fatalf("/api/me in the other browser = %d, want %d", me.Status, want)
	}
	if posts := other.Requests.To("/auth/backchannel-logout"); len(posts) != 0 {
		t.Fatalf("the provider posted a logout token to the app without a backchannel_logout_uri: %+v", posts)
	}
}

// checkLogoutToken checks that raw is a logout token as parlogin wants one (OpenID Connect
// Back-Channel Logout 1.0 §2.4): typ logout+jwt, the provider's iss, the client as aud, alice as
// sub, the back-channel logout event, a jti and an iat, no nonce, and a sid when the client
// requires one (none otherwise). parlogin verified its signature.
func checkLogoutToken(t *testing.T, raw, issuer, clientID string, sid bool) {
	t.Helper()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("logout token %q is not a JWS", raw)
	}
	var header struct{ Typ, Alg string }
	var claims struct {
		Iss, Sub, Sid, Jti string
		Aud                any
		Iat                int64
		Nonce              *string
		Events             map[string]map[string]any
	}
	for i, v := range []any{&header, &claims} {
		b, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil || json.Unmarshal(b, v) != nil {
			t.Fatalf("logout token part %d: %q %v", i, b, err)
		}
	}
	if header.Typ != "logout+jwt" || header.Alg == "" || strings.HasPrefix(header.Alg, "HS") {
		t.Errorf("logout token header %+v, want typ logout+jwt and an asymmetric alg", header)
	}
	event, ok := claims.Events[backchannelLogoutEvent]
	if claims.Iss != issuer || claims.Aud != clientID || claims.Sub != "alice" || claims.Jti == "" || claims.Iat == 0 ||
		claims.Nonce != nil || !ok || len(event) != 0 || (claims.Sid != "") != sid {
		t.Errorf("logout token claims %+v, want iss %s, aud %s, sub alice, the back-channel logout event, jti, iat, no nonce, and sid: %v",
			claims, issuer, clientID, sid)
	}
	t.Logf("logout token: header %+v, claims %+v", header, claims)
}

// visit opens target and, where it leads to the provider's pages, signs in as username and
// consents, and returns the page the browser ends on.
func visit(t *testing.T, b *browser.T, target, username string) *browser.Page {
	t.Helper()
	page := b.Get(target)
	if strings.Contains(page.Body, `name="login"`) {
		page = b.Submit(page, map[string]string{"login": username, "password": "any"})
	}
	if strings.Contains(page.Body, `name="prompt" value="consent"`) {
		page = b.Submit(page, nil)
	}
	return page
}
