package main

import (
	"testing"

	"github.com/parlogin/parlogin/examples/internal/interop"
)

func TestInteropLoginLogoutHS256(t *testing.T) { interop.LoginLogout(t, routes, "HS256") }
func TestInteropLoginLogoutHS512(t *testing.T) { interop.LoginLogout(t, routes, "HS512") }
func TestInteropRequiresPAR(t *testing.T)      { interop.RequiresPAR(t, routes) }
func TestInteropFailures(t *testing.T)         { interop.Failures(t, routes) }
func TestInteropBackButton(t *testing.T)       { interop.BackButton(t, routes) }
func TestInteropRedisSessions(t *testing.T)    { interop.RedisSessions(t, routes) }
