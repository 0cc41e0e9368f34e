// Command echo is the parlogin example for an echo router. With no configuration it signs in
// against an embedded test provider on 127.0.0.1; set PARLOGIN_ISSUER, PARLOGIN_CLIENT_ID,
// PARLOGIN_CLIENT_SECRET and PARLOGIN_REDIRECT_URL to use a real provider.
//
//	go run ./examples/echo
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"

	"github.com/labstack/echo/v4"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/adapters/parloginecho"
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
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.GET("/", func(c echo.Context) error {
		u, _ := auth.User(c.Request())
		demo.Home(c.Response(), u)
		return nil
	})
	e.GET("/private", func(c echo.Context) error {
		u, _ := parloginecho.User(c)
		demo.Private(c.Response(), u)
		return nil
	}, parloginecho.Require(auth))
	api := e.Group("/api", parloginecho.Require(auth)) // every route of the group
	api.GET("/me", func(c echo.Context) error {
		u, _ := parloginecho.User(c)
		demo.Me(c.Response(), u)
		return nil
	})
	parloginecho.Mount(e.Group("/auth"), auth) // /auth/callback, /auth/login, /auth/logout
	if callbackPath != "/auth/callback" {      // PARLOGIN_REDIRECT_URL has a path of its own
		callback := echo.WrapHandler(http.HandlerFunc(auth.Callback))
		e.Match([]string{http.MethodGet, http.MethodPost}, callbackPath, callback)
	}
	return e
}
