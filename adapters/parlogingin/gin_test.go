package parlogingin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/adapters/parlogingin"
	"github.com/parlogin/parlogin/internal/adaptertest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode) // no debug banner or route dump in the test output
	os.Exit(m.Run())
}

// chain watches the middlewares around Require on /private.
type chain struct {
	later   atomic.Int32 // requests that reached the middleware after Require
	aborted atomic.Int32 // requests that the middleware before Require saw aborted
}

// app returns the adapter test bench's app in gin's idiom: /private protected by Require between
// two middlewares watched by ch, the /api group protected as a whole, parlogin's endpoints mounted
// at /auth. The protected page checks that the gin context and the request context hold the same
// user.
func app(ch *chain) func(b *adaptertest.Bench) http.Handler {
	return func(b *adaptertest.Bench) http.Handler {
		auth := b.New(b.Config)
		router := gin.New()
		parlogingin.Mount(router.Group("/auth"), auth)
		router.GET("/", func(c *gin.Context) {
			u, _ := auth.User(c.Request)
			b.Home(c.Writer, u)
		})
		before := func(c *gin.Context) {
			c.Next()
			if c.IsAborted() {
				ch.aborted.Add(1)
			}
		}
		after := func(*gin.Context) { ch.later.Add(1) }
		router.GET("/private", before, parlogingin.Require(auth), after, func(c *gin.Context) {
			u, ok := parlogingin.User(c)
			if inRequest, _ := parlogin.FromContext(c.Request.Context()); !ok || inRequest != u {
				c.String(http.StatusInternalServerError, "user in the gin context: %v, in the request's: %v", u, inRequest)
				return
			}
			b.Private(c.Writer, u, c.Request.URL.RequestURI())
		})
		api := router.Group("/api", parlogingin.Require(auth))
		api.GET("/me", func(c *gin.Context) {
			u, _ := parlogingin.User(c)
			b.Me(c.Writer, u)
		})
		return router
	}
}

func TestAdapter(t *testing.T) { adaptertest.Run(t, app(&chain{})) }

// TestAbort checks gin's side of an anonymous request: Require aborts the chain, so that the
// middleware before it sees c.IsAborted() and no later handler runs.
func TestAbort(t *testing.T) {
	ch := &chain{}
	b := adaptertest.Start(t, app(ch))
	tests := []struct {
		name        string
		req         adaptertest.Request
		wantStatus  int
		wantAborted int32
	}{
		{"page starts a login", adaptertest.Request{Method: "GET", Path: "/private"}, http.StatusSeeOther, 1},
		{"page fetched by a script", adaptertest.Request{Method: "GET", Path: "/private", API: true}, http.StatusUnauthorized, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			aborted := ch.aborted.Load()
			if got := b.Do(tc.req); got.Status != tc.wantStatus {
				t.Errorf("%s %s = %d %q, want %d", tc.req.Method, tc.req.Path, got.Status, got.Body, tc.wantStatus)
			}
			if n := ch.aborted.Load() - aborted; n != tc.wantAborted {
				t.Errorf("the middleware before Require saw %d aborted requests, want %d", n, tc.wantAborted)
			}
		})
	}
	if n := ch.later.Load(); n != 0 {
		t.Errorf("the middleware after Require ran %d times for anonymous requests", n)
	}
	if n := b.Served.Load(); n != 0 {
		t.Errorf("the protected handler ran %d times for anonymous requests", n)
	}
}

// The user stays in the gin context even when a later middleware replaces c.Request with one
// whose context does not hold it.
func TestUserInGinContext(t *testing.T) {
	b := adaptertest.Start(t, func(b *adaptertest.Bench) http.Handler {
		auth := b.New(b.Config)
		router := gin.New()
		parlogingin.Mount(router.Group("/auth"), auth)
		router.GET("/private", parlogingin.Require(auth), func(c *gin.Context) {
			c.Request = c.Request.WithContext(context.Background())
		}, func(c *gin.Context) {
			u, _ := parlogingin.User(c)
			b.Private(c.Writer, u, c.Request.URL.RequestURI())
		})
		return router
	})
	b.Login()
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

// router.Use(Require(auth)) before Mount guards parlogin's routes too, and must not loop.
func TestRequireOverEverything(t *testing.T) {
	adaptertest.RunGuardedEverywhere(t, func(b *adaptertest.Bench) http.Handler {
		auth := b.New(b.Config)
		router := gin.New()
		router.Use(parlogingin.Require(auth))
		parlogingin.Mount(router.Group("/auth"), auth)
		router.GET("/private", func(c *gin.Context) {
			u, _ := parlogingin.User(c)
			b.Private(c.Writer, u, c.Request.URL.RequestURI())
		})
		return router
	})
}

// The callback is routed at the last segment of Config.RedirectURL's path, whatever it is, and
// Mount on a group of another directory panics rather than leave the provider's redirects to 404.
func TestMountAtRedirectURL(t *testing.T) {
	b := adaptertest.StartAt(t, func(b *adaptertest.Bench) http.Handler {
		auth := b.New(b.Config)
		router := gin.New()
		parlogingin.Mount(router.Group("/sso"), auth)
		router.GET("/private", parlogingin.Require(auth), func(c *gin.Context) {
			u, _ := parlogingin.User(c)
			b.Private(c.Writer, u, c.Request.URL.RequestURI())
		})
		return router
	}, "/sso/oidc")
	b.Login()

	auth := b.New(b.Config)
	defer func() {
		if recover() == nil {
			t.Error("Mount on /auth for a RedirectURL in /sso did not panic")
		}
	}()
	parlogingin.Mount(gin.New().Group("/auth"), auth)
}
