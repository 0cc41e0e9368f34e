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

// app is this example's code, for the tests that every example passes.
var app = exampletest.App{Config: config, Routes: routes}

func TestLoginLogout(t *testing.T)  { exampletest.LoginLogout(t, app) }
func TestCallbackPath(t *testing.T) { exampletest.CallbackPath(t, app) }
