package oidctest_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/oidctest"
)

// Session keys of the test applications: a hash key and a 32-byte encryption key.
var (
	hashKey  = []byte("oidctest-hash-key-0123456789abcdef")
	blockKey = []byte("oidctest-block-key-0123456789abc")
)

// app is a small application protected by parlogin, as users of oidctest write them:
// GET /private answers "hello, <subject>" to a signed-in user, GET / is public.
type app struct {
	*httptest.Server
	URL string // its base URL (the host may differ from the listener's)
}

type appOptions struct {
	tls          bool
	host         string // serve URLs on this host instead of 127.0.0.1, e.g. "localhost" (another site)
	responseMode string
}

func newApp(t *testing.T, srv *oidctest.Server, o appOptions) *app {
	t.Helper()
	mux := http.NewServeMux()
	a := &app{Server: httptest.NewUnstartedServer(mux)}
	if o.tls {
		a.StartTLS()
	} else {
		a.Start()
	}
	t.Cleanup(a.Close)
	a.URL = a.Server.URL
	if o.host != "" {
		u, _ := url.Parse(a.Server.URL)
		a.URL = u.Scheme + "://" + o.host + ":" + u.Port()
	}
	client := srv.AddClient(oidctest.Client{RedirectURIs: []string{a.URL + "/auth/callback"}})
	auth, err := parlogin.New(context.Background(), parlogin.Config{
		Issuer:       srv.Issuer,
		ClientID:     client.ID,
		ClientSecret: client.Secret,
		RedirectURL:  a.URL + "/auth/callback",
		Store:        sessions.NewCookieStore(hashKey, blockKey),
		ResponseMode: o.responseMode,
		Logger:       slog.New(slog.NewTextHandler(t.Output(), nil)),
	})
	if err != nil {
		t.Fatalf("parlogin.New: %v", err)
	}
	mux.HandleFunc("GET /auth/callback", auth.Callback)
	mux.HandleFunc("POST /auth/callback", auth.Callback)
	mux.Handle("GET /private", auth.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := parlogin.FromContext(r.Context())
		fmt.Fprintf(w, "hello, %s", u.Subject)
	})))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "public page")
	})
	return a
}

// resolving returns a copy of c whose transport connects to 127.0.0.1 whatever the host name, so
// that test servers can be reached as, say, app.example.com: another site than 127.0.0.1, and a
// name that httptest's certificate covers.
func resolving(c *http.Client) *http.Client {
	tr := http.DefaultTransport.(*http.Transport)
	if c.Transport != nil {
		tr = c.Transport.(*http.Transport)
	}
	tr = tr.Clone()
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		var d net.Dialer
		return d.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
	}
	out := *c
	out.Transport = tr
	return &out
}

// get fetches u with c and returns the status and body.
func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return resp.StatusCode, string(body)
}

func TestLogin(t *testing.T) {
	tests := []struct {
		name      string
		loginForm bool
		app       appOptions
	}{
		{name: "query"},
		{name: "form_post", app: appOptions{responseMode: "form_post"}},
		{name: "login form", loginForm: true},
		{name: "login form and form_post", loginForm: true, app: appOptions{responseMode: "form_post"}},
		{name: "TLS app", app: appOptions{tls: true}},
		{name: "app on another site", app: appOptions{host: "localhost"}},
		{name: "TLS app on another site, login form and form_post", loginForm: true, app: appOptions{tls: true, host: "app.example.com", responseMode: "form_post"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := oidctest.NewUnstartedServer()
			srv.LoginForm = tc.loginForm
			srv.Start()
			t.Cleanup(srv.Close)
			a := newApp(t, srv, tc.app)

			var c *http.Client
			if tc.app.tls {
				// The provider serves plain HTTP, so its Client does not trust the app.
				base := a.Client()
				if tc.app.host != "" {
					base = resolving(base)
				}
				c = srv.LoginWith(t, base, a.URL+"/private", "bob")
			} else {
				c = srv.Login(t, a.URL+"/private", "bob")
			}
			if status, body := get(t, c, a.URL+"/private"); status != http.StatusOK || body != "hello, bob" {
				t.Errorf("after Login: GET /private = %d %q, want 200 \"hello, bob\"", status, body)
			}
			if len(srv.Requests(parlogin.EndpointToken)) != 1 {
				t.Errorf("%d token requests, want the app's one", len(srv.Requests(parlogin.EndpointToken)))
			}
		})
	}
}

