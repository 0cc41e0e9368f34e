package parlogin

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin/oidctest"
)

// TestNoSecretsInLogsOrErrors runs a login, a token refresh, a logout and failures at every
// step, then checks that no secret, assertion, code or token appears in the logs or in any error
// text that reached the error handler.
func TestNoSecretsInLogsOrErrors(t *testing.T) {
	store := sessions.NewFilesystemStore(t.TempDir(), []byte(testSecret))
	store.MaxLength(0)
	h := newHarness(t, harnessOptions{config: func(c *Config) {
		c.SaveTokens = true
		c.Store = store
		c.Scopes = append(c.Scopes, "offline_access")
	}})
	h.login("/private")
	accessToken := readBody(h.navigate(http.MethodGet, "/token", nil))
	logout, _ := h.navigate(http.MethodPost, "/auth/logout", nil).Location()
	idToken := logout.Query().Get("id_token_hint")
	if accessToken == "" || idToken == "" {
		t.Fatalf("access token %q, id token %q: tokens not captured", accessToken, idToken)
	}

	failures := []func(){
		func() { h.op.Inject(oidctest.PAR, oidctest.Fault{Error: "invalid_client", Status: 401}) },
		func() { h.op.Inject(oidctest.Token, oidctest.Fault{Error: "invalid_grant"}) },
		func() { h.op.Inject(oidctest.Token, oidctest.Fault{Status: 500, Body: "oops"}) },
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

	secrets := []string{h.client.Secret, accessToken, idToken}
	for _, e := range []oidctest.Endpoint{oidctest.PAR, oidctest.Token} {
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
