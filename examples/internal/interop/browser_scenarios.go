package interop

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parlogin/parlogin/examples/internal/exampletest"
)

// BrowserLoginLogout logs in and out of the example in headless Chromium against oidc-provider,
// laid out as l says, with the given response mode ("query" or "form_post": the provider's form
// then posts to the callback, which is where SameSite cookie mistakes show). It checks, from what
// the app received, that the callback was the kind of request l makes it (same-site or
// cross-site) and carried the pending login's cookie, and saves screenshots of the provider's
// login page and of the protected page.
func BrowserLoginLogout(t *testing.T, app exampletest.App, l Layout, responseMode string) {
	p, a, tab := startLayout(t, l, app, map[string]string{"PARLOGIN_RESPONSE_MODE": responseMode}, nil)
	if want := strings.TrimSuffix(a.URL, ":"+mustURL(a.URL).Port()); want != schemeHost(l.TLS, l.AppHost) ||
		!strings.HasPrefix(p.Issuer, schemeHost(l.TLS, l.ProviderHost)+":") {
		t.Fatalf("app at %s, provider at %s: not laid out as %+v", a.URL, p.Issuer, l)
	}

	target := a.URL + "/private?mode=" + responseMode
	do(t, tab, chromedp.Navigate(target), chromedp.WaitVisible(chromedp.CSS(`input[name="login"]`)))
	Screenshot(t, tab, l.Name+"-provider-login-"+responseMode)
	browserSignIn(t, tab, "alice")
	if got := text(t, tab, `#sub`); got != "alice" {
		t.Fatalf("protected page shows %q, want alice", got)
	}
	if loc := location(t, tab); loc != target {
		t.Fatalf("landed on %s, want %s", loc, target)
	}
	Screenshot(t, tab, l.Name+"-protected-page-"+responseMode)
	checkCallback(t, a, l, responseMode)

	do(t, tab, chromedp.Click(chromedp.CSS(`#logout`)), chromedp.WaitVisible(chromedp.CSS(`button[name="logout"][value="yes"]`)))
	do(t, tab, chromedp.Click(chromedp.CSS(`button[name="logout"][value="yes"]`)), chromedp.WaitVisible(chromedp.CSS(`#login`)))
	if loc := location(t, tab); !strings.HasPrefix(loc, a.URL+"/") {
		t.Fatalf("after logout the browser is at %s", loc)
	}
	if logout := a.Requests.Last("/auth/logout"); logout == nil || logout.Status != http.StatusSeeOther {
		t.Fatalf("logout: %+v, want a POST answered 303", logout)
	}
	do(t, tab, chromedp.Navigate(a.URL+"/private"), chromedp.WaitVisible(chromedp.CSS(`input[name="login"]`)))
}

// checkCallback checks the last callback that the app received: the provider's redirect (query)
// or form_post, with the Sec-Fetch-Site of l, carrying the cookie of the pending login that the
// login's start had set, SameSite=None and Secure for form_post, and answered with a redirect to
// the page the user wanted.
func checkCallback(t *testing.T, a *App, l Layout, responseMode string) {
	t.Helper()
	method, sameSite := http.MethodGet, "SameSite=Lax"
	if responseMode == "form_post" {
		method, sameSite = http.MethodPost, "SameSite=None"
	}
	cb := a.Requests.Last("/auth/callback")
	if cb == nil || cb.Method != method || cb.Status != http.StatusSeeOther {
		t.Fatalf("callback %+v: want a %s answered 303", cb, method)
	}
	if site := cb.Header.Get("Sec-Fetch-Site"); site != l.FetchSite {
		t.Fatalf("the callback came with Sec-Fetch-Site: %q, want %q (%s)", site, l.FetchSite, l.Name)
	}
	if !cb.HasCookie("-flow-") {
		t.Fatalf("the callback carried no pending login's cookie: Cookie: %s", cb.Header.Get("Cookie"))
	}
	start := a.Requests.To("/private")[0]
	var flow string
	for _, c := range start.SetCookie {
		if strings.Contains(c, "-flow-") {
			flow = c
		}
	}
	if !strings.Contains(flow, sameSite) || (responseMode == "form_post" || l.TLS) != strings.Contains(flow, "; Secure") {
		t.Fatalf("the pending login's cookie was set with %q: want %s, and Secure for form_post or https", attributes(flow), sameSite)
	}
	t.Logf("%s %s callback: Sec-Fetch-Site: %s, with the pending login's cookie, set with %q",
		l.Name, cb.Method, cb.Header.Get("Sec-Fetch-Site"), attributes(flow))
}

