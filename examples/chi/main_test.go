package main

import (
	"net/http"
	"testing"

	"github.com/parlogin/parlogin/examples/internal/exampletest"
)

func TestLoginLogout(t *testing.T) {
	exampletest.LoginLogout(t, routes)
}

// TestCallbackPath checks that the callback is served where PARLOGIN_REDIRECT_URL says, not only
// at /auth/callback: an empty authorization response there reaches parlogin, which refuses it.
func TestCallbackPath(t *testing.T) {
	srv := exampletest.Start(t, routes, map[string]string{"PARLOGIN_REDIRECT_URL": "http://127.0.0.1:8080/oauth2/callback"})
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		req, _ := http.NewRequest(method, srv.URL+"/oauth2/callback", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("%s /oauth2/callback = %d, want 400 from parlogin", method, resp.StatusCode)
		}
	}
}