// TestLoginParallel logs different subjects in at once, in parallel tests, through one provider
// and one app: each client must be signed in as its own subject.
func TestLoginParallel(t *testing.T) {
	for _, loginForm := range []bool{false, true} {
		t.Run(fmt.Sprintf("LoginForm=%v", loginForm), func(t *testing.T) {
			t.Parallel()
			srv := oidctest.NewUnstartedServer()
			srv.LoginForm = loginForm
			srv.Start()
			t.Cleanup(srv.Close)
			a := newApp(t, srv, appOptions{responseMode: "form_post"})
			for i := range 8 {
				subject := fmt.Sprintf("user-%d", i)
				t.Run(subject, func(t *testing.T) {
					t.Parallel()
					c := srv.Login(t, a.URL+"/private", subject)
					if status, body := get(t, c, a.URL+"/private"); status != http.StatusOK || body != "hello, "+subject {
						t.Errorf("GET /private = %d %q, want 200 \"hello, %s\"", status, body, subject)
					}
				})
			}
		})
	}
}

func TestLoginBrowserHeaders(t *testing.T) {
	tests := []struct {
		name         string
		host         string
		loginForm    bool
		responseMode string
		// The callback request: its method and Sec-Fetch-Site; a POST has the provider's Origin.
		wantMethod, wantSite string
	}{
		{name: "query, same site", responseMode: "query", wantMethod: http.MethodGet, wantSite: "none"},
		{
			// The navigation was started by the provider's form: same-site (only the port differs).
			name: "login form, query, same site", loginForm: true, responseMode: "query",
			wantMethod: http.MethodGet, wantSite: "same-site",
		},
		{name: "form_post, another site", host: "localhost", responseMode: "form_post", wantMethod: http.MethodPost, wantSite: "cross-site"},
		{name: "login form, form_post, same site", loginForm: true, responseMode: "form_post", wantMethod: http.MethodPost, wantSite: "same-site"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, func(s *oidctest.Server) { s.LoginForm = tc.loginForm })
			a := newRP(t, e.srv, e.clock.Now, rpOptions{host: tc.host, responseMode: tc.responseMode})
			e.srv.Login(t, a.URL+"/me", "bob")

			navigation := http.Header{
				"Sec-Fetch-Mode": {"navigate"},
				"Sec-Fetch-Dest": {"document"},
				"Accept":         {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
			}
			// Typed in the address bar, then redirected within the app.
			for _, path := range []string{"/me", "/login"} {
				got := a.requests(path)[0]
				wantHeaders(t, path, got.header, navigation, http.Header{"Sec-Fetch-Site": {"none"}, "Origin": nil})
			}
			cb := a.requests("/cb")
			if len(cb) != 1 || cb[0].method != tc.wantMethod {
				t.Fatalf("callback requests %v, want one %s", cb, tc.wantMethod)
			}
			want := http.Header{"Sec-Fetch-Site": {tc.wantSite}, "Origin": nil}
			if tc.wantMethod == http.MethodPost {
				want["Origin"] = []string{e.srv.URL}
			}
			wantHeaders(t, "/cb", cb[0].header, navigation, want)

			if tc.loginForm {
				var form url.Values
				for _, p := range e.srv.Requests(parlogin.EndpointAuthorization) {
					if p.Has("interaction") {
						form = p
					}
				}
				if form.Get("username") != "bob" {
					t.Errorf("login form submitted with %v, want username bob", form)
				}
			}
		})
	}
}

// wantHeaders checks that h has the values of every want (nil: the header is absent).
func wantHeaders(t *testing.T, where string, h http.Header, want ...http.Header) {
	t.Helper()
	for _, w := range want {
		for k, v := range w {
			if !reflect.DeepEqual(h.Values(k), v) {
				t.Errorf("%s: %s %q, want %q", where, k, h.Values(k), v)
			}
		}
	}
}

