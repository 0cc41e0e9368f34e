package parlogin

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/parlogin/parlogin/oidctest"
)

func TestHandlerRoutes(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	handler := h.auth.Handler()
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/auth/callback", http.StatusBadRequest}, // reaches Callback: no state
		{http.MethodPost, "/auth/callback", http.StatusBadRequest},
		{http.MethodGet, "/auth/login", http.StatusSeeOther}, // to the provider
		{http.MethodGet, "/auth/logout", http.StatusMethodNotAllowed},
		{http.MethodPost, "/auth/backchannel-logout", http.StatusBadRequest}, // no logout_token
		{http.MethodGet, "/auth/other", http.StatusNotFound},
		{http.MethodGet, "/auth/callback/", http.StatusNotFound},
		{http.MethodGet, "/private", http.StatusNotFound},
	}
	for _, tc := range tests {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(tc.method, h.app.URL+tc.path, nil)
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		handler.ServeHTTP(rec, req)
		if rec.Code != tc.want {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, rec.Code, tc.want)
		}
	}
}

// Require may wrap a whole router, parlogin's routes included: they pass through unguarded, and a
// login through that router ends, instead of looping back to the provider from the callback.
func TestRequireOverEverything(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	mux := http.NewServeMux()
	mux.Handle("/auth/", h.auth.Handler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		u, _ := FromContext(r.Context())
		_, _ = w.Write([]byte(`{"sub":"` + u.Subject + `"}`))
	})
	h.serve(h.auth.Require(mux)) // over everything
	if page := jsonBody(t, h.login("/anything")); page["sub"] != "alice" {
		t.Fatalf("login through a catch-all Require: %v", page)
	}
	if resp := h.navigate(http.MethodPost, "/auth/logout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout through a catch-all Require = %d", resp.StatusCode)
	}
}

// The default error handler answers a browser with a page that says what happened in one
// sentence, links to where the user was going, and shows the reference that is in the log; an API
// client gets the status text only. No page shows a provider's text or an error's details.
func TestErrorPages(t *testing.T) {
	tests := []struct {
		name   string
		fault  func(h *harness)
		start  string
		status int
		reason string
	}{
		{"cancelled", func(h *harness) {
			h.op.Inject(EndpointAuthorization, oidctest.Fault{Error: "access_denied", ErrorDescription: "<b>pwned</b>"})
		}, "/private?x=1", http.StatusForbidden, reasonCancelled},
		{"provider down", func(h *harness) {
			h.op.Inject(EndpointPAR, oidctest.Fault{Status: http.StatusServiceUnavailable, Body: "<b>pwned</b>"})
		}, "/private?x=1", http.StatusBadGateway, reasonProviderUnavailable},
		{"misconfigured client", func(h *harness) {
			h.op.Inject(EndpointPAR, oidctest.Fault{Status: http.StatusUnauthorized, Error: "invalid_client", ErrorDescription: "<b>pwned</b>"})
		}, "/private?x=1", http.StatusBadGateway, reasonMisconfigured},
		{"rejected", func(h *harness) {
			h.op.SetIDTokenHook(func(c map[string]any) { c["nonce"] = "<b>pwned</b>" })
		}, "/private?x=1", http.StatusBadRequest, reasonRejected},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{})
			tc.fault(h)
			resp := h.navigate(http.MethodGet, tc.start, nil)
			for resp.StatusCode == http.StatusSeeOther {
				if fromProvider := h.follow(resp); fromProvider.StatusCode == http.StatusOK && strings.Contains(readBody(fromProvider), "<form") {
					resp = h.callback(fromProvider)
				} else {
					resp = fromProvider
				}
			}
			checkErrorPage(t, h, resp, tc.status, tc.reason, tc.start)
		})
	}
	t.Run("stale: the callback again", func(t *testing.T) {
		h := newHarness(t, harnessOptions{})
		fromProvider := h.authorize(h.toProvider("/private?x=1"))
		h.callback(fromProvider)
		checkErrorPage(t, h, h.callback(fromProvider), http.StatusBadRequest, reasonStale, "/")
	})
	t.Run("an API client", func(t *testing.T) {
		h := newHarness(t, harnessOptions{})
		resp := h.api("/api/me")
		if body := readBody(resp); resp.StatusCode != http.StatusUnauthorized || body != "Unauthorized\n" ||
			!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("API client's answer: %d %q", resp.StatusCode, body)
		}
	})
}

func checkErrorPage(t *testing.T, h *harness, resp *http.Response, status int, reason, retry string) {
	t.Helper()
	body := readBody(resp)
	if resp.StatusCode != status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("%d %s, want an HTML page with %d: %s", resp.StatusCode, resp.Header.Get("Content-Type"), status, body)
	}
	if !strings.Contains(body, sentences[reason]) {
		t.Errorf("page does not say %q: %s", sentences[reason], body)
	}
	if !strings.Contains(body, `<a id="retry" href="`+retry+`">`) {
		t.Errorf("page does not link to %q: %s", retry, body)
	}
	if strings.Contains(body, "pwned") || strings.Contains(body, "parlogin:") {
		t.Errorf("page shows details: %s", body)
	}
	start := strings.Index(body, `<span id="ref">`) + len(`<span id="ref">`)
	ref := body[start : start+10]
	if !strings.Contains(h.logs.String(), "ref="+ref) {
		t.Errorf("reference %s is not in the log:\n%s", ref, h.logs.String())
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("Content-Security-Policy %q", csp)
	}
}

// CallbackPath is the path of RedirectURL, where Handler serves the callback.
func TestCallbackPath(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	if got := h.auth.CallbackPath(); got != "/auth/callback" {
		t.Errorf("CallbackPath() = %q, want /auth/callback", got)
	}
	for redirect, want := range map[string]string{"https://app.example": "/", "https://app.example/login/oauth2/code/pingone": "/login/oauth2/code/pingone"} {
		u, _ := url.Parse(redirect)
		if got := callbackPath(u); got != want {
			t.Errorf("callbackPath(%s) = %q, want %q", redirect, got, want)
		}
	}
}
