package parloginecho_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/adapters/parloginecho"
	"github.com/parlogin/parlogin/internal/adaptertest"
)

// watch records the errors echo saw for the last request.
type watch struct {
	mu       sync.Mutex
	returned error // what the chain returned to the outermost middleware
	handled  error // what e.HTTPErrorHandler got
}

// errors returns what the last request returned to the outermost middleware and what
// e.HTTPErrorHandler got, and forgets them.
func (a *watch) errors() (returned, handled error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	returned, handled = a.returned, a.handled
	a.returned, a.handled = nil, nil
	return returned, handled
}

// app returns the adapter test bench's app in echo's idiom: /private protected by Require, the
// /api group protected as a whole, parlogin's endpoints mounted at /auth, and its callback also
// routed with echo.WrapHandler at /wrapped/callback. With bridge, Config.ErrorHandler is
// parloginecho.ErrorHandler. a records the errors echo sees.
func app(a *watch, bridge bool) func(b *adaptertest.Bench) http.Handler {
	return func(b *adaptertest.Bench) http.Handler {
		e := echo.New()
		cfg := b.Config
		if bridge {
			cfg.ErrorHandler = parloginecho.ErrorHandler(e)
		}
		auth := b.New(cfg)
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
			u, _ := auth.User(c.Request())
			b.Home(c.Response(), u)
			return nil
		})
		e.GET("/private", func(c echo.Context) error {
			u, _ := parloginecho.User(c)
			b.Private(c.Response(), u, c.Request().URL.RequestURI())
			return nil
		}, parloginecho.Require(auth))
		api := e.Group("/api", parloginecho.Require(auth))
		api.GET("/me", func(c echo.Context) error {
			u, _ := parloginecho.User(c)
			b.Me(c.Response(), u)
			return nil
		})
		return e
	}
}

func TestAdapter(t *testing.T) {
	t.Run("default error handler", func(t *testing.T) { adaptertest.Run(t, app(&watch{}, false)) })
	t.Run("parloginecho.ErrorHandler", func(t *testing.T) { adaptertest.Run(t, app(&watch{}, true)) })
}

