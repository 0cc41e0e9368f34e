package oidctest_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parlogin/parlogin/oidctest"
)

// A test registers a client, reads the discovery document and pushes an authorization request
// authenticated with client_secret_jwt, then checks what the provider received.
func Example() {
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
	sent := srv.Requests(oidctest.PAR)[0]
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
	srv.Inject(oidctest.PAR, oidctest.Fault{
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
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, body["error"])
	}
	// Output:
	// 503 temporarily_unavailable
	// 401 invalid_client
}
