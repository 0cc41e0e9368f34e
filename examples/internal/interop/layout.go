package interop

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/examples/internal/exampletest"
)

// Layout is where the app and the provider are, as the browser sees them: on one site, or on two,
// as in production (app.example.com and auth.pingone.com), where the provider's redirect and
// form_post to the callback are cross-site requests, which carry only the cookies that allow it.
// Both always listen on 127.0.0.1.
type Layout struct {
	// Name names the layout in subtests and screenshots.
	Name string
	// AppHost and ProviderHost are the host names of the app's and the provider's URLs; empty
	// for 127.0.0.1.
	AppHost, ProviderHost string
	// TLS serves both over https, with certificates of a CA made for the test (see PKI), under
	// host names that Chromium and the app resolve to 127.0.0.1.
	TLS bool
	// FetchSite is the Sec-Fetch-Site header that Chromium sends with the provider's redirect or
	// form_post to the callback: what makes the layout one site or two.
	FetchSite string
}

// The layouts of the browser tests. localhost and 127.0.0.1 are two sites, and Chromium takes
// both for secure contexts, where it accepts Secure cookies over plain http.
var (
	// SameSite puts both on 127.0.0.1, on two ports: two origins, one site.
	SameSite = Layout{Name: "same-site", FetchSite: "same-site"}
	// CrossSite puts the app at http://localhost:port and the provider at http://127.0.0.1:port.
	CrossSite = Layout{Name: "cross-site", AppHost: "localhost", FetchSite: "cross-site"}
	// CrossSiteTLS puts the app at https://app.test:port and the provider at
	// https://op.test:port.
	CrossSiteTLS = Layout{Name: "cross-site-https", AppHost: "app.test", ProviderHost: "op.test", TLS: true, FetchSite: "cross-site"}

	// Layouts are all of them.
	Layouts = []Layout{SameSite, CrossSite, CrossSiteTLS}
)

// startLayout starts oidc-provider and app laid out as l says, with the settings env and the
// configuration edit (see StartApp), and a Chromium that reaches them there.
func startLayout(t *testing.T, l Layout, app exampletest.App, env map[string]string, edit func(*parlogin.Config)) (*Provider, *App, context.Context) {
	t.Helper()
	return startLayoutProfile(t, l, app, false, env, edit)
}

// startLayoutProfile is startLayout, with oidc-provider's FAPI 2.0 profile and the app's
// (PARLOGIN_PROFILE=fapi2, with an ES256 client key registered as jwks) when fapi2 is set.
func startLayoutProfile(t *testing.T, l Layout, app exampletest.App, fapi2 bool, env map[string]string, edit func(*parlogin.Config)) (*Provider, *App, context.Context) {
	t.Helper()
	var (
		pki    *PKI
		client *http.Client
		flags  []chromedp.ExecAllocatorOption
	)
	pub := exampletest.Public{Host: l.AppHost}
	if l.TLS {
		pki = NewPKI(t, l.AppHost, l.ProviderHost)
		client = pki.Client() // trusts the test CA, resolves op.test to 127.0.0.1
		pub.TLS = pki.ServerTLS(l.AppHost)
		flags = append(flags,
			chromedp.Flag("host-resolver-rules", pki.HostResolverRules()),
			chromedp.Flag("ignore-certificate-errors-spki-list", strings.Join(pki.SPKIHashes(), ",")),
		)
	}
	p := StartProvider(t, ProviderConfig{Host: l.ProviderHost, PKI: pki, FAPI2: fapi2})
	c := Client{AuthAlg: "HS256"}
	if fapi2 {
		c, env = fapi2Client(t, "ES256", "ES256", false, env)
	}
	a := startApp(t, p, app, pub, client, c, env, edit)
	return p, a, Chromium(t, flags...)
}
