package main

import (
	"testing"

	"github.com/parlogin/parlogin/examples/internal/interop"
)

func TestInteropLoginLogoutHS256(t *testing.T)  { interop.LoginLogout(t, app, "HS256") }
func TestInteropLoginLogoutHS512(t *testing.T)  { interop.LoginLogout(t, app, "HS512") }
func TestInteropRequiresPAR(t *testing.T)       { interop.RequiresPAR(t, app) }
func TestInteropFailures(t *testing.T)          { interop.Failures(t, app) }
func TestInteropBackButton(t *testing.T)        { interop.BackButton(t, app) }
func TestInteropRedisSessions(t *testing.T)     { interop.RedisSessions(t, app) }
func TestInteropBackchannelLogout(t *testing.T) { interop.BackchannelLogout(t, app) }

// Step-up (acr_values, max_age) on routes with auth.RequirePolicy, added to the example's.
func TestInteropStepUp(t *testing.T) { interop.StepUp(t, app) }

// The client secret rotated at run time, the app first; the app's clock two minutes off.
func TestInteropSecretRotation(t *testing.T) { interop.SecretRotation(t, app) }
func TestInteropClockOffset(t *testing.T)    { interop.ClockOffset(t, app) }

// FAPI 2.0 against oidc-provider's FAPI 2.0 profile: PARLOGIN_PROFILE=fapi2 and
// PARLOGIN_CLIENT_KEY, DPoP-bound tokens, a refresh, and what the profile refuses.
func TestInteropFAPI2Login(t *testing.T)    { interop.FAPI2Login(t, app) }
func TestInteropFAPI2Refusals(t *testing.T) { interop.FAPI2Refusals(t, app) }
