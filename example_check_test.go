package parlogin_test

import (
	"context"
	"fmt"
	"log"

	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/oidctest"
)

// Check the configuration against the provider at start-up, before serving: a real pushed
// authorization request proves the client ID, the secret and the redirect URI.
func ExampleCheck() {
	op := oidctest.NewServer()
	defer op.Close()
	client := op.AddClient(oidctest.Client{RedirectURIs: []string{"https://app.example.com/auth/callback"}})

	report := parlogin.Check(context.Background(), parlogin.Config{
		Issuer:       op.Issuer,
		ClientID:     client.ID,
		ClientSecret: client.Secret,
		RedirectURL:  "https://app.example.com/auth/callback",
		Store:        sessions.NewCookieStore(hashKey, blockKey),
	})
	for _, r := range report.Results {
		fmt.Println(r.Status, r.Check)
	}
	if err := report.Err(); err != nil {
		log.Fatal(err) // names each failed check, with its fix
	}
	// Output:
	// ok config
	// ok discovery
	// ok par_endpoint
	// ok client_auth
	// ok pkce
	// ok iss_parameter
	// ok clock
	// ok par_request
	// ok session_store
}

// A redirect URL that differs from the one registered at the provider fails the pushed
// authorization request, with the provider's error and the fix.
func ExampleCheck_redirectURL() {
	op := oidctest.NewServer()
	defer op.Close()
	client := op.AddClient(oidctest.Client{RedirectURIs: []string{"https://app.example.com/auth/callback"}})

	report := parlogin.Check(context.Background(), parlogin.Config{
		Issuer:       op.Issuer,
		ClientID:     client.ID,
		ClientSecret: client.Secret,
		RedirectURL:  "https://app.example.com/callback",
		Store:        sessions.NewCookieStore(hashKey, blockKey),
	})
	for _, r := range report.Results {
		if r.Status != parlogin.CheckOK {
			fmt.Printf("%s %s\nfix: %s\n", r.Status, r.Check, r.Hint)
		}
	}
	// Output:
	// fail par_request
	// fix: register exactly https://app.example.com/callback as a redirect URI of the application (Config.RedirectURL): the provider compares it character for character
}
