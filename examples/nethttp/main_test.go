package main

import (
	"testing"

	"github.com/parlogin/parlogin/examples/internal/exampletest"
)

func TestLoginLogout(t *testing.T) {
	exampletest.LoginLogout(t, routes)
}