// TestErrorHandler checks where parlogin's errors go: with parloginecho.ErrorHandler, they are
// returned through the app's middleware to e.HTTPErrorHandler as *echo.HTTPError, or given to
// e.HTTPErrorHandler directly for a route that does not go through the adapter; without it,
// parlogin answers them itself and echo sees no error.
func TestErrorHandler(t *testing.T) {
	tests := []struct {
		name       string
		req        adaptertest.Request
		wantStatus int
		wantErr    error // the parlogin error
		returned   bool  // returned through the middleware, not only given to e.HTTPErrorHandler
	}{
		{"Require", adaptertest.Request{Method: "GET", Path: "/api/me", API: true}, http.StatusUnauthorized, parlogin.ErrUnauthenticated, true},
		{"Mount: callback", adaptertest.Request{Method: "GET", Path: "/auth/callback?state=x&code=y"}, http.StatusBadRequest, parlogin.ErrInvalidState, true},
		{"Mount: logout", adaptertest.Request{Method: "POST", Path: "/auth/logout", Origin: "https://evil.example"}, http.StatusForbidden, parlogin.ErrCrossOrigin, true},
		{"echo.WrapHandler", adaptertest.Request{Method: "GET", Path: "/wrapped/callback?state=x&code=y"}, http.StatusBadRequest, parlogin.ErrInvalidState, false},
	}
	t.Run("parloginecho.ErrorHandler", func(t *testing.T) {
		a := &watch{}
		b := adaptertest.Start(t, app(a, true))
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got := b.Do(tc.req)
				returned, handled := a.errors()
				wantBody := `{"message":"` + http.StatusText(tc.wantStatus) + `"}` // echo's default error handler
				if got.Status != tc.wantStatus || got.Body != wantBody {
					t.Errorf("%s %s = %d %q, want %d %q", tc.req.Method, tc.req.Path, got.Status, got.Body, tc.wantStatus, wantBody)
				}
				var he *echo.HTTPError
				if !errors.As(handled, &he) || he.Code != tc.wantStatus || !errors.Is(he, tc.wantErr) {
					t.Errorf("e.HTTPErrorHandler got %#v, want an *echo.HTTPError %d wrapping %v", handled, tc.wantStatus, tc.wantErr)
				}
				if tc.returned && returned != handled { //nolint:errorlint // the very value that e.HTTPErrorHandler got
					t.Errorf("the middleware got %v, want the error e.HTTPErrorHandler got", returned)
				}
				if !tc.returned && returned != nil {
					t.Errorf("the middleware got %v, want nil", returned)
				}
			})
		}
	})
	t.Run("default error handler", func(t *testing.T) {
		a := &watch{}
		b := adaptertest.Start(t, app(a, false))
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				got := b.Do(tc.req)
				returned, handled := a.errors()
				// parlogin's own answer: its error page for a browser, the status text for an API client.
				want := http.StatusText(tc.wantStatus)
				if !tc.req.API {
					want = "<h1>" + want + "</h1>"
				}
				if got.Status != tc.wantStatus || !strings.Contains(got.Body, want) {
					t.Errorf("%s %s = %d %q, want %d with %q", tc.req.Method, tc.req.Path, got.Status, got.Body, tc.wantStatus, want)
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

// e.Use(Require(auth)) before Mount guards parlogin's routes too, and must not loop.
func TestRequireOverEverything(t *testing.T) {
	adaptertest.RunGuardedEverywhere(t, func(b *adaptertest.Bench) http.Handler {
		auth := b.New(b.Config)
		e := echo.New()
		e.Use(parloginecho.Require(auth))
		parloginecho.Mount(e.Group("/auth"), auth)
		e.GET("/private", func(c echo.Context) error {
			u, _ := parloginecho.User(c)
			b.Private(c.Response(), u, c.Request().URL.RequestURI())
			return nil
		})
		return e
	})
}

// With Require over everything and parlogin's routes reached another way than Mount (here
// echo.WrapHandler), their failures still reach e.HTTPErrorHandler: Require's own slot for errors
// is closed once it has let the request through.
func TestErrorHandlerBehindRequire(t *testing.T) {
	b := adaptertest.Start(t, func(b *adaptertest.Bench) http.Handler {
		e := echo.New()
		cfg := b.Config
		cfg.ErrorHandler = parloginecho.ErrorHandler(e)
		auth := b.New(cfg)
		e.Use(parloginecho.Require(auth))
		e.Any("/auth/*", echo.WrapHandler(auth.Handler()))
		return e
	})
	for _, tc := range []struct {
		req  adaptertest.Request
		want int
	}{
		{adaptertest.Request{Method: "GET", Path: "/auth/callback?state=x&code=y"}, http.StatusBadRequest},
		{adaptertest.Request{Method: "POST", Path: "/auth/logout", Origin: "https://evil.example"}, http.StatusForbidden},
	} {
		if got := b.Do(tc.req); got.Status != tc.want || got.Body == "" {
			t.Errorf("%s %s = %d %q, want %d with echo's error body", tc.req.Method, tc.req.Path, got.Status, got.Body, tc.want)
		}
	}
}

// The callback is routed at the last segment of Config.RedirectURL's path, whatever it is, and
// Mount on a group of another directory panics rather than leave the provider's redirects to 404.
func TestMountAtRedirectURL(t *testing.T) {
	b := adaptertest.StartAt(t, func(b *adaptertest.Bench) http.Handler {
		auth := b.New(b.Config)
		e := echo.New()
		parloginecho.Mount(e.Group("/sso"), auth)
		e.GET("/private", func(c echo.Context) error {
			u, _ := parloginecho.User(c)
			b.Private(c.Response(), u, c.Request().URL.RequestURI())
			return nil
		}, parloginecho.Require(auth))
		return e
	}, "/sso/oidc")
	b.Login()

	auth := b.New(b.Config)
	defer func() {
		if recover() == nil {
			t.Error("Mount on /auth for a RedirectURL in /sso did not panic")
		}
	}()
	parloginecho.Mount(echo.New().Group("/auth"), auth)
}
