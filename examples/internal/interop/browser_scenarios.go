package interop

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/parlogin/parlogin/examples/internal/exampletest"
)

// BrowserLoginLogout logs in and out of the example built by mount in headless Chromium against
// oidc-provider, with the given response mode ("query" or "form_post": the provider's form then
// posts to the callback, which is where SameSite cookie mistakes show). It saves screenshots of the
// provider's login page and of the protected page.
func BrowserLoginLogout(t *testing.T, app exampletest.App, responseMode string) {
	p := Start(t)
	a := StartApp(t, p, app, "HS256", map[string]string{"PARLOGIN_RESPONSE_MODE": responseMode}, nil)
	tab := Chromium(t)

	do(t, tab, chromedp.Navigate(a.URL+"/private?mode="+responseMode), chromedp.WaitVisible(chromedp.CSS(`input[name="login"]`)))
	Screenshot(t, tab, "provider-login-"+responseMode)
	browserSignIn(t, tab, "alice")
	if got := text(t, tab, `#sub`); got != "alice" {
		t.Fatalf("protected page shows %q, want alice", got)
	}
	if loc := location(t, tab); loc != a.URL+"/private?mode="+responseMode {
		t.Fatalf("landed on %s", loc)
	}
	Screenshot(t, tab, "protected-page-"+responseMode)

	do(t, tab, chromedp.Click(chromedp.CSS(`#logout`)), chromedp.WaitVisible(chromedp.CSS(`button[name="logout"][value="yes"]`)))
	do(t, tab, chromedp.Click(chromedp.CSS(`button[name="logout"][value="yes"]`)), chromedp.WaitVisible(chromedp.CSS(`#login`)))
	if loc := location(t, tab); !strings.HasPrefix(loc, a.URL+"/") {
		t.Fatalf("after logout the browser is at %s", loc)
	}
	do(t, tab, chromedp.Navigate(a.URL+"/private"), chromedp.WaitVisible(chromedp.CSS(`input[name="login"]`)))
}

// BrowserTwoTabs starts logins in two tabs of one browser before finishing either, then finishes
// both: each must land on its own page, signed in.
func BrowserTwoTabs(t *testing.T, app exampletest.App) {
	p := Start(t)
	a := StartApp(t, p, app, "HS256", nil, nil)
	first := Chromium(t)
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
}

// browserSignIn fills in the provider's login page shown in tab, approves the consent page if
// the provider shows one, and waits for the app's protected page.
func browserSignIn(t *testing.T, tab context.Context, username string) {
	t.Helper()
	do(t, tab,
		chromedp.SendKeys(chromedp.CSS(`input[name="login"]`), username),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), "any"),
		chromedp.Click(chromedp.CSS(`button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#sub, input[name="prompt"][value="consent"] ~ button, button[autofocus]`)),
	)
	if html := outerHTML(t, tab, "body"); strings.Contains(html, `value="consent"`) {
		do(t, tab, chromedp.Click(chromedp.CSS(`button[type="submit"]`)), chromedp.WaitVisible(chromedp.CSS(`#sub`)))
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
