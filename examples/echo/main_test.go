package main

import (
	"testing"

	"github.com/parlogin/parlogin/examples/internal/exampletest"
)

// app is this example's code, for the tests that every example passes.
var app = exampletest.App{Config: config, Routes: routes}

func TestLoginLogout(t *testing.T)  { exampletest.LoginLogout(t, app) }
func TestCallbackPath(t *testing.T) { exampletest.CallbackPath(t, app) }
