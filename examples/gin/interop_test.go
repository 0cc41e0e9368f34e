package main

import (
	"testing"

	"github.com/parlogin/parlogin/examples/internal/interop"
)

// The example against oidc-provider: login, API and logout through the provider's pages.
func TestInteropLoginLogout(t *testing.T) { interop.LoginLogout(t, app, "HS256") }
