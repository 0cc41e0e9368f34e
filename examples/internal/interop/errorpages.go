package interop

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/examples/internal/exampletest"
)

// errorPageCase is a login that goes wrong in a way a person can act on.
type errorPageCase struct {
	name string
	edit func(*parlogin.Config) // the app's configuration, if not nil
	// run drives the browser, from the page the user wanted (target, on the app), to the
	// error page, and returns the answer it ended on.
	run func(t *testing.T, p *Provider, a *App, tab context.Context, target string) *network.Response
	// status, sentence and retry are what the page must show: its status, the sentence of
	// its class (parlogin's errorpage.go) and where its "Try again" link leads (target, when
	// empty); log is what the app's log must say of it beside the page's reference.
	status   int
	sentence string
	retry    string
	log      []string
	// hidden are texts of the provider, or of the error, that the page must not show.
	hidden []string
	// retried is a CSS selector of the page that following "Try again" must lead to.
	retried string
}

// BrowserErrorPages checks, in Chromium, the pages that a person sees when a login goes wrong,
// with the app and oidc-provider on two sites: cancelled at the provider (its login page's
// Cancel link, which answers access_denied), the provider down, a stale tab (the callback
// replayed after the login), and the app misconfigured (a wrong client secret). Each must be
// parlogin's page, with the status and the sentence of its class, a "Try again" link to a page
// of the app, which leads on, and a reference that the app's log has too; never the provider's
// words, the error's details or a stack. It saves a screenshot of each.
func BrowserErrorPages(t *testing.T, app exampletest.App) {
	tests := []errorPageCase{
		{
			name: "cancelled at the provider",
			run: func(t *testing.T, p *Provider, a *App, tab context.Context, target string) *network.Response {
				do(t, tab, chromedp.Navigate(target), chromedp.WaitVisible(chromedp.CSS(`input[name="login"]`)))
				return navigation(t, tab, chromedp.Click(chromedp.CSS(`a[href$="/abort"]`))) // [ Cancel ]
			},
			status:   http.StatusForbidden,
			sentence: "Sign-in was cancelled.",
			log:      []string{"reason=cancelled", "authorization endpoint answered access_denied"},
			hidden:   []string{"access_denied", "aborted"},
			retried:  `input[name="login"]`, // the provider's login page, for another try
		},
		{
			name: "provider down",
			run: func(t *testing.T, p *Provider, a *App, tab context.Context, target string) *network.Response {
				p.Stop()
				return navigation(t, tab, chromedp.Navigate(target))
			},
			status:   http.StatusBadGateway,
			sentence: "The sign-in service did not answer. Try again in a moment.",
			log:      []string{"reason=provider_unavailable", "connection refused"},
			hidden:   []string{"connection refused", "dial tcp", "127.0.0.1"},
			retried:  "#ref", // still down: the same page
		},
		{
			name: "stale tab",
			run: func(t *testing.T, p *Provider, a *App, tab context.Context, target string) *network.Response {
				do(t, tab, chromedp.Navigate(target), chromedp.WaitVisible(chromedp.CSS(`input[name="login"]`)))
				browserSignIn(t, tab, "alice")
				// The callback again, as a tab left open on it would reload it: its state was
				// used, and its pending login is gone with the browser's record of the target.
				callback := a.Requests.Last("/auth/callback")
				return navigation(t, tab, chromedp.Navigate(a.URL+callback.URL.RequestURI()))
			},
			status:   http.StatusBadRequest,
			sentence: "This sign-in has expired or was already used.",
			retry:    "/",
			log:      []string{"reason=stale", "invalid or expired state"},
			hidden:   []string{"state", "code"},
			retried:  "#sub", // the home page: alice is signed in
		},
		{
			name: "wrong client secret",
			edit: func(c *parlogin.Config) { c.ClientSecret = strings.Repeat("w", 64) },
			run: func(t *testing.T, p *Provider, a *App, tab context.Context, target string) *network.Response {
				return navigation(t, tab, chromedp.Navigate(target))
			},
			status:   http.StatusBadGateway,
			sentence: "Sign-in is not set up correctly on this site. Please tell its administrators.",
			log:      []string{"reason=misconfigured", "par endpoint answered invalid_client"},
			hidden:   []string{"invalid_client", "client authentication failed"},
			retried:  "#ref", // still misconfigured: the same page
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { browserErrorPage(t, app, tc) })
	}
}

func browserErrorPage(t *testing.T, app exampletest.App, tc errorPageCase) {
	p, a, tab := startLayout(t, CrossSite, app, nil, tc.edit)
	target := "/private?case=" + strings.ReplaceAll(tc.name, " ", "-")
	resp := tc.run(t, p, a, tab, a.URL+target)
	Screenshot(t, tab, "error-page-"+strings.ReplaceAll(tc.name, " ", "-"))

	if got := int(resp.Status); got != tc.status || !strings.HasPrefix(resp.URL, a.URL+"/") {
		t.Fatalf("ended on %d %s, want %d on the app", got, resp.URL, tc.status)
	}
	if h1 := text(t, tab, "h1"); h1 != http.StatusText(tc.status) {
		t.Errorf("heading %q, want %q", h1, http.StatusText(tc.status))
	}
	if reason := text(t, tab, "#reason"); reason != tc.sentence {
		t.Errorf("sentence %q, want %q", reason, tc.sentence)
	}
	retry, err := chromedp.Run(tab, chromedp.Attributes(chromedp.CSS("#retry")))
	if want := cmpOr(tc.retry, target); err != nil || retry["href"] != want || text(t, tab, "#retry") != "Try again" {
		t.Errorf("Try again link %v (%v), want one to %s", retry, err, want)
	}
	ref := text(t, tab, "#ref")
	var logged string
	for _, line := range strings.Split(a.Log.String(), "\n") {
		if ref != "" && strings.Contains(line, "ref="+ref) {
			logged = line
		}
	}
	if logged == "" {
		t.Fatalf("the page's reference %q is not in the app's log:\n%s", ref, a.Log.String())
	}
	for _, want := range append(tc.log, "status="+strconv.Itoa(tc.status)) {
		if !strings.Contains(logged, want) {
			t.Errorf("the app's log line of reference %s does not say %q:\n%s", ref, want, logged)
		}
	}
	body := text(t, tab, "body")
	for _, hidden := range append(tc.hidden, "parlogin:", "goroutine", "panic", ".go:") {
		if strings.Contains(body, hidden) {
			t.Errorf("the page shows %q:\n%s", hidden, body)
		}
	}
	t.Logf("%d page: %q", tc.status, body)

	do(t, tab, chromedp.Click(chromedp.CSS("#retry")), chromedp.WaitVisible(chromedp.CSS(tc.retried)))
	if loc := location(t, tab); tc.retried != `input[name="login"]` && loc != a.URL+cmpOr(tc.retry, target) {
		t.Errorf("Try again led to %s", loc)
	}
}

// navigation runs the actions, which must lead the tab to a page, and returns the answer of the
// page's document: the last of its redirects.
func navigation(t *testing.T, tab context.Context, actions ...chromedp.Action[chromedp.Void]) *network.Response {
	t.Helper()
	resp, err := chromedp.RunResponse(tab, actions...)
	if err != nil {
		t.Fatalf("browser: %v\npage: %s", err, location(t, tab))
	}
	return resp
}
