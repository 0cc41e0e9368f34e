package parlogin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin/oidctest"
)

// TestNoSecretsInLogsOrErrors runs a login, a token refresh, a logout, a back-channel logout and
// failures at every step, then checks that no secret, assertion, code or token appears in the
// logs, in any error text that reached the error handler, or in any event.
func TestNoSecretsInLogsOrErrors(t *testing.T) {
	clk := newClock()
	store := sessions.NewFilesystemStore(t.TempDir(), []byte(testSecret))
	store.MaxLength(0)
	var mu sync.Mutex
	var events []Event
	h := newHarness(t, harnessOptions{config: func(c *Config) {
		c.SaveTokens = true
		c.Store = store
		c.Scopes = append(c.Scopes, "offline_access")
		c.Now = clk.Now
		c.OnEvent = func(_ context.Context, e Event) {
			mu.Lock()
			defer mu.Unlock()
			events = append(events, e)
		}
	}})
	h.op.SetClock(clk.Now)
	h.login("/private")
	firstAccessToken := readBody(h.navigate(http.MethodGet, "/token", nil))
	clk.Add(2 * time.Hour)
	accessToken := readBody(h.navigate(http.MethodGet, "/token", nil)) // refreshed
	if err := h.op.BackchannelLogout(context.Background(), h.client.ID, "someone-else", ""); err != nil {
		t.Fatal(err)
	}
	logout, _ := h.navigate(http.MethodPost, "/auth/logout", nil).Location()
	idToken := logout.Query().Get("id_token_hint")
	if accessToken == "" || idToken == "" {
		t.Fatalf("access token %q, id token %q: tokens not captured", accessToken, idToken)
	}

	failures := []func(){
		func() { h.op.Inject(EndpointPAR, oidctest.Fault{Error: "invalid_client", Status: 401}) },
		func() { h.op.Inject(EndpointToken, oidctest.Fault{Error: "invalid_grant"}) },
		func() { h.op.Inject(EndpointToken, oidctest.Fault{Status: 500, Body: "oops"}) },
		func() { h.op.SetIDTokenHook(func(c map[string]any) { c["nonce"] = "x" }) },
		func() { h.op.SetIDTokenHook(func(c map[string]any) { c["aud"] = "x" }) },
		func() { h.op.SetAuthorizationResponseHook(func(p url.Values) { p.Set("iss", "https://evil.example") }) },
		func() {
			h.op.SetAuthorizationResponseHook(func(p url.Values) { p.Set("state", "AAAAAAAAAAAAAAAAAAAAAAAAAA") })
		},
	}
	for _, fail := range failures {
		h.op.ClearFaults()
		h.op.SetIDTokenHook(nil)
		h.op.SetAuthorizationResponseHook(nil)
		fail()
		if resp := h.navigate(http.MethodGet, "/auth/login", nil); resp.StatusCode == http.StatusSeeOther {
			h.callback(h.authorize(resp))
		}
	}

	secrets := []string{h.client.Secret, firstAccessToken, accessToken, idToken}
	for _, e := range []oidctest.Endpoint{EndpointPAR, EndpointToken} {
		for _, req := range h.op.Requests(e) {
			for _, k := range []string{"client_assertion", "code", "code_verifier", "refresh_token"} {
				if v := req.Get(k); v != "" {
					secrets = append(secrets, v)
				}
			}
		}
	}
	if len(secrets) < 10 {
		t.Fatalf("only %d secrets collected: the run did not exercise the flow", len(secrets))
	}
	var texts []string
	texts = append(texts, h.logs.String())
	kinds := map[EventKind]bool{}
	for _, e := range events {
		kinds[e.Kind] = true
		texts = append(texts, fmt.Sprintf("%#v", e))
		if e.Err != nil {
			texts = append(texts, e.Err.Error())
		}
	}
	for _, k := range []EventKind{EventLoginStarted, EventLoginSucceeded, EventLoginFailed, EventRefresh, EventLogout, EventBackchannelLogout} {
		if !kinds[k] {
			t.Errorf("no %s event in the run", k)
		}
	}
	for _, err := range h.errs.errs {
		texts = append(texts, err.Error())
	}
	if len(h.errs.errs) < len(failures) {
		t.Fatalf("%d errors reported for %d failures", len(h.errs.errs), len(failures))
	}
	for _, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("a secret (%d bytes) appears in %q", len(s), text)
			}
		}
	}
}
