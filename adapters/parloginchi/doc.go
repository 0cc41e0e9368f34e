// Package parloginchi mounts parlogin on a [chi] router.
//
// chi routes net/http handlers, so parlogin needs no adapting: [parlogin.Middleware.Require] is a
// chi middleware as it is. This package only adds the chi-idiomatic way to route parlogin's
// endpoints, a sub-router to [chi.Router.Mount]:
//
//	r := chi.NewRouter()
//	r.Mount("/auth", parloginchi.Routes(auth)) // RedirectURL: https://app.example.com/auth/callback
//	r.With(auth.Require).Get("/private", private) // one route
//	r.Group(func(r chi.Router) {
//		r.Use(auth.Require) // every route of the group
//		r.Get("/api/me", me)
//	})
//
// Inside a protected handler, [parlogin.FromContext] returns the signed-in user; on pages open to
// all, [parlogin.Middleware.User] does.
//
// [chi]: https://github.com/go-chi/chi
package parloginchi
