package parlogingin_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"

	"github.com/gin-gonic/gin"
	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/adapters/parlogingin"
	"github.com/parlogin/parlogin/oidctest"
)

// Mount parlogin's endpoints on a group at /auth, protect a route and a group, and read the user
// in a handler. The provider here is oidctest, which signs in its default user, alice, without
// asking.
func Example() {
	gin.SetMode(gin.ReleaseMode)
	op := oidctest.NewServer()
	defer op.Close()
	router := gin.New()
	app := httptest.NewServer(router)
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
	parlogingin.Mount(router.Group("/auth"), auth)
	router.GET("/private", parlogingin.Require(auth), func(c *gin.Context) {
		user, _ := parlogingin.User(c)
		c.String(http.StatusOK, "hello, %s", user.Subject)
	})
	api := router.Group("/api", parlogingin.Require(auth))
	api.GET("/me", func(c *gin.Context) {
		user, _ := parlogingin.User(c)
		c.JSON(http.StatusOK, gin.H{"sub": user.Subject})
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
