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
	"time"

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
	mux.Handle("/auth/", auth.Handler()) // callback, login, logout, backchannel-logout
	mux.Handle("/private", auth.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _ := parlogin.FromContext(r.Context())
		fmt.Fprintf(w, "hello, %s", user.Subject)
	})))

	fmt.Println(browse(newBrowser(), app.URL+"/private"))
	// Output: 200 hello, alice
}

// newApp starts a provider and an app whose routes the example adds to mux, and returns the
// configuration of the app's parlogin, to complete, and a function that stops both.
func newApp(mux *http.ServeMux) (parlogin.Config, *oidctest.Server, func()) {
	op := oidctest.NewServer()
	app := httptest.NewServer(mux)
	client := op.AddClient(oidctest.Client{RedirectURIs: []string{app.URL + "/auth/callback"}})
	return parlogin.Config{
		Issuer:       op.Issuer,
		ClientID:     client.ID,
		ClientSecret: client.Secret,
		RedirectURL:  app.URL + "/auth/callback",
		Store:        sessions.NewCookieStore(hashKey, blockKey),
	}, op, func() { app.Close(); op.Close() }
}

// Demand a stronger authentication on one route (step-up, RFC 9470): a signed-in user whose
// session lacks the acr is sent to authenticate again, and comes back to the same page. The
// provider here, oidctest, asserts the acr asked for, as a provider that ran the policy would.
func ExampleMiddleware_RequirePolicy() {
	mux := http.NewServeMux()
	cfg, _, stop := newApp(mux)
	defer stop()
	auth, err := parlogin.New(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	whoami := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _ := parlogin.FromContext(r.Context())
		fmt.Fprintf(w, "%s, acr %q", user.Subject, user.ACR)
	})
	mfa := parlogin.Policy{ACR: []string{"urn:example:mfa"}, MaxAge: 5 * time.Minute}
	mux.Handle("/auth/", auth.Handler())
	mux.Handle("/private", auth.Require(whoami))
	mux.Handle("/pay", auth.RequirePolicy(mfa)(whoami))

	browser := newBrowser()
	fmt.Println(browse(browser, app(cfg)+"/private"))
	fmt.Println(browse(browser, app(cfg)+"/pay"))
	// Output:
	// 200 alice, acr ""
	// 200 alice, acr "urn:example:mfa"
}

// app is the origin of cfg's app.
func app(cfg parlogin.Config) string {
	u, _ := url.Parse(cfg.RedirectURL)
	return u.Scheme + "://" + u.Host
}

// Rotate the client secret without a restart, the app first: until the provider has the new
// secret, parlogin signs with it, is refused, and signs again with the previous one.
func ExampleMiddleware_SetClientSecret() {
	mux := http.NewServeMux()
	cfg, _, stop := newApp(mux)
	defer stop()
	auth, err := parlogin.New(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("/auth/", auth.Handler())
	mux.Handle("/private", auth.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "signed in")
	})))

	newSecret := "a new secret of 32 bytes or more, from the provider's console"
	if err := auth.SetClientSecret(newSecret, 24*time.Hour); err != nil {
		log.Fatal(err)
	}
	fmt.Println(browse(newBrowser(), app(cfg)+"/private"))
	// Output: 200 signed in
}

// Watch logins, and the offset of the provider's clock, which parlogin measures and corrects.
func ExampleConfig_onEvent() {
	mux := http.NewServeMux()
	cfg, op, stop := newApp(mux)
	defer stop()
	op.SetClock(func() time.Time { return time.Now().Add(2 * time.Minute) }) // the provider is ahead
	cfg.OnEvent = func(_ context.Context, e parlogin.Event) {
		switch e.Kind {
		case parlogin.EventClockOffset:
			fmt.Println(e.Kind, e.Duration.Round(time.Minute))
		case parlogin.EventLoginSucceeded:
			fmt.Println(e.Kind, e.Subject)
		default:
			fmt.Println(e.Kind)
		}
	}
	auth, err := parlogin.New(context.Background(), cfg)
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("/auth/", auth.Handler())
	mux.Handle("/private", auth.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))

	browse(newBrowser(), app(cfg)+"/private")
	// Output:
	// clock_offset 2m0s
	// login_started
	// login_succeeded alice
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
