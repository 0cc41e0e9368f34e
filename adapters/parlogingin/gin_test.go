package parlogingin_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/adapters/parlogingin"
	"github.com/parlogin/parlogin/oidctest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode) // no debug banner or route dump in the test output
	os.Exit(m.Run())
}

// testApp is a gin app protected by parlogin, signing in at an oidctest provider (which signs in
// alice without asking), and a browser with a cookie jar.
type testApp struct {
	t   *testing.T
	url string
	op  *oidctest.Server
	jar http.CookieJar

	served  atomic.Int32 // requests that reached a protected handler
	later   atomic.Int32 // requests that reached the middleware after Require
	aborted atomic.Int32 // requests that the middleware before Require saw aborted
}

// newTestApp starts the app: / is public; /private is protected by Require between two
// middlewares; the /api group is protected as a whole; parlogin's endpoints are mounted at /auth.
func newTestApp(t *testing.T) *testApp {
	t.Helper()
	a := &testApp{t: t, op: oidctest.NewServer()}
	t.Cleanup(a.op.Close)
	router := gin.New()
	srv := httptest.NewUnstartedServer(router)
	a.url = "http://" + srv.Listener.Addr().String()
	client := a.op.AddClient(oidctest.Client{RedirectURIs: []string{a.url + "/auth/callback"}})
	auth, err := parlogin.New(context.Background(), parlogin.Config{
		Issuer:       a.op.Issuer,
		ClientID:     client.ID,
		ClientSecret: client.Secret,
		RedirectURL:  a.url + "/auth/callback",
		Store:        sessions.NewCookieStore([]byte("test session key, 32 bytes or more")),
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}

	parlogingin.Mount(router.Group("/auth"), auth)
	router.GET("/", func(c *gin.Context) {
		if u, ok := auth.User(c.Request); ok {
			c.String(http.StatusOK, "home of %s", u.Subject)
			return
		}
		c.String(http.StatusOK, "home of nobody")
	})
	before := func(c *gin.Context) {
		c.Next()
		if c.IsAborted() {
			a.aborted.Add(1)
		}
	}
	after := func(c *gin.Context) { a.later.Add(1) }
	router.GET("/private", before, parlogingin.Require(auth), after, func(c *gin.Context) {
		a.served.Add(1)
		u, ok := parlogingin.User(c)
		if inRequest, _ := parlogin.FromContext(c.Request.Context()); !ok || inRequest != u {
			c.String(http.StatusInternalServerError, "user in the gin context: %v, in the request's: %v", u, inRequest)
			return
		}
		c.String(http.StatusOK, "private page of %s at %s", u.Subject, c.Request.URL.RequestURI())
	})
	api := router.Group("/api", parlogingin.Require(auth))
	api.GET("/me", func(c *gin.Context) {
		a.served.Add(1)
		u, _ := parlogingin.User(c)
		c.JSON(http.StatusOK, gin.H{"sub": u.Subject})
	})
	srv.Start()
	t.Cleanup(srv.Close)
	a.jar, _ = cookiejar.New(nil)
	return a
}

// request is a request of the browser: a navigation (Accept: text/html) or an API call.
type request struct {
	method, path string
	api          bool   // Accept: application/json instead of a page
	origin       string // Origin header, as a browser sends with a form POST
	follow       bool   // follow redirects
}

type response struct {
	status   int
	location string
	body     string
}

func (a *testApp) do(req request) response {
	a.t.Helper()
	r, err := http.NewRequest(req.method, a.url+req.path, nil)
	if err != nil {
		a.t.Fatal(err)
	}
	if req.api {
		r.Header.Set("Accept", "application/json")
	} else {
		r.Header.Set("Accept", "text/html")
	}
	if req.origin != "" {
		r.Header.Set("Origin", req.origin)
	}
	client := &http.Client{Jar: a.jar}
	if !req.follow {
		client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	resp, err := client.Do(r)
	if err != nil {
		a.t.Fatalf("%s %s: %v", req.method, req.path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return response{resp.StatusCode, resp.Header.Get("Location"), strings.TrimSpace(string(body))}
}

// login signs alice in through the provider, starting at a protected page.
func (a *testApp) login() {
	a.t.Helper()
	got := a.do(request{method: "GET", path: "/private?tab=1", follow: true})
	if want := "private page of alice at /private?tab=1"; got.status != http.StatusOK || got.body != want {
		a.t.Fatalf("login through /private = %d %q, want 200 %q", got.status, got.body, want)
	}
}

func TestLogin(t *testing.T) {
	a := newTestApp(t)
	a.login() // aborted once: the first visit to /private, before the login
	aborted := a.aborted.Load()
	tests := []struct {
		name string
		req  request
		want string
	}{
		{"page", request{method: "GET", path: "/private"}, "private page of alice at /private"},
		{"api", request{method: "GET", path: "/api/me", api: true}, `{"sub":"alice"}`},
		{"public page", request{method: "GET", path: "/"}, "home of alice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := a.do(tc.req); got.status != http.StatusOK || got.body != tc.want {
				t.Errorf("%s %s = %d %q, want 200 %q", tc.req.method, tc.req.path, got.status, got.body, tc.want)
			}
		})
	}
	if n := a.aborted.Load() - aborted; n != 0 {
		t.Errorf("%d signed-in requests were aborted", n)
	}
}

func TestAnonymous(t *testing.T) {
	a := newTestApp(t)
	tests := []struct {
		name        string
		req         request
		wantStatus  int
		toProvider  bool // redirected to the provider's authorization endpoint
		wantAborted int32
	}{
		{"page starts a login", request{method: "GET", path: "/private"}, http.StatusSeeOther, true, 1},
		{"page fetched by a script", request{method: "GET", path: "/private", api: true}, http.StatusUnauthorized, false, 1},
		{"api call", request{method: "GET", path: "/api/me", api: true}, http.StatusUnauthorized, false, 0},
		{"api call from a browser tab", request{method: "GET", path: "/api/me"}, http.StatusSeeOther, true, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			aborted := a.aborted.Load()
			got := a.do(tc.req)
			if got.status != tc.wantStatus {
				t.Errorf("%s %s = %d %q, want %d", tc.req.method, tc.req.path, got.status, got.body, tc.wantStatus)
			}
			if toProvider := strings.HasPrefix(got.location, a.op.Issuer+"/authorize?"); toProvider != tc.toProvider {
				t.Errorf("Location = %q, want a redirect to the provider: %v", got.location, tc.toProvider)
			}
			if n := a.aborted.Load() - aborted; n != tc.wantAborted {
				t.Errorf("the middleware before Require saw %d aborted requests, want %d", n, tc.wantAborted)
			}
		})
	}
	if n := a.served.Load(); n != 0 {
		t.Errorf("protected handlers ran %d times for anonymous requests", n)
	}
	if n := a.later.Load(); n != 0 {
		t.Errorf("the middleware after Require ran %d times for anonymous requests", n)
	}
}

func TestMount(t *testing.T) {
	a := newTestApp(t)
	tests := []struct {
		name       string
		req        request
		wantStatus int
		toProvider bool
	}{
		{"GET /auth/login", request{method: "GET", path: "/auth/login?return_to=/"}, http.StatusSeeOther, true},
		{"GET /auth/callback without a login", request{method: "GET", path: "/auth/callback?state=x&code=y"}, http.StatusBadRequest, false},
		{"POST /auth/callback without a login", request{method: "POST", path: "/auth/callback"}, http.StatusBadRequest, false},
		{"POST /auth/logout", request{method: "POST", path: "/auth/logout", origin: a.url}, http.StatusSeeOther, false},
		{"GET /auth/logout", request{method: "GET", path: "/auth/logout"}, http.StatusNotFound, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := a.do(tc.req)
			if got.status != tc.wantStatus {
				t.Errorf("%s %s = %d %q, want %d", tc.req.method, tc.req.path, got.status, got.body, tc.wantStatus)
			}
			if toProvider := strings.HasPrefix(got.location, a.op.Issuer+"/authorize?"); toProvider != tc.toProvider {
				t.Errorf("Location = %q, want a redirect to the provider: %v", got.location, tc.toProvider)
			}
		})
	}
}

