package parloginecho_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/adapters/parloginecho"
	"github.com/parlogin/parlogin/oidctest"
)

// testApp is an echo app protected by parlogin, signing in at an oidctest provider (which signs in
// alice without asking), and a browser with a cookie jar.
type testApp struct {
	t   *testing.T
	url string
	op  *oidctest.Server
	jar http.CookieJar

	served atomic.Int32 // requests that reached a protected handler

	mu       sync.Mutex
	returned error // what the chain returned to the outermost middleware, for the last request
	handled  error // what e.HTTPErrorHandler got, for the last request
}

// newTestApp starts the app: / is public; /private is protected by Require; the /api group is
// protected as a whole; parlogin's endpoints are mounted at /auth, and its callback is also routed
// with echo.WrapHandler at /wrapped/callback. With bridge, Config.ErrorHandler is
// parloginecho.ErrorHandler.
func newTestApp(t *testing.T, bridge bool) *testApp {
	t.Helper()
	a := &testApp{t: t, op: oidctest.NewServer()}
	t.Cleanup(a.op.Close)
	e := echo.New()
	srv := httptest.NewUnstartedServer(e)
	a.url = "http://" + srv.Listener.Addr().String()
	client := a.op.AddClient(oidctest.Client{RedirectURIs: []string{a.url + "/auth/callback"}})
	cfg := parlogin.Config{
		Issuer:       a.op.Issuer,
		ClientID:     client.ID,
		ClientSecret: client.Secret,
		RedirectURL:  a.url + "/auth/callback",
		Store:        sessions.NewCookieStore([]byte("test session key, 32 bytes or more")),
		Logger:       slog.New(slog.DiscardHandler),
	}
	if bridge {
		cfg.ErrorHandler = parloginecho.ErrorHandler(e)
	}
	auth, err := parlogin.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}

	e.HTTPErrorHandler = func(err error, c echo.Context) {
		a.mu.Lock()
		a.handled = err
		a.mu.Unlock()
		e.DefaultHTTPErrorHandler(err, c)
	}
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			err := next(c)
			a.mu.Lock()
			a.returned = err
			a.mu.Unlock()
			return err
		}
	})
	parloginecho.Mount(e.Group("/auth"), auth)
	e.GET("/wrapped/callback", echo.WrapHandler(http.HandlerFunc(auth.Callback)))
	e.GET("/", func(c echo.Context) error {
		if u, ok := auth.User(c.Request()); ok {
			return c.String(http.StatusOK, "home of "+u.Subject)
		}
		return c.String(http.StatusOK, "home of nobody")
	})
	e.GET("/private", func(c echo.Context) error {
		a.served.Add(1)
		u, _ := parloginecho.User(c)
		return c.String(http.StatusOK, "private page of "+u.Subject+" at "+c.Request().URL.RequestURI())
	}, parloginecho.Require(auth))
	api := e.Group("/api", parloginecho.Require(auth))
	api.GET("/me", func(c echo.Context) error {
		a.served.Add(1)
		u, _ := parloginecho.User(c)
		return c.JSON(http.StatusOK, map[string]string{"sub": u.Subject})
	})
	srv.Start()
	t.Cleanup(srv.Close)
	a.jar, _ = cookiejar.New(nil)
	return a
}

