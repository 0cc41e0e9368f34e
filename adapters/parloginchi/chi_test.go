package parloginchi_test

import (
	"net/http"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/adapters/parloginchi"
	"github.com/parlogin/parlogin/internal/adaptertest"
)

// app is the adapter test bench's app in chi's idiom: /private protected with r.With, /api/me
// with r.Use in a group, parlogin's endpoints mounted at /auth.
func app(b *adaptertest.Bench) http.Handler {
	auth := b.New(b.Config)
	r := chi.NewRouter()
	r.Mount("/auth", parloginchi.Routes(auth))
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		u, _ := auth.User(r)
		b.Home(w, u)
	})
	r.With(auth.Require).Get("/private", func(w http.ResponseWriter, r *http.Request) {
		u, _ := parlogin.FromContext(r.Context())
		b.Private(w, u, r.URL.RequestURI())
	})
	r.Group(func(r chi.Router) {
		r.Use(auth.Require)
		r.Get("/api/me", func(w http.ResponseWriter, r *http.Request) {
			u, _ := parlogin.FromContext(r.Context())
			b.Me(w, u)
		})
	})
	return r
}

func TestAdapter(t *testing.T) { adaptertest.Run(t, app) }

// r.Use(auth.Require) before Mount guards parlogin's routes too, and must not loop.
func TestRequireOverEverything(t *testing.T) {
	adaptertest.RunGuardedEverywhere(t, func(b *adaptertest.Bench) http.Handler {
		auth := b.New(b.Config)
		r := chi.NewRouter()
		r.Use(auth.Require)
		r.Mount("/auth", parloginchi.Routes(auth))
		r.Get("/private", func(w http.ResponseWriter, r *http.Request) {
			u, _ := parlogin.FromContext(r.Context())
			b.Private(w, u, r.URL.RequestURI())
		})
		return r
	})
}

// The callback is routed at the last segment of Config.RedirectURL's path, whatever it is.
func TestRoutesAtRedirectURL(t *testing.T) {
	b := adaptertest.StartAt(t, func(b *adaptertest.Bench) http.Handler {
		auth := b.New(b.Config)
		r := chi.NewRouter()
		r.Mount("/sso", parloginchi.Routes(auth))
		r.With(auth.Require).Get("/private", func(w http.ResponseWriter, r *http.Request) {
			u, _ := parlogin.FromContext(r.Context())
			b.Private(w, u, r.URL.RequestURI())
		})
		return r
	}, "/sso/oidc")
	b.Login()
}