func TestLoginLink(t *testing.T) {
	a := newTestApp(t)
	if got := a.do(request{method: "GET", path: "/auth/login?return_to=/", follow: true}); got.body != "home of alice" {
		t.Errorf("after /auth/login?return_to=/: %d %q, want home of alice", got.status, got.body)
	}
}

func TestLogout(t *testing.T) {
	a := newTestApp(t)
	a.login()

	// A cross-origin form cannot sign the user out.
	if got := a.do(request{method: "POST", path: "/auth/logout", origin: "https://evil.example"}); got.status != http.StatusForbidden {
		t.Errorf("cross-origin logout = %d, want 403", got.status)
	}
	if got := a.do(request{method: "GET", path: "/api/me", api: true}); got.status != http.StatusOK {
		t.Fatalf("after a refused logout, /api/me = %d, want 200", got.status)
	}

	got := a.do(request{method: "POST", path: "/auth/logout", origin: a.url})
	if got.status != http.StatusSeeOther || !strings.HasPrefix(got.location, a.op.Issuer+"/") {
		t.Errorf("logout = %d to %q, want 303 to the provider's end_session_endpoint", got.status, got.location)
	}
	before := a.served.Load()
	if got := a.do(request{method: "GET", path: "/api/me", api: true}); got.status != http.StatusUnauthorized {
		t.Errorf("after logout, /api/me = %d %q, want 401", got.status, got.body)
	}
	if n := a.served.Load() - before; n != 0 {
		t.Errorf("the protected handler ran %d times after logout", n)
	}
}

func TestUser(t *testing.T) {
	alice := &parlogin.User{Subject: "alice"}
	tests := []struct {
		name  string
		setup func(c *gin.Context)
		want  *parlogin.User
	}{
		{"no request", func(c *gin.Context) {}, nil},
		{"no user", func(c *gin.Context) { c.Request = httptest.NewRequest("GET", "/", nil) }, nil},
		{"user in the request context", func(c *gin.Context) {
			c.Request = httptest.NewRequest("GET", "/", nil)
			c.Request = c.Request.WithContext(parlogin.NewContext(c.Request.Context(), alice))
		}, alice},
		{"app value under a look-alike key", func(c *gin.Context) {
			c.Request = httptest.NewRequest("GET", "/", nil)
			c.Set("user", alice)
			c.Set("github.com/parlogin/parlogin/adapters/parlogingin.user", alice)
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := gin.CreateTestContext(httptest.NewRecorder())
			tc.setup(c)
			u, ok := parlogingin.User(c)
			if u != tc.want || ok != (tc.want != nil) {
				t.Errorf("User = %v, %v; want %v", u, ok, tc.want)
			}
		})
	}
}