// attributes returns a Set-Cookie header without its value.
func attributes(setCookie string) string {
	name, rest, _ := strings.Cut(setCookie, "=")
	_, attrs, _ := strings.Cut(rest, ";")
	return name + "=…;" + attrs
}

// schemeHost is the scheme and host of a URL on host (127.0.0.1 when empty).
func schemeHost(tls bool, host string) string {
	if host == "" {
		host = "127.0.0.1"
	}
	if tls {
		return "https://" + host
	}
	return "http://" + host
}

// BrowserTwoTabs starts logins in two tabs of one browser before finishing either, then finishes
// both: each must land on its own page, signed in.
func BrowserTwoTabs(t *testing.T, app exampletest.App, l Layout) {
	_, a, first := startLayout(t, l, app, nil, nil)
	second, cancel := chromedp.NewContext(first) // another tab of the same browser
	t.Cleanup(cancel)

	for i, tab := range []context.Context{first, second} {
		target := a.URL + "/private?tab=" + string(rune('1'+i))
		do(t, tab, chromedp.Navigate(target), chromedp.WaitVisible(chromedp.CSS(`input[name="login"]`)))
	}
	for i, tab := range []context.Context{second, first} {
		browserSignIn(t, tab, "alice")
		want := a.URL + "/private?tab=" + string(rune('2'-i))
		if loc, sub := location(t, tab), text(t, tab, `#sub`); loc != want || sub != "alice" {
			t.Fatalf("tab ended at %s signed in as %q, want %s as alice", loc, sub, want)
		}
	}
	for _, cb := range a.Requests.To("/auth/callback") {
		if site := cb.Header.Get("Sec-Fetch-Site"); site != l.FetchSite {
			t.Fatalf("a callback came with Sec-Fetch-Site: %q, want %q", site, l.FetchSite)
		}
	}
}

// browserSignIn fills in the provider's login page shown in tab, approves the consent page if
// the provider shows one, and waits for the app's protected page; it fails the test at once if
// the login ends on parlogin's error page instead.
func browserSignIn(t *testing.T, tab context.Context, username string) {
	t.Helper()
	do(t, tab,
		chromedp.SendKeys(chromedp.CSS(`input[name="login"]`), username),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "any"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#sub, #ref, input[name="prompt"][value="consent"] ~ button, button[autofocus]`)),
	)
	if html := outerHTML(t, tab, "body"); strings.Contains(html, `value="consent"`) {
		do(t, tab, chromedp.Click(chromedp.CSS(`button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(`#sub, #ref`)))
	}
	if html := outerHTML(t, tab, "body"); strings.Contains(html, `id="ref"`) {
		t.Fatalf("the login ended on parlogin's error page at %s: %q", location(t, tab), text(t, tab, "#reason"))
	}
}

func do(t *testing.T, tab context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(tab, steps...); err != nil {
		t.Fatalf("browser: %v\npage: %s", err, location(t, tab))
	}
}

func text(t *testing.T, tab context.Context, selector string) string {
	t.Helper()
	s, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(selector)))
	if err != nil {
		t.Fatalf("text of %s: %v", selector, err)
	}
	return strings.TrimSpace(s)
}

func outerHTML(t *testing.T, tab context.Context, selector string) string {
	t.Helper()
	s, err := chromedp.Run(tab, chromedp.OuterHTML(chromedp.CSS(selector)))
	if err != nil {
		t.Fatalf("html of %s: %v", selector, err)
	}
	return s
}

func location(t *testing.T, tab context.Context) string {
	t.Helper()
	loc, err := chromedp.Run(tab, chromedp.Location())
	if err != nil {
		return "(unknown: " + err.Error() + ")"
	}
	return loc
}
