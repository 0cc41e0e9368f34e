package parloginchi

import (
	"github.com/go-chi/chi/v5"
	"github.com/parlogin/parlogin"
)

// Routes returns a sub-router with parlogin's endpoints, to mount with [chi.Router.Mount]:
//
//   - GET and POST /callback: [parlogin.Middleware.Callback] (POST for response_mode=form_post);
//   - GET /login: [parlogin.Middleware.Login], for "Sign in" links with ?return_to=/path;
//   - POST /logout: [parlogin.Middleware.Logout];
//   - POST /backchannel-logout: [parlogin.Middleware.BackchannelLogout];
//   - GET and HEAD /jwks: [parlogin.Middleware.JWKS], the keys of Config.ClientKeys.
//
// The callback's full path must be the path of Config.RedirectURL: mounted at "/auth", the
// RedirectURL is https://app.example.com/auth/callback. The router may be given more routes or
// middleware before it is mounted.
func Routes(auth *parlogin.Middleware) chi.Router {
	r := chi.NewRouter()
	r.Get("/callback", auth.Callback)
	r.Post("/callback", auth.Callback)
	r.Get("/login", auth.Login)
	r.Post("/logout", auth.Logout)
	r.Post("/backchannel-logout", auth.BackchannelLogout)
	r.Get("/jwks", auth.JWKS)
	r.Head("/jwks", auth.JWKS)
	return r
}
