package parlogin

import (
	"net/http"
	"net/url"
	"path"
)

// routes are parlogin's own routes, at the paths that RedirectURL implies.
type routes map[string]http.HandlerFunc

// callbackPath returns the path of the callback for redirectURL: its path, escaped as a request's.
func callbackPath(redirectURL *url.URL) string {
	if p := redirectURL.EscapedPath(); p != "" {
		return p
	}
	return "/"
}

// newRoutes returns m's routes: the callback at the path of redirectURL, and login, logout and
// backchannel-logout next to it.
func newRoutes(m *Middleware, redirectURL *url.URL) routes {
	callback := callbackPath(redirectURL)
	dir := path.Dir(callback)
	return routes{
		callback:                             m.Callback,
		path.Join(dir, "login"):              m.Login,
		path.Join(dir, "logout"):             m.Logout,
		path.Join(dir, "backchannel-logout"): m.BackchannelLogout,
		path.Join(dir, "jwks"):               m.JWKS,
	}
}

// Handler serves parlogin's own routes, at the paths that Config.RedirectURL implies: its path for
// [Middleware.Callback] (GET, and POST for form_post), and in the same directory "login"
// ([Middleware.Login]), "logout" ([Middleware.Logout]), "backchannel-logout"
// ([Middleware.BackchannelLogout]) and "jwks" ([Middleware.JWKS], with Config.ClientKeys). Any
// other path gets 404. With the RedirectURL
// https://app.example.com/auth/callback, one line mounts them all:
//
//	mux.Handle("/auth/", auth.Handler())
//
// serves /auth/callback, /auth/login, /auth/logout and /auth/backchannel-logout; register
// https://app.example.com/auth/backchannel-logout at the provider for back-channel logout.
func (m *Middleware) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h, ok := m.routes[r.URL.EscapedPath()]; ok {
			h(w, r)
			return
		}
		http.NotFound(w, r)
	})
}

// CallbackPath returns the path of [Middleware.Callback]: the path of Config.RedirectURL, such as
// "/auth/callback". parlogin's other routes are in its directory (see [Middleware.Handler]); the
// framework adapters route them there.
func (m *Middleware) CallbackPath() string {
	return m.callbackPath
}

// own reports whether r is for one of parlogin's own routes, which no login may guard: a login
// required before its own callback would never end.
func (m *Middleware) own(r *http.Request) bool {
	_, ok := m.routes[r.URL.EscapedPath()]
	return ok
}
