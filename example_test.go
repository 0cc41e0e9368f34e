package parlogin_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"

	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/oidctest"
)

// hashKey signs and blockKey encrypts the session cookies; a real app loads its keys from
// configuration, so that sessions survive restarts and replicas share them.
var (
	hashKey  = []byte("example session MAC key 32 bytes")
	blockKey = []byte("example encryption key, 32 bytes")
)

// browse requests target as a browser navigation would, following redirects with a cookie jar,
// and returns the final page.
func browse(client *http.Client, target string) string {
	req, _ := http.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Accept", "text/html")
	resp, err := client.Do(req)
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, body)
}

func newBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

// Protect a route, sign in through the provider, and read the user in the handler. The provider
// here is oidctest, which signs in its default user, alice, without asking.
func Example() {
	op := oidctest.NewServer()
	defer op.Close()
	mux := http.NewServeMux()
	app := httptest.NewServer(mux)
	defer app.Close()
	client := op.AddClient(oidctest.Client{RedirectURIs: []string{app.URL + "/auth/callback"}})

	auth, err := parlogin.New(context.Background(), parlogin.Config{
		Issuer:       op.Issuer,
		ClientID:     client.ID,
		ClientSecret: client.Secret,
		RedirectURL:  app.URL + "/auth/callback",
		Store:        sessions.NewCookieStore(hashKey, blockKey),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux.HandleFunc("GET /auth/callback", auth.Callback)
	mux.HandleFunc("POST /auth/logout", auth.Logout)
	mux.Handle("/private", auth.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _ := parlogin.FromContext(r.Context())
		fmt.Fprintf(w, "hello, %s", user.Subject)
	})))

	fmt.Println(browse(newBrowser(), app.URL+"/private"))
	// Output: 200 hello, alice
}

// Send per-login authorization parameters, such as an authentication policy, a login hint, or
// PingOne's mobilePayload. parlogin checks the ID token's acr against the acr_values it sent.
func ExampleConfig_authParams() {
	op := oidctest.NewServer()
	defer op.Close()
	mux := http.NewServeMux()
	app := httptest.NewServer(mux)
	defer app.Close()
	client := op.AddClient(oidctest.Client{RedirectURIs: []string{app.URL + "/auth/callback"}})

	auth, err := parlogin.New(context.Background(), parlogin.Config{
		Issuer:       op.Issuer,
		ClientID:     client.ID,
		ClientSecret: client.Secret,
		RedirectURL:  app.URL + "/auth/callback",
		Store:        sessions.NewCookieStore(hashKey, blockKey),
		AuthParams: func(r *http.Request) url.Values {
			return url.Values{
				"acr_values":    {"Multi_Factor"},
				"login_hint":    {r.URL.Query().Get("user")},
				"mobilePayload": {"eyJ0eXAiOiJwYXlsb2FkIn0"},
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux.HandleFunc("GET /auth/callback", auth.Callback)
	mux.Handle("/private", auth.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _ := parlogin.FromContext(r.Context())
		fmt.Fprintf(w, "%s signed in with %s", user.Subject, user.ACR)
	})))

	fmt.Println(browse(newBrowser(), app.URL+"/private?user=alice"))
	par := op.Requests(parlogin.EndpointPAR)[0]
	fmt.Println(par.Get("acr_values"), par.Get("login_hint"), par.Get("mobilePayload"))
	// Output:
	// 200 alice signed in with Multi_Factor
	// Multi_Factor alice eyJ0eXAiOiJwYXlsb2FkIn0
}

// Render failures with a page of your own, keeping the status parlogin chose.
func ExampleConfig_errorHandler() {
	op := oidctest.NewServer()
	defer op.Close()
	op.Inject(parlogin.EndpointAuthorization, oidctest.Fault{Error: "access_denied"})
	mux := http.NewServeMux()
	app := httptest.NewServer(mux)
	defer app.Close()
	client := op.AddClient(oidctest.Client{RedirectURIs: []string{app.URL + "/auth/callback"}})

	auth, err := parlogin.New(context.Background(), parlogin.Config{
		Issuer:       op.Issuer,
		ClientID:     client.ID,
		ClientSecret: client.Secret,
		RedirectURL:  app.URL + "/auth/callback",
		Store:        sessions.NewCookieStore(hashKey, blockKey),
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			status := parlogin.ErrorStatus(err)
			var pe *parlogin.ProviderError
			switch {
			case errors.As(err, &pe) && pe.Code == "access_denied":
				http.Error(w, "You declined to sign in.", status)
			case errors.Is(err, parlogin.ErrUnauthenticated):
				http.Error(w, "Please sign in.", status)
			default:
				http.Error(w, "Sign-in failed, please try again.", status)
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	mux.HandleFunc("GET /auth/callback", auth.Callback)
	mux.Handle("/private", auth.Require(http.NotFoundHandler()))

	fmt.Print(browse(newBrowser(), app.URL+"/private"))
	// Output: 403 You declined to sign in.
}

// Show more to signed-in users on a page that is open to all.
func ExampleMiddleware_User() {
	op := oidctest.NewServer()
	defer op.Close()
	mux := http.NewServeMux()
	app := httptest.NewServer(mux)
	defer app.Close()
	client := op.AddClient(oidctest.Client{RedirectURIs: []string{app.URL + "/auth/callback"}})
	auth, err := parlogin.New(context.Background(), parlogin.Config{
		Issuer:       op.Issuer,
		ClientID:     client.ID,
		ClientSecret: client.Secret,
		RedirectURL:  app.URL + "/auth/callback",
		Store:        sessions.NewCookieStore(hashKey, blockKey),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux.HandleFunc("GET /auth/callback", auth.Callback)
	mux.HandleFunc("GET /auth/login", auth.Login)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if user, ok := auth.User(r); ok {
			fmt.Fprintf(w, "welcome back, %s", user.Subject)
			return
		}
		fmt.Fprint(w, "welcome, stranger")
	})

	browser := newBrowser()
	fmt.Println(browse(browser, app.URL+"/"))
	fmt.Println(browse(browser, app.URL+"/auth/login?return_to=/"))
	// Output:
	// 200 welcome, stranger
	// 200 welcome back, alice
}
