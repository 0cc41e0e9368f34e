package parlogingin

import (
	"fmt"
	"path"

	"github.com/gin-gonic/gin"
	"github.com/parlogin/parlogin"
)

// userKey is the gin context key of the user: a type of this package cannot collide with the keys
// of the app or of other middleware.
type userKey struct{}

// Require returns a gin middleware that lets only signed-in users through. For a signed-in user it
// puts the [parlogin.User] in c.Request's context ([parlogin.FromContext]) and in the gin context
// ([User]), then calls c.Next. Otherwise parlogin answers, as [parlogin.Middleware.Require] does (a
// browser navigation starts a login and comes back to the same URL; any other request gets
// Config.ErrorHandler's answer, 401 by default), and Require calls c.Abort: no later handler runs.
// parlogin's own routes pass through, so that router.Use(Require(auth)) may come before [Mount].
func Require(auth *parlogin.Middleware) gin.HandlerFunc {
	return RequirePolicy(auth, parlogin.Policy{})
}

// RequirePolicy is [Require] for routes that also demand p of the way the user authenticated
// (step-up, see [parlogin.Middleware.RequirePolicy]).
func RequirePolicy(auth *parlogin.Middleware, p parlogin.Policy) gin.HandlerFunc {
	return func(c *gin.Context) {
		r, ok := auth.Authenticate(c.Writer, c.Request, p)
		if !ok {
			c.Abort()
			return
		}
		c.Request = r
		if u, ok := parlogin.FromContext(r.Context()); ok {
			c.Set(userKey{}, u)
		}
		c.Next()
	}
}

// User returns the user signed in by [Require]. It also finds a user that another middleware put in
// c.Request's context with [parlogin.NewContext], and reports false, without panicking, when there
// is none. On pages open to all, [parlogin.Middleware.User] reads the session instead.
func User(c *gin.Context) (*parlogin.User, bool) {
	v, _ := c.Get(userKey{})
	if u, ok := v.(*parlogin.User); ok && u != nil {
		return u, true
	}
	if c.Request == nil {
		return nil, false
	}
	return parlogin.FromContext(c.Request.Context())
}

// Mount routes parlogin's endpoints on r, the group of the directory of Config.RedirectURL's path
// (router.Group("/auth") for https://app.example.com/auth/callback), at the paths of
// [parlogin.Middleware.Handler]:
//
//   - GET and POST at the RedirectURL's last segment ("callback"): [parlogin.Middleware.Callback]
//     (POST for response_mode=form_post);
//   - GET login: [parlogin.Middleware.Login], for "Sign in" links with ?return_to=/path;
//   - POST logout: [parlogin.Middleware.Logout];
//   - POST backchannel-logout: [parlogin.Middleware.BackchannelLogout];
//   - GET and HEAD jwks: [parlogin.Middleware.JWKS], the keys of Config.ClientKeys.
//
// Mount panics when r is a group of another directory, where the provider's redirects would not
// arrive.
func Mount(r gin.IRoutes, auth *parlogin.Middleware) {
	dir, name := path.Split(auth.CallbackPath())
	if g, ok := r.(interface{ BasePath() string }); ok && path.Clean(g.BasePath()) != path.Clean(dir) {
		panic(fmt.Sprintf("parlogingin: Mount on the group %q, but parlogin's routes are in %q, the directory of Config.RedirectURL's path %q", g.BasePath(), path.Clean(dir), auth.CallbackPath()))
	}
	callback := gin.WrapF(auth.Callback)
	r.GET("/"+name, callback)
	r.POST("/"+name, callback)
	r.GET("/login", gin.WrapF(auth.Login))
	r.POST("/logout", gin.WrapF(auth.Logout))
	r.POST("/backchannel-logout", gin.WrapF(auth.BackchannelLogout))
	jwks := gin.WrapF(auth.JWKS)
	r.GET("/jwks", jwks)
	r.HEAD("/jwks", jwks)
}
