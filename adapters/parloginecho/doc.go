// Package parloginecho protects the routes of an [echo] (v4) app with parlogin.
//
//	e := echo.New()
//	parloginecho.Mount(e.Group("/auth"), auth) // RedirectURL: https://app.example.com/auth/callback
//	e.GET("/private", private, parloginecho.Require(auth)) // one route
//	api := e.Group("/api", parloginecho.Require(auth))     // every route of a group
//	api.GET("/me", me)
//
// Inside a protected handler, [User] returns the signed-in user. A request without a session gets
// parlogin's answer: a browser is sent to log in, and anything else gets Config.ErrorHandler's
// answer (401 by default), without reaching the handler.
//
// # Errors
//
// By default parlogin answers its errors itself, with their status text. To have them handled
// like the app's other errors, set Config.ErrorHandler to [ErrorHandler]: [Require] and the
// routes of [Mount] then return them to echo as [*echo.HTTPError] values, with the status
// [parlogin.ErrorStatus] chose and the parlogin error as Internal, so that they pass back through
// the app's middleware to e.HTTPErrorHandler:
//
//	e := echo.New()
//	auth, err := parlogin.New(ctx, parlogin.Config{
//		// …
//		ErrorHandler: parloginecho.ErrorHandler(e),
//	})
//
// [echo]: https://echo.labstack.com
package parloginecho
