package main

import (
	"testing"

	"github.com/parlogin/parlogin/examples/internal/interop"
)

// The example in Chromium against oidc-provider, with the two on one site and on two, over http
// and https.
func TestBrowserLoginLogout(t *testing.T) {
	for _, l := range interop.Layouts {
		for _, mode := range []string{"query", "form_post"} {
			t.Run(l.Name+"/"+mode, func(t *testing.T) { interop.BrowserLoginLogout(t, app, l, mode) })
		}
	}
}

func TestBrowserTwoTabs(t *testing.T) {
	for _, l := range interop.Layouts {
		t.Run(l.Name, func(t *testing.T) { interop.BrowserTwoTabs(t, app, l) })
	}
}

// The pages a person sees when a login goes wrong, in Chromium.
func TestBrowserErrorPages(t *testing.T) { interop.BrowserErrorPages(t, app) }

// FAPI 2.0 in Chromium: PARLOGIN_PROFILE=fapi2 against oidc-provider's FAPI 2.0 profile.
func TestBrowserFAPI2(t *testing.T) {
	for _, l := range interop.Layouts {
		t.Run(l.Name, func(t *testing.T) { interop.BrowserFAPI2(t, app, l) })
	}
}
