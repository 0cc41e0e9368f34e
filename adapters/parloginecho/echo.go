package parloginecho

import (
	"context"
	"fmt"
	"net/http"
	"path"

	"github.com/labstack/echo/v4"
	"github.com/parlogin/parlogin"
)

// Require returns an echo middleware that lets only signed-in users through, with the
// [parlogin.User] in the request's context ([User], [parlogin.FromContext]). Otherwise parlogin
// answers, as [parlogin.Middleware.Require] does: a browser navigation starts a login and comes
// back to the same URL; any other request gets [parlogin.ErrUnauthenticated] through
// Config.ErrorHandler, which answers 401 by default, or, with [ErrorHandler], is returned as an
// [*echo.HTTPError]. The next handler never runs for such a request.
// parlogin's own routes pass through, so that e.Use(Require(auth)) may come before [Mount].
func Require(auth *parlogin.Middleware) echo.MiddlewareFunc {
	return RequirePolicy(auth, parlogin.Policy{})
}

// RequirePolicy is [Require] for routes that also demand p of the way the user authenticated
// (step-up, see [parlogin.Middleware.RequirePolicy]).
func RequirePolicy(auth *parlogin.Middleware, p parlogin.Policy) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			checked, slot := withSlot(c.Request())
			checked, ok := auth.Authenticate(c.Response(), checked, p)
			// The slot is this call's: a later call to parlogin down the chain, such as its routes
			// through echo.WrapHandler, must not leave its error where nobody reads it.
			slot.closed = true
			if !ok {
				return slot.err // nil when parlogin answered the request itself
			}
			c.SetRequest(checked)
			return next(c)
		}
	}
}

// User returns the user signed in by [Require], or put in the request's context with
// [parlogin.NewContext]. It reports false, without panicking, when there is none. On pages open to
// all, [parlogin.Middleware.User] reads the session instead.
func User(c echo.Context) (*parlogin.User, bool) {
	r := c.Request()
	if r == nil {
		return nil, false
	}
	return parlogin.FromContext(r.Context())
}

// Mount routes parlogin's endpoints on g, the group of the directory of Config.RedirectURL's path
// (e.Group("/auth") for https://app.example.com/auth/callback), at the paths of
// [parlogin.Middleware.Handler]:
//
//   - GET and POST at the RedirectURL's last segment ("callback"): [parlogin.Middleware.Callback]
//     (POST for response_mode=form_post);
//   - GET login: [parlogin.Middleware.Login], for "Sign in" links with ?return_to=/path;
//   - POST logout: [parlogin.Middleware.Logout];
//   - POST backchannel-logout: [parlogin.Middleware.BackchannelLogout];
//   - GET and HEAD jwks: [parlogin.Middleware.JWKS], the keys of Config.ClientKeys.
//
// With [ErrorHandler], the failures of these routes are returned to echo. Mount panics when g is
// a group of another directory, where the provider's redirects would not arrive.
func Mount(g *echo.Group, auth *parlogin.Middleware) {
	_, name := path.Split(auth.CallbackPath())
	callback := handler(auth.Callback)
	if route := g.GET("/"+name, callback); route.Path != auth.CallbackPath() {
		panic(fmt.Sprintf("parloginecho: Mount routes the callback at %q, but Config.RedirectURL's path is %q: mount on the group of its directory", route.Path, auth.CallbackPath()))
	}
	g.POST("/"+name, callback)
	g.GET("/login", handler(auth.Login))
	g.POST("/logout", handler(auth.Logout))
	g.POST("/backchannel-logout", handler(auth.BackchannelLogout))
	jwks := handler(auth.JWKS)
	g.GET("/jwks", jwks)
	g.HEAD("/jwks", jwks)
}

// ErrorHandler returns a Config.ErrorHandler that hands parlogin's errors to echo, as an
// [*echo.HTTPError] whose Code is [parlogin.ErrorStatus], Message the status text and Internal the
// parlogin error ([errors.Is] and [errors.As] see through it). For a request served by [Require]
// or a route of [Mount], the error is returned by that handler, so that the app's middleware see
// it on its way to e.HTTPErrorHandler; for a request that reached parlogin another way (such as
// [echo.WrapHandler]), ErrorHandler calls e.HTTPErrorHandler itself.
//
// parlogin then no longer logs these errors: echo's Logger middleware or e.HTTPErrorHandler does.
// Their messages carry no secrets, but echo's default handler shows them to the user only when
// e.Debug is set.
func ErrorHandler(e *echo.Echo) func(w http.ResponseWriter, r *http.Request, err error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		status := parlogin.ErrorStatus(err)
		he := &echo.HTTPError{Code: status, Message: http.StatusText(status), Internal: err}
		if slot, ok := r.Context().Value(slotKey{}).(*errorSlot); ok && !slot.closed {
			slot.err = he
			return
		}
		handle := e.HTTPErrorHandler
		if handle == nil {
			handle = e.DefaultHTTPErrorHandler
		}
		handle(he, e.NewContext(r, w))
	}
}

// errorSlot carries the error that [ErrorHandler] got from parlogin back to the echo handler that
// called parlogin, which returns it; once that call has returned, the slot is closed.
type errorSlot struct {
	err    error
	closed bool
}

type slotKey struct{}

// withSlot returns r with an empty error slot in its context.
func withSlot(r *http.Request) (*http.Request, *errorSlot) {
	slot := &errorSlot{}
	return r.WithContext(context.WithValue(r.Context(), slotKey{}, slot)), slot
}

// handler adapts one of parlogin's endpoints to echo, returning its error when [ErrorHandler]
// reported one.
func handler(endpoint http.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r, slot := withSlot(c.Request())
		endpoint(c.Response(), r)
		return slot.err
	}
}
