// Command gin is the parlogin example for a gin router. With no configuration it signs in against
// an embedded test provider on 127.0.0.1; set PARLOGIN_ISSUER, PARLOGIN_CLIENT_ID,
// PARLOGIN_CLIENT_SECRET and PARLOGIN_REDIRECT_URL to use a real provider.
//
//	go run ./examples/gin
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"

	"github.com/gin-gonic/gin"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/adapters/parlogingin"
	"github.com/parlogin/parlogin/examples/internal/demo"
)

func main() {
	gin.SetMode(gin.ReleaseMode) // no debug route dump; the example prints its URL itself
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := demo.Run(ctx, os.Getenv, os.Stdout, routes); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func routes(auth *parlogin.Middleware, callbackPath string) http.Handler {
	router := gin.New()
	router.Use(gin.Recovery())
	router.GET("/", func(c *gin.Context) {
		u, _ := auth.User(c.Request)
		demo.Home(c.Writer, u)
	})
	router.GET("/private", parlogingin.Require(auth), func(c *gin.Context) {
		u, _ := parlogingin.User(c)
		demo.Private(c.Writer, u)
	})
	api := router.Group("/api", parlogingin.Require(auth)) // every route of the group
	api.GET("/me", func(c *gin.Context) {
		u, _ := parlogingin.User(c)
		demo.Me(c.Writer, u)
	})
	parlogingin.Mount(router.Group("/auth"), auth) // /auth/callback, /auth/login, /auth/logout
	if callbackPath != "/auth/callback" {          // PARLOGIN_REDIRECT_URL has a path of its own
		router.Match([]string{http.MethodGet, http.MethodPost}, callbackPath, gin.WrapF(auth.Callback))
	}
	return router
}