// TestLoginSession checks the provider session of a Login client: later logins through it sign
// the same subject in, in the same session, and authenticate anew only when asked to.
func TestLoginSession(t *testing.T) {
	e := newEnv(t)
	a := newRP(t, e.srv, e.clock.Now, rpOptions{})
	b := newRP(t, e.srv, e.clock.Now, rpOptions{responseMode: "form_post"})
	q := newRP(t, e.srv, e.clock.Now, rpOptions{})
	t0 := e.clock.Now()
	c := e.srv.Login(t, a.URL+"/me", "bob")
	first := a.claims(t, c)
	sid, _ := first["sid"].(string)
	if first["sub"] != "bob" || first["auth_time"] != float64(t0.Unix()) || sid == "" {
		t.Fatalf("first sign-in: %v, want sub bob, auth_time %d and a sid", first, t0.Unix())
	}

	// visit logs in again at r, in c, with the authorization parameters of query, and returns
	// the claims of r's new session.
	visit := func(r *rp, query string) map[string]any {
		t.Helper()
		if got := e.srv.LoginWith(t, c, r.URL+"/login?"+query, "bob"); got != c {
			t.Fatal("LoginWith with a Login client of the same subject returned another client")
		}
		return r.claims(t, c)
	}
	wantSignIn := func(name string, claims map[string]any, authTime time.Time, acr any) {
		t.Helper()
		if claims["sub"] != "bob" || claims["sid"] != sid || claims["auth_time"] != float64(authTime.Unix()) || claims["acr"] != acr {
			t.Errorf("%s: sub %v, sid %v, auth_time %v, acr %v; want bob, %s, %d, %v", name, claims["sub"], claims["sid"], claims["auth_time"], claims["acr"], sid, authTime.Unix(), acr)
		}
	}

	e.clock.Advance(time.Minute)
	wantSignIn("the returned client signs in by itself", q.claims(t, c), t0, nil)
	wantSignIn("another client, form_post", visit(b, ""), t0, nil)
	wantSignIn("max_age not reached", visit(a, "max_age=600"), t0, nil)
	t1 := e.clock.Now()
	wantSignIn("max_age passed", visit(b, "max_age=30"), t1, nil)
	e.clock.Advance(time.Minute)
	t2 := e.clock.Now()
	wantSignIn("step-up", visit(a, "acr_values=urn:acr:mfa"), t2, "urn:acr:mfa")
	e.clock.Advance(time.Minute)
	wantSignIn("acr already reached", visit(b, "acr_values=urn:acr:hwk+urn:acr:mfa"), t2, "urn:acr:mfa")
	wantSignIn("without acr_values, the session's acr", visit(b, ""), t2, "urn:acr:mfa")
	// A new authentication replaces the session's: without acr_values, no acr.
	t3 := e.clock.Now()
	wantSignIn("prompt=login", visit(a, "prompt=login"), t3, nil)
	e.clock.Advance(time.Second)
	wantSignIn("max_age=0", visit(a, "max_age=0&acr_values=urn:acr:mfa"), e.clock.Now(), "urn:acr:mfa")

	if other := a.claims(t, e.srv.Login(t, a.URL+"/me", "bob")); other["sid"] == sid {
		t.Errorf("a second Login shares the first one's session %v", sid)
	}
	if carol := a.claims(t, e.srv.LoginWith(t, c, a.URL+"/login", "carol")); carol["sub"] != "carol" || carol["sid"] == sid {
		t.Errorf("LoginWith another subject: %v, want carol in a new session", carol)
	}
	e.clock.Advance(25 * time.Hour)
	if later := visit(a, ""); later["sid"] == sid || later["sub"] != "bob" {
		t.Errorf("a day later: %v, want bob in a new session", later)
	}
}