// errors returns what the last request returned to the outermost middleware and what
// e.HTTPErrorHandler got, and forgets them.
func (a *testApp) errors() (returned, handled error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	returned, handled = a.returned, a.handled
	a.returned, a.handled = nil, nil
	return returned, handled
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

// forEachErrorHandler runs test with parlogin's default error handler and with
// parloginecho.ErrorHandler.
func forEachErrorHandler(t *testing.T, test func(t *testing.T, a *testApp)) {
	for _, bridge := range []bool{false, true} {
		name := "default error handler"
		if bridge {
			name = "parloginecho.ErrorHandler"
		}
		t.Run(name, func(t *testing.T) { test(t, newTestApp(t, bridge)) })
	}
}

func TestLogin(t *testing.T) {
	forEachErrorHandler(t, func(t *testing.T, a *testApp) {
		a.login()
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
	})
}

func TestAnonymous(t *testing.T) {
	forEachErrorHandler(t, func(t *testing.T, a *testApp) {
		tests := []struct {
			name       string
			req        request
			wantStatus int
			toProvider bool // redirected to the provider's authorization endpoint
		}{
			{"page starts a login", request{method: "GET", path: "/private"}, http.StatusSeeOther, true},
			{"page fetched by a script", request{method: "GET", path: "/private", api: true}, http.StatusUnauthorized, false},
			{"api call", request{method: "GET", path: "/api/me", api: true}, http.StatusUnauthorized, false},
			{"api call from a browser tab", request{method: "GET", path: "/api/me"}, http.StatusSeeOther, true},
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
		if n := a.served.Load(); n != 0 {
			t.Errorf("protected handlers ran %d times for anonymous requests", n)
		}
	})
}

func TestMount(t *testing.T) {
	forEachErrorHandler(t, func(t *testing.T, a *testApp) {
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
			{"GET /auth/logout", request{method: "GET", path: "/auth/logout"}, http.StatusMethodNotAllowed, false},
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
	})
}

func TestLoginLink(t *testing.T) {
	a := newTestApp(t, false)
	if got := a.do(request{method: "GET", path: "/auth/login?return_to=/", follow: true}); got.body != "home of alice" {
		t.Errorf("after /auth/login?return_to=/: %d %q, want home of alice", got.status, got.body)
	}
}

func TestLogout(t *testing.T) {
	forEachErrorHandler(t, func(t *testing.T, a *testApp) {
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
	})
}

// TestErrorHandler checks where parlogin's errors go: with parloginecho.ErrorHandler, they are
// returned through the app's middleware to e.HTTPErrorHandler as *echo.HTTPError, or given to
// e.HTTPErrorHandler directly for a route that does not go through the adapter; without it,
// parlogin answers them itself and echo sees no error.
func TestErrorHandler(t *testing.T) {
	tests := []struct {
		name       string
		req        request
		wantStatus int
		wantErr    error // the parlogin error
		returned   bool  // returned through the middleware, not only given to e.HTTPErrorHandler
	}{
		{"Require", request{method: "GET", path: "/api/me", api: true}, http.StatusUnauthorized, parlogin.ErrUnauthenticated, true},
		{"Mount: callback", request{method: "GET", path: "/auth/callback?state=x&code=y"}, http.StatusBadRequest, parlogin.ErrInvalidState, true},
		{"Mount: logout", request{method: "POST", path: "/auth/logout", origin: "https://evil.example"}, http.StatusForbidden, parlogin.ErrCrossOrigin, true},
		{"echo.WrapHandler", request{method: "GET", path: "/wrapped/callback?state=x&code=y"}, http.StatusBadRequest, parlogin.ErrInvalidState, false},
	}
	t.Run("parloginecho.ErrorHandler", func(t *testing.T) {
		a := newTestApp(t, true)
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got := a.do(tc.req)
				returned, handled := a.errors()
				wantBody := `{"message":"` + http.StatusText(tc.wantStatus) + `"}` // echo's default error handler
				if got.status != tc.wantStatus || got.body != wantBody {
					t.Errorf("%s %s = %d %q, want %d %q", tc.req.method, tc.req.path, got.status, got.body, tc.wantStatus, wantBody)
				}
				var he *echo.HTTPError
				if !errors.As(handled, &he) || he.Code != tc.wantStatus || !errors.Is(he, tc.wantErr) {
					t.Errorf("e.HTTPErrorHandler got %#v, want an *echo.HTTPError %d wrapping %v", handled, tc.wantStatus, tc.wantErr)
				}
				if tc.returned && returned != handled {
					t.Errorf("the middleware got %v, want the error e.HTTPErrorHandler got", returned)
				}
				if !tc.returned && returned != nil {
					t.Errorf("the middleware got %v, want nil", returned)
				}
			})
		}
	})
	t.Run("default error handler", func(t *testing.T) {
		a := newTestApp(t, false)
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got := a.do(tc.req)
				returned, handled := a.errors()
				if want := http.StatusText(tc.wantStatus); got.status != tc.wantStatus || got.body != want {
					t.Errorf("%s %s = %d %q, want %d %q", tc.req.method, tc.req.path, got.status, got.body, tc.wantStatus, want)
				}
				if returned != nil || handled != nil {
					t.Errorf("echo saw errors: returned %v, handled %v; want none", returned, handled)
				}
			})
		}
	})
}

func TestUser(t *testing.T) {
	alice := &parlogin.User{Subject: "alice"}
	tests := []struct {
		name string
		req  *http.Request
		want *parlogin.User
	}{
		{"no request", nil, nil},
		{"no user", httptest.NewRequest("GET", "/", nil), nil},
		{"user in the request context", httptest.NewRequest("GET", "/", nil).WithContext(parlogin.NewContext(context.Background(), alice)), alice},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := echo.New().NewContext(tc.req, httptest.NewRecorder())
			u, ok := parloginecho.User(c)
			if u != tc.want || ok != (tc.want != nil) {
				t.Errorf("User = %v, %v; want %v", u, ok, tc.want)
			}
		})
	}
}
