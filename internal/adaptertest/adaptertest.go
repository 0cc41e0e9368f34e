// Package adaptertest is the test bench of parlogin's framework adapters (parloginchi,
// parlogingin, parloginecho): every adapter's app serves the same routes, and Run checks them all
// the same way, through the real framework router, against an oidctest provider that signs alice
// in without asking. Framework-specific behaviour stays in each adapter's own tests.
package adaptertest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/oidctest"
)

// Bench is an app under test, before and after its router is built.
//
// The app must serve: GET / with [Bench.Home]; GET /private with [Bench.Private] and GET /api/me
// with [Bench.Me], both protected by the adapter; parlogin's callback (GET and POST), login (GET)
// and logout (POST) mounted at /auth.
type Bench struct {
	// URL is where the app listens, known before its router is built.
	URL string
	// Config configures parlogin for the app and the provider.
	Config parlogin.Config
	// Provider is the OpenID Provider.
	Provider *oidctest.Server
	// Served counts the requests that reached a protected handler.
	Served atomic.Int32

	t   *testing.T
	srv *httptest.Server
	jar http.CookieJar
}

// Start starts a provider and an app whose router build returns; build gets the bench with URL
// and Config set, and calls [Bench.New] to make the middleware.
func Start(t *testing.T, build func(b *Bench) http.Handler) *Bench {
	t.Helper()
	return start(t, build, nil, "/auth/callback")
}

// StartAt is Start with the callback at callbackPath, the path of Config.RedirectURL, whose
// directory then holds parlogin's other routes instead of /auth.
func StartAt(t *testing.T, build func(b *Bench) http.Handler, callbackPath string) *Bench {
	t.Helper()
	return start(t, build, nil, callbackPath)
}

// start is Start, for a client that authenticates with key (private_key_jwt) when it is not nil,
// with the callback at callbackPath.
func start(t *testing.T, build func(b *Bench) http.Handler, key crypto.Signer, callbackPath string) *Bench {
	t.Helper()
	b := &Bench{t: t, Provider: oidctest.NewServer()}
	t.Cleanup(b.Provider.Close)
	var app http.Handler
	b.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		app.ServeHTTP(w, r)
	}))
	b.URL = "http://" + b.srv.Listener.Addr().String()
	c := oidctest.Client{RedirectURIs: []string{b.URL + callbackPath}}
	if key != nil {
		c.AuthMethod, c.Keys = "private_key_jwt", []oidctest.ClientKey{{ID: "key-1", Key: key.Public()}}
	}
	client := b.Provider.AddClient(c)
	b.Config = parlogin.Config{
		Issuer:       b.Provider.Issuer,
		ClientID:     client.ID,
		ClientSecret: client.Secret,
		RedirectURL:  b.URL + callbackPath,
		Store:        sessions.NewCookieStore([]byte("test session key, 32 bytes or more"), []byte("test encryption key, 32 bytes...")),
		Logger:       slog.New(slog.DiscardHandler),
	}
	if key != nil {
		b.Config.ClientSecret, b.Config.ClientKeys = "", []parlogin.ClientKey{{ID: "key-1", Signer: key}}
	}
	app = build(b)
	b.srv.Start()
	t.Cleanup(b.srv.Close)
	b.jar, _ = cookiejar.New(nil)
	return b
}

// New returns the middleware for c, typically b.Config with changes.
func (b *Bench) New(c parlogin.Config) *parlogin.Middleware {
	b.t.Helper()
	auth, err := parlogin.New(context.Background(), c)
	if err != nil {
		b.t.Fatal(err)
	}
	return auth
}

// Home writes the public page for u, signed in or nil.
func (b *Bench) Home(w io.Writer, u *parlogin.User) {
	if u == nil {
		_, _ = io.WriteString(w, "home of nobody")
		return
	}
	_, _ = io.WriteString(w, "home of "+u.Subject)
}

// Private writes the protected page for u, at the request URI of the request.
func (b *Bench) Private(w io.Writer, u *parlogin.User, requestURI string) {
	b.Served.Add(1)
	_, _ = io.WriteString(w, "private page of "+u.Subject+" at "+requestURI)
}

// Me writes the protected API's answer for u.
func (b *Bench) Me(w io.Writer, u *parlogin.User) {
	b.Served.Add(1)
	_ = json.NewEncoder(w).Encode(map[string]string{"sub": u.Subject})
}

