package parloginecho_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/adapters/parloginecho"
	"github.com/parlogin/parlogin/oidctest"
)

// Mount parlogin's endpoints on a group at /auth, protect a route and a group, and read the user
// in a handler. The provider here is oidctest, which signs in its default user, alice, without
// asking.
func Example() {
	op := oidctest.NewServer()
	defer op.Close()
	e := echo.New()
	app := httptest.NewServer(e)
	defer app.Close()
	client := op.AddClient(oidctest.Client{RedirectURIs: []string{app.URL + "/auth/callback"}})

	auth, err := parlogin.New(context.Background(), parlogin.Config{
		Issuer:       op.Issuer,
		ClientID:     client.ID,
		ClientSecret: client.Secret,
		RedirectURL:  app.URL + "/auth/callback", // where Mount serves the callback, on the /auth group
		Store:        sessions.NewCookieStore([]byte("example session key, 32 bytes or more"), []byte("example encryption key, 32 bytes")),
	})
	if err != nil {
		log.Fatal(err)
	}
	parloginecho.Mount(e.Group("/auth"), auth)
	e.GET("/private", func(c echo.Context) error {
		user, _ := parloginecho.User(c)
		return c.String(http.StatusOK, "hello, "+user.Subject)
	}, parloginecho.Require(auth))
	api := e.Group("/api", parloginecho.Require(auth))
	api.GET("/me", func(c echo.Context) error {
		user, _ := parloginecho.User(c)
		return c.JSON(http.StatusOK, map[string]string{"sub": user.Subject})
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

// Handle parlogin's errors in e.HTTPErrorHandler, with the app's other errors.
func ExampleErrorHandler() {
	op := oidctest.NewServer()
	defer op.Close()
	e := echo.New()
	app := httptest.NewServer(e)
	defer app.Close()
	client := op.AddClient(oidctest.Client{RedirectURIs: []string{app.URL + "/auth/callback"}})

	auth, err := parlogin.New(context.Background(), parlogin.Config{
		Issuer:       op.Issuer,
		ClientID:     client.ID,
		ClientSecret: client.Secret,
		RedirectURL:  app.URL + "/auth/callback",
		Store:        sessions.NewCookieStore([]byte("example session key, 32 bytes or more"), []byte("example encryption key, 32 bytes")),
		ErrorHandler: parloginecho.ErrorHandler(e),
	})
	if err != nil {
		log.Fatal(err)
	}
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		if errors.Is(err, parlogin.ErrUnauthenticated) {
			_ = c.JSON(http.StatusUnauthorized, map[string]string{"error": "sign in first"})
			return
		}
		e.DefaultHTTPErrorHandler(err, c)
	}
	parloginecho.Mount(e.Group("/auth"), auth)
	api := e.Group("/api", parloginecho.Require(auth))
	api.GET("/me", func(c echo.Context) error {
		user, _ := parloginecho.User(c)
		return c.JSON(http.StatusOK, map[string]string{"sub": user.Subject})
	})

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	fmt.Println(get(browser, app.URL+"/api/me", "application/json"))
	fmt.Println(get(browser, app.URL+"/auth/callback?state=forged&code=stolen", "text/html"))
	// Output:
	// 401 {"error":"sign in first"}
	// 400 {"message":"Bad Request"}
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
