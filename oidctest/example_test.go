package oidctest_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/oidctest"
)

// A test of an application protected by parlogin: start the provider, register the application
// as a client, log a user in with Login, then call a protected page as that user.
func Example() {
	var t testing.TB = exampleT{} // in a test, the test's *testing.T

	srv := oidctest.NewServer()
	defer srv.Close()

	// The application under test.
	mux := http.NewServeMux()
	app := httptest.NewServer(mux)
	defer app.Close()
	client := srv.AddClient(oidctest.Client{RedirectURIs: []string{app.URL + "/auth/callback"}})
	auth, err := parlogin.New(context.Background(), parlogin.Config{
		Issuer:       srv.Issuer,
		ClientID:     client.ID,
		ClientSecret: client.Secret,
		RedirectURL:  app.URL + "/auth/callback",
		Store:        sessions.NewCookieStore(hashKey, blockKey),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux.HandleFunc("GET /auth/callback", auth.Callback)
	mux.Handle("GET /private", auth.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, _ := parlogin.FromContext(r.Context())
		fmt.Fprintf(w, "hello, %s", user.Subject)
	})))

	browser := srv.Login(t, app.URL+"/private", "bob")
	resp, err := browser.Get(app.URL + "/private")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.Status, string(body))
	// Output: 200 OK hello, bob
}

// exampleT stands in for the *testing.T that examples lack: a failure panics, which fails the
// example with its message.
type exampleT struct{ testing.TB }

func (exampleT) Helper()                           {}
func (exampleT) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// A test of a client at the protocol level: it reads the discovery document and pushes an
// authorization request authenticated with client_secret_jwt, then checks what the provider
// received.
func Example_pushedAuthorizationRequest() {
	srv := oidctest.NewServer()
	defer srv.Close()
	client := srv.AddClient(oidctest.Client{
		RedirectURIs: []string{"http://127.0.0.1:8080/auth/callback"},
	})

	resp, err := http.Get(srv.Issuer + "/.well-known/openid-configuration")
	if err != nil {
		fmt.Println(err)
		return
	}
	var meta struct {
		PAR        string `json:"pushed_authorization_request_endpoint"`
		RequirePAR bool   `json:"require_pushed_authorization_requests"`
	}
	err = json.NewDecoder(resp.Body).Decode(&meta)
	resp.Body.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("PAR required:", meta.RequirePAR)

	// The client assertion: iss = sub = client ID, aud = issuer, a unique jti, a short exp.
	now := time.Now()
	assertion, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": client.ID,
		"sub": client.ID,
		"aud": srv.Issuer,
		"jti": "example-jti-1",
		"iat": now.Unix(),
		"exp": now.Add(time.Minute).Unix(),
	}).SignedString([]byte(client.Secret))
	if err != nil {
		fmt.Println(err)
		return
	}
	verifier := strings.Repeat("v", 43)
	sum := sha256.Sum256([]byte(verifier))
	resp, err = http.PostForm(meta.PAR, url.Values{
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
		"client_assertion":      {assertion},
		"response_type":         {"code"},
		"client_id":             {client.ID},
		"redirect_uri":          {"http://127.0.0.1:8080/auth/callback"},
		"scope":                 {"openid email"},
		"state":                 {"af0ifjsldkj"},
		"code_challenge":        {base64.RawURLEncoding.EncodeToString(sum[:])},
		"code_challenge_method": {"S256"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	var pushed struct {
		RequestURI string `json:"request_uri"`
		ExpiresIn  int    `json:"expires_in"`
	}
	err = json.NewDecoder(resp.Body).Decode(&pushed)
	resp.Body.Close()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Status, strings.HasPrefix(pushed.RequestURI, "urn:ietf:params:oauth:request_uri:"), pushed.ExpiresIn)

	// What the client sent, as the provider recorded it.
	sent := srv.Requests(parlogin.EndpointPAR)[0]
	fmt.Println("state:", sent.Get("state"))
	// Output:
	// PAR required: true
	// 201 Created true 60
	// state: af0ifjsldkj
}

// Inject makes an endpoint fail, here the PAR endpoint, once.
func ExampleServer_Inject() {
	srv := oidctest.NewServer()
	defer srv.Close()
	srv.Inject(parlogin.EndpointPAR, oidctest.Fault{
		Error:            "temporarily_unavailable",
		ErrorDescription: "try again later",
		Status:           http.StatusServiceUnavailable,
		Times:            1,
	})

	for range 2 {
		resp, err := http.PostForm(srv.Issuer+"/par", url.Values{})
		if err != nil {
			fmt.Println(err)
			return
		}
		var body map[string]string
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(resp.StatusCode, body["error"])
	}
	// Output:
	// 503 temporarily_unavailable
	// 401 invalid_client
}