// TestLoginSessionWithLoginForm checks that the form is shown only when the session cannot
// answer.
func TestLoginSessionWithLoginForm(t *testing.T) {
	e := newEnv(t, func(s *oidctest.Server) { s.LoginForm = true })
	a := newRP(t, e.srv, e.clock.Now, rpOptions{})
	b := newRP(t, e.srv, e.clock.Now, rpOptions{})
	c := e.srv.Login(t, a.URL+"/me", "bob")
	sid := a.claims(t, c)["sid"]
	if claims := b.claims(t, c); claims["sub"] != "bob" || claims["sid"] != sid {
		t.Errorf("second client: %v, want bob signed in without a form, in session %v", claims, sid)
	}
	for _, query := range []string{"prompt=login", "max_age=0", "acr_values=urn:acr:mfa"} {
		resp, err := c.Get(a.URL + "/login?" + query)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.HasPrefix(resp.Request.URL.String(), e.srv.URL) || !strings.Contains(string(body), `name="username"`) {
			t.Errorf("%s: ended at %s (%d), want the login form", query, resp.Request.URL, resp.StatusCode)
		}
	}
	// prompt=none succeeds with a session.
	get(t, c, b.URL+"/login?prompt=none")
	if claims := b.claims(t, c); claims["sub"] != "bob" || claims["sid"] != sid {
		t.Errorf("prompt=none: %v, want bob in session %v", claims, sid)
	}
}

// TestLoginTLS runs Login against a TLS provider and TLS applications.
func TestLoginTLS(t *testing.T) {
	srv := oidctest.NewTLSServer()
	t.Cleanup(srv.Close)

	// Login's client trusts the provider's certificate, which httptest servers share.
	a := newRP(t, srv, time.Now, rpOptions{tls: true})
	if claims := a.claims(t, srv.Login(t, a.URL+"/me", "bob")); claims["sub"] != "bob" {
		t.Errorf("claims %v, want sub bob", claims)
	}

	// An app on another site, reached through a client that resolves its name.
	b := newRP(t, srv, time.Now, rpOptions{tls: true, host: "app.example.com", responseMode: "form_post"})
	if claims := b.claims(t, srv.LoginWith(t, resolving(srv.Client()), b.URL+"/me", "bob")); claims["sub"] != "bob" {
		t.Errorf("claims %v, want sub bob", claims)
	}
}

// fatalTB records the failure of a helper that calls Fatalf, instead of failing the test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	runtime.Goexit()
}

// failure runs f with a fatalTB on its own goroutine and returns how it failed ("" if it did not).
func failure(t *testing.T, f func(testing.TB)) string {
	tb := &fatalTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(tb)
	}()
	<-done
	return tb.msg
}

func TestLoginFailures(t *testing.T) {
	srv := oidctest.NewServer()
	t.Cleanup(srv.Close)
	a := newApp(t, srv, appOptions{})
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()

	tests := []struct {
		name    string
		target  string
		subject string
		fault   func()
		want    []string
	}{
		{
			name: "target does not start a login", target: a.URL + "/", subject: "bob",
			want: []string{`Login as "bob" at ` + a.URL + "/", "GET " + a.URL + "/ (status 200) without signing in", "public page"},
		},
		{
			name: "the app fails the callback", target: a.URL + "/private", subject: "bob",
			fault: func() { srv.Inject(parlogin.EndpointToken, oidctest.Fault{Error: "server_error", Times: 1}) },
			want:  []string{"ended at GET " + a.URL + "/auth/callback?", "which answered 502"},
		},
		{
			name: "the provider answers an error page", target: a.URL + "/private", subject: "bob",
			fault: func() {
				srv.Inject(parlogin.EndpointAuthorization, oidctest.Fault{Status: http.StatusServiceUnavailable, Body: "the provider is down", Times: 1})
			},
			want: []string{"ended at GET " + srv.Issuer + "/authorize?", "which answered 503: the provider is down"},
		},
		{name: "empty subject", target: a.URL + "/private", subject: "", want: []string{"Enter a username."}},
		{name: "app unreachable", target: closed.URL + "/private", subject: "bob", want: []string{closed.URL + "/private", "connect"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.fault != nil {
				tc.fault()
				defer srv.ClearFaults()
			}
			msg := failure(t, func(tb testing.TB) { srv.Login(tb, tc.target, tc.subject) })
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("failure %q lacks %q", msg, w)
				}
			}
		})
	}
}
