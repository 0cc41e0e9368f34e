package parloginchi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/adapters/parloginchi"
	"github.com/parlogin/parlogin/oidctest"
)

// Mount parlogin's endpoints at /auth, protect one route with r.With and a group with r.Use. The
// provider here is oidctest, which signs in its default user, alice, without asking.
func Example() {
	op := oidctest.NewServer()
	defer op.Close()
	r := chi.NewRouter()
	app := httptest.NewServer(r)
	defer app.Close()
	client := op.AddClient(oidctest.Client{RedirectURIs: []string{app.URL + "/auth/callback"}})

	auth, err := parlogin.New(context.Background(), parlogin.Config{
		Issuer:       op.Issuer,
		ClientID:     client.ID,
		ClientSecret: client.Secret,
		RedirectURL:  app.URL + "/auth/callback", // where Routes serves the callback, mounted at /auth
		Store:        sessions.NewCookieStore([]byte("example session key, 32 bytes or more"), []byte("example encryption key, 32 bytes")),
	})
	if err != nil {
		log.Fatal(err)
	}
	r.Mount("/auth", parloginchi.Routes(auth))
	r.With(auth.Require).Get("/private", func(w http.ResponseWriter, r *http.Request) {
		user, _ := parlogin.FromContext(r.Context())
		fmt.Fprintf(w, "hello, %s", user.Subject)
	})
	r.Route("/api", func(r chi.Router) {
		r.Use(auth.Require)
		r.Get("/me", func(w http.ResponseWriter, r *http.Request) {
			user, _ := parlogin.FromContext(r.Context())
			fmt.Fprintf(w, `{"sub":%q}`, user.Subject)
		})
	})

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	fmt.Println(get(browser, app.URL+"/api/me", "application/json")) // an API call is not redirected
	fmt.Println(get(browser, app.URL+"/private", "text/html"))       // a page goes through the login
	fmt.Println(get(browser, app.URL+"/api/me", "application/json"))
	// Output:
	// 401 Unauthorized
	// 200 hello, alice
	// 200 {"sub":"alice"}
}

// get requests target with an Accept header, following redirects, and returns the final answer.
func get(client *http.Client, target, accept string) string {
	req, _ := http.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Accept", accept)
	resp, err := client.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, bytes.TrimSpace(body))
}
