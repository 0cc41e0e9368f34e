package main

import (
	"testing"

	"github.com/parlogin/parlogin/examples/internal/exampletest"
)

func TestLoginLogout(t *testing.T) {
	exampletest.LoginLogout(t, routes)
}

// TestCallbackPath: the callback is served at the path of PARLOGIN_REDIRECT_URL.
func TestCallbackPath(t *testing.T) {
	exampletest.CallbackPath(t, routes)
}
