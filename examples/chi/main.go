// Command chi is the parlogin example for a chi router. With no configuration it signs in against
// an embedded test provider on 127.0.0.1; set PARLOGIN_ISSUER, PARLOGIN_CLIENT_ID,
// PARLOGIN_CLIENT_SECRET and PARLOGIN_REDIRECT_URL to use a real provider.
//
//	go run ./examples/chi
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"

	"github.com/go-chi/chi/v5"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/adapters/parloginchi"
	"github.com/parlogin/parlogin/examples/internal/demo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := demo.Run(ctx, os.Getenv, os.Stdout, routes); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func routes(auth *parlogin.Middleware, callbackPath string) http.Handler {
	r := chi.NewRouter()
	r.Get("/", func(w http.ResponseWriter, r *http.Request) {
		u, _ := auth.User(r)
		demo.Home(w, u)
	})
	r.With(auth.Require).Get("/private", func(w http.ResponseWriter, r *http.Request) {
		u, _ := parlogin.FromContext(r.Context())
		demo.Private(w, u)
	})
	r.Route("/api", func(r chi.Router) {
		r.Use(auth.Require) // every route of the group
		r.Get("/me", func(w http.ResponseWriter, r *http.Request) {
			u, _ := parlogin.FromContext(r.Context())
			demo.Me(w, u)
		})
	})
	r.Mount("/auth", parloginchi.Routes(auth)) // /auth/callback, /auth/login, /auth/logout
	if callbackPath != "/auth/callback" {      // PARLOGIN_REDIRECT_URL has a path of its own
		r.Get(callbackPath, auth.Callback)
		r.Post(callbackPath, auth.Callback)
	}
	return r
}
