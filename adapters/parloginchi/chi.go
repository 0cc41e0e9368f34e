package parloginchi

import (
	"path"

	"github.com/go-chi/chi/v5"
	"github.com/parlogin/parlogin"
)

// Routes returns a sub-router with parlogin's endpoints, to mount with [chi.Router.Mount] at the
// directory of Config.RedirectURL's path ("/auth" for https://app.example.com/auth/callback), at
// the paths of [parlogin.Middleware.Handler]:
//
//   - GET and POST at the RedirectURL's last segment (/callback): [parlogin.Middleware.Callback]
//     (POST for response_mode=form_post);
//   - GET /login: [parlogin.Middleware.Login], for "Sign in" links with ?return_to=/path;
//   - POST /logout: [parlogin.Middleware.Logout];
//   - POST /backchannel-logout: [parlogin.Middleware.BackchannelLogout];
//   - GET and HEAD /jwks: [parlogin.Middleware.JWKS], the keys of Config.ClientKeys.
//
// The router may be given more routes or middleware before it is mounted.
func Routes(auth *parlogin.Middleware) chi.Router {
	_, name := path.Split(auth.CallbackPath())
	r := chi.NewRouter()
	r.Get("/"+name, auth.Callback)
	r.Post("/"+name, auth.Callback)
	r.Get("/login", auth.Login)
	r.Post("/logout", auth.Logout)
	r.Post("/backchannel-logout", auth.BackchannelLogout)
	r.Get("/jwks", auth.JWKS)
	r.Head("/jwks", auth.JWKS)
	return r
}
