// Command nethttp is the parlogin example for a plain net/http server. With no configuration it
// signs in against an embedded test provider on 127.0.0.1; set PARLOGIN_ISSUER,
// PARLOGIN_CLIENT_ID, PARLOGIN_CLIENT_SECRET and PARLOGIN_REDIRECT_URL to use a real provider.
//
//	go run ./examples/nethttp
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"

	"github.com/parlogin/parlogin"
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
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		u, _ := auth.User(r)
		demo.Home(w, u)
	})
	mux.Handle("GET /private", auth.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := parlogin.FromContext(r.Context())
		demo.Private(w, u)
	})))
	mux.Handle("GET /api/me", auth.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := parlogin.FromContext(r.Context())
		demo.Me(w, u)
	})))
	mux.HandleFunc("GET "+callbackPath, auth.Callback)
	mux.HandleFunc("POST "+callbackPath, auth.Callback) // response_mode=form_post
	mux.HandleFunc("GET /auth/login", auth.Login)
	mux.HandleFunc("POST /auth/logout", auth.Logout)
	return mux
}
