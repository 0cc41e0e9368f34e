// Command gin is parlogin's example for a gin router. From the repository's root,
//
//	go run ./examples/gin
//
// prints the URL to open. With no configuration it signs in at an embedded test provider; the
// PARLOGIN_* variables (see examples/internal/demo) name a real provider, Redis, and more.
package main

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/adapters/parlogingin"
	"github.com/parlogin/parlogin/examples/internal/demo"
	"github.com/parlogin/parlogin/stores/parloginredis"
)

func main() {
	gin.SetMode(gin.ReleaseMode)     // no route dump: the example prints its URL
	env, err := demo.Load(os.Getenv) // the PARLOGIN_* variables
	if err != nil {
		log.Fatal(err)
	}
	auth, err := parlogin.New(context.Background(), config(env))
	if err != nil {
		log.Fatal(err) // bad configuration, or the provider is unreachable
	}
	log.Printf("parlogin example: open %s/private", env.URL)
	log.Fatal(http.ListenAndServe(env.Addr, routes(auth, env.SaveTokens)))
}

// config is parlogin's configuration.
func config(env *demo.Env) parlogin.Config {
	c := parlogin.Config{
		Issuer:       env.Issuer,
		ClientID:     env.ClientID,
		ClientSecret: env.ClientSecret,
		ClientKeys:   env.ClientKeys,  // PARLOGIN_CLIENT_KEY: private_key_jwt, instead of the secret
		RedirectURL:  env.RedirectURL, // the public URL of /auth/callback
		// The cookies' keys, derived with HKDF from PARLOGIN_SESSION_KEY (openssl rand -hex 32),
		// which every replica shares; without it, random keys end the sessions at each restart.
		Store:  sessions.NewCookieStore(env.HashKey, env.BlockKey),
		Scopes: env.Scopes, // "profile email": parlogin itself asks for "openid" only
		// Where the provider sends the user after logout: RedirectURL's origin + "/".
		PostLogoutRedirectURL: env.PostLogoutRedirectURL,
		SigningAlg:            env.SigningAlg,
		ResponseMode:          env.ResponseMode,
		SaveTokens:            env.SaveTokens,
		DPoP:                  env.DPoP,    // PARLOGIN_DPOP=1: tokens bound to a key of the session
		Profile:               env.Profile, // PARLOGIN_PROFILE=fapi2: FAPI 2.0's rules, which New checks
	}
	if env.Redis != nil { // PARLOGIN_REDIS_ADDR: one go-redis client for both
		c.Store = parloginredis.NewStore(env.Redis, env.HashKey, env.BlockKey) // sessions
		c.Shared = parloginredis.New(env.Redis)                                // what replicas share
	}
	return c
}

// routes are the app's pages and API, and parlogin's routes at /auth.
func routes(auth *parlogin.Middleware, saveTokens bool) http.Handler {
	router := gin.New()
	router.Use(gin.Recovery())
	parlogingin.Mount(router.Group("/auth"), auth) // callback, login, logout, backchannel-logout, jwks
	router.GET("/", func(c *gin.Context) {
		u, _ := auth.User(c.Request) // open to all, more for the signed in
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
	if saveTokens {
		api.GET("/token", func(c *gin.Context) {
			tok, err := auth.Token(c.Writer, c.Request) // refreshed first when it has expired
			if err != nil {                             // a refused refresh has ended the session
				status := parlogin.ErrorStatus(err)
				c.String(status, http.StatusText(status))
				return
			}
			// tok.AccessToken calls APIs on the user's behalf (tok.SetAuthHeader(req)), and
			// tok.Extra("id_token").(string) is the ID token. Never show them: this says only
			// what kind of token it is and when it expires.
			demo.Token(c.Writer, tok)
		})
	}
	return router
}