// Request is a request of the browser: a navigation (Accept: text/html) or an API call.
type Request struct {
	Method, Path string
	API          bool   // Accept: application/json instead of a page
	Origin       string // the Origin header, as a browser sends with a form POST
	Follow       bool   // follow redirects
}

// Response is what the browser got.
type Response struct {
	Status   int
	Location string
	Body     string
}

// Do makes req with the bench's browser, which keeps cookies across requests.
func (b *Bench) Do(req Request) Response {
	b.t.Helper()
	r, err := http.NewRequest(req.Method, b.URL+req.Path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	r.Header.Set("Accept", "text/html")
	if req.API {
		r.Header.Set("Accept", "application/json")
	}
	if req.Origin != "" {
		r.Header.Set("Origin", req.Origin)
	}
	client := &http.Client{Jar: b.jar}
	if !req.Follow {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	resp, err := client.Do(r)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.Path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return Response{resp.StatusCode, resp.Header.Get("Location"), strings.TrimSpace(string(body))}
}

// Login signs alice in through the provider, starting at the protected page.
func (b *Bench) Login() {
	b.t.Helper()
	got := b.Do(Request{Method: http.MethodGet, Path: "/private?tab=1", Follow: true})
	if want := "private page of alice at /private?tab=1"; got.Status != http.StatusOK || got.Body != want {
		b.t.Fatalf("login through /private = %d %q, want 200 %q", got.Status, got.Body, want)
	}
}

// toProvider reports whether location is the provider's authorization endpoint.
func (b *Bench) toProvider(location string) bool {
	return strings.HasPrefix(location, b.Provider.Issuer+"/authorize?")
}

// Run checks an adapter's app, built by build for each test: a login and what it opens, the
// answers to anonymous requests (the protected handlers never run), the mounted routes, the login
// link, logout, and the client's key set, with a client that authenticates with a key.
func Run(t *testing.T, build func(b *Bench) http.Handler) {
	t.Run("login", func(t *testing.T) { testLogin(t, Start(t, build)) })
	t.Run("anonymous", func(t *testing.T) { testAnonymous(t, Start(t, build)) })
	t.Run("routes", func(t *testing.T) { testRoutes(t, Start(t, build)) })
	t.Run("login link", func(t *testing.T) { testLoginLink(t, Start(t, build)) })
	t.Run("logout", func(t *testing.T) { testLogout(t, Start(t, build)) })
	t.Run("jwks", func(t *testing.T) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		testJWKS(t, start(t, build, key, "/auth/callback"))
	})
}

// testJWKS: GET /auth/jwks serves the client's public key, for a provider that reads it from the
// client's jwks_uri, as Handler serves it; and a login signs its assertions with the key.
func testJWKS(t *testing.T, b *Bench) {
	got := b.Do(Request{Method: http.MethodGet, Path: "/auth/jwks", API: true})
	var set struct{ Keys []map[string]any }
	if err := json.Unmarshal([]byte(got.Body), &set); got.Status != http.StatusOK || err != nil || len(set.Keys) != 1 || set.Keys[0]["kid"] != "key-1" {
		t.Errorf("GET /auth/jwks = %d %q, want 200 and the client's key set", got.Status, got.Body)
	}
	b.Login()
}

func testLogin(t *testing.T, b *Bench) {
	b.Login()
	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"page", Request{Method: "GET", Path: "/private"}, "private page of alice at /private"},
		{"api", Request{Method: "GET", Path: "/api/me", API: true}, `{"sub":"alice"}`},
		{"public page", Request{Method: "GET", Path: "/"}, "home of alice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := b.Do(tc.req); got.Status != http.StatusOK || got.Body != tc.want {
				t.Errorf("%s %s = %d %q, want 200 %q", tc.req.Method, tc.req.Path, got.Status, got.Body, tc.want)
			}
		})
	}
}

func testAnonymous(t *testing.T, b *Bench) {
	tests := []struct {
		name       string
		req        Request
		wantStatus int
		toProvider bool // redirected to the provider's authorization endpoint
	}{
		{"page starts a login", Request{Method: "GET", Path: "/private"}, http.StatusSeeOther, true},
		{"api call", Request{Method: "GET", Path: "/api/me", API: true}, http.StatusUnauthorized, false},
		{"page fetched by a script", Request{Method: "GET", Path: "/private", API: true}, http.StatusUnauthorized, false},
		{"api call from a browser tab", Request{Method: "GET", Path: "/api/me"}, http.StatusSeeOther, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := b.Do(tc.req)
			if got.Status != tc.wantStatus {
				t.Errorf("%s %s = %d %q, want %d", tc.req.Method, tc.req.Path, got.Status, got.Body, tc.wantStatus)
			}
			if b.toProvider(got.Location) != tc.toProvider {
				t.Errorf("Location = %q, want a redirect to the provider: %v", got.Location, tc.toProvider)
			}
		})
	}
	if n := b.Served.Load(); n != 0 {
		t.Errorf("protected handlers ran %d times for anonymous requests", n)
	}
	if got := b.Do(Request{Method: "GET", Path: "/"}); got.Body != "home of nobody" {
		t.Errorf("public page = %q", got.Body)
	}
}

