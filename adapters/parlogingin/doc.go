// Package parlogingin protects the routes of a [gin] app with parlogin.
//
//	router := gin.New()
//	parlogingin.Mount(router.Group("/auth"), auth) // RedirectURL: https://app.example.com/auth/callback
//	router.GET("/private", parlogingin.Require(auth), private) // one route
//	api := router.Group("/api", parlogingin.Require(auth))    // every route of a group
//	api.GET("/me", me)
//
// Inside a protected handler, [User] returns the signed-in user. [Require] is a native gin
// middleware: a request without a session gets parlogin's answer (a browser is sent to log in, an
// API call gets 401 from Config.ErrorHandler) and the chain is aborted, so no later handler runs.
//
// [gin]: https://github.com/gin-gonic/gin
package parlogingin
