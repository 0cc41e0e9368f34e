package main

import (
	"os"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/parlogin/parlogin/examples/internal/exampletest"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode) // no debug banner or route dump in the test output
	os.Exit(m.Run())
}

func TestLoginLogout(t *testing.T) {
	exampletest.LoginLogout(t, routes)
}

// TestCallbackPath: the callback is served at the path of PARLOGIN_REDIRECT_URL too.
func TestCallbackPath(t *testing.T) {
	exampletest.CallbackPath(t, routes)
}