func testRoutes(t *testing.T, b *Bench) {
	tests := []struct {
		name       string
		req        Request
		wantStatus int
		toProvider bool
	}{
		{"GET /auth/login", Request{Method: "GET", Path: "/auth/login?return_to=/"}, http.StatusSeeOther, true},
		{"GET /auth/callback without a login", Request{Method: "GET", Path: "/auth/callback?state=x&code=y"}, http.StatusBadRequest, false},
		{"POST /auth/callback without a login", Request{Method: "POST", Path: "/auth/callback"}, http.StatusBadRequest, false},
		{"POST /auth/logout", Request{Method: "POST", Path: "/auth/logout", Origin: b.URL}, http.StatusSeeOther, false},
		// Routers answer a method they do not route with 405 (chi, echo) or 404 (gin's default).
		{"GET /auth/logout", Request{Method: "GET", Path: "/auth/logout"}, http.StatusMethodNotAllowed, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := b.Do(tc.req)
			if tc.wantStatus == http.StatusMethodNotAllowed && got.Status == http.StatusNotFound {
				got.Status = http.StatusMethodNotAllowed
			}
			if got.Status != tc.wantStatus {
				t.Errorf("%s %s = %d %q, want %d", tc.req.Method, tc.req.Path, got.Status, got.Body, tc.wantStatus)
			}
			if b.toProvider(got.Location) != tc.toProvider {
				t.Errorf("Location = %q, want a redirect to the provider: %v", got.Location, tc.toProvider)
			}
		})
	}
}

func testLoginLink(t *testing.T, b *Bench) {
	if got := b.Do(Request{Method: "GET", Path: "/auth/login?return_to=/", Follow: true}); got.Body != "home of alice" {
		t.Errorf("after /auth/login?return_to=/: %d %q, want home of alice", got.Status, got.Body)
	}
}

func testLogout(t *testing.T, b *Bench) {
	b.Login()
	// A cross-origin form cannot sign the user out.
	if got := b.Do(Request{Method: "POST", Path: "/auth/logout", Origin: "https://evil.example"}); got.Status != http.StatusForbidden {
		t.Errorf("cross-origin logout = %d, want 403", got.Status)
	}
	if got := b.Do(Request{Method: "GET", Path: "/api/me", API: true}); got.Status != http.StatusOK {
		t.Fatalf("after a refused logout, /api/me = %d, want 200", got.Status)
	}
	got := b.Do(Request{Method: "POST", Path: "/auth/logout", Origin: b.URL})
	if got.Status != http.StatusSeeOther || !strings.HasPrefix(got.Location, b.Provider.Issuer+"/") {
		t.Errorf("logout = %d to %q, want 303 to the provider's end_session_endpoint", got.Status, got.Location)
	}
	before := b.Served.Load()
	if got := b.Do(Request{Method: "GET", Path: "/api/me", API: true}); got.Status != http.StatusUnauthorized {
		t.Errorf("after logout, /api/me = %d %q, want 401", got.Status, got.Body)
	}
	if n := b.Served.Load() - before; n != 0 {
		t.Errorf("the protected handler ran %d times after logout", n)
	}
}

// RunGuardedEverywhere checks an adapter's app whose every route, parlogin's own included, sits
// behind the adapter's Require, applied to the whole router before parlogin's routes are mounted
// (router.Use(Require(auth)); Mount(...)): the login must end on the page asked for, not loop back
// to the provider from the callback. The app serves GET /private with [Bench.Private].
func RunGuardedEverywhere(t *testing.T, build func(b *Bench) http.Handler) {
	b := Start(t, build)
	b.Login()
	if got := b.Do(Request{Method: http.MethodPost, Path: "/auth/logout", Origin: b.URL}); got.Status != http.StatusSeeOther {
		t.Errorf("logout through the guarded router = %d %q", got.Status, got.Body)
	}
}
