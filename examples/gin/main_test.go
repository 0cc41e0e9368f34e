package main

import (
	"os"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/parlogin/parlogin/examples/internal/exampletest"
	"github.com/parlogin/parlogin/examples/internal/interop"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode) // no debug banner or route dump in the test output
	os.Exit(m.Run())
}

// app is this example's code, for the tests that every example passes.
var app = exampletest.App{Config: config, Routes: routes}

func TestLoginLogout(t *testing.T)       { exampletest.LoginLogout(t, app) }
func TestCallbackPath(t *testing.T)      { exampletest.CallbackPath(t, app) }
func TestBehindProxy(t *testing.T)       { exampletest.BehindProxy(t, app) }
func TestToken(t *testing.T)             { exampletest.Token(t, app) }
func TestBackchannelLogout(t *testing.T) { exampletest.BackchannelLogout(t, app) }

// private_key_jwt, DPoP and FAPI 2.0: PARLOGIN_CLIENT_KEY, PARLOGIN_DPOP, PARLOGIN_PROFILE.
func TestSenderConstrained(t *testing.T) { exampletest.SenderConstrained(t, app) }

// TestRedisSessions: PARLOGIN_REDIS_ADDR, with a real redis-server.
func TestRedisSessions(t *testing.T) {
	exampletest.RedisSessions(t, app, interop.StartRedis(t).Socket)
}
