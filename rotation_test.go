package parlogin

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parlogin/parlogin/oidctest"
)

// The client secret rotated at run time in either order loses no login: with the provider first
// (both secrets valid there for a while), and with the app first (the provider still has only the
// previous one, which parlogin tries when the new one is refused), until the old one is revoked.
func TestClientSecretRotation(t *testing.T) {
	newSecret := strings.Repeat("n", 43)
	login := func(h *harness) {
		h.t.Helper()
		if page := jsonBody(h.t, newHarnessBrowser(h).login("/private")); page["sub"] != "alice" {
			h.t.Fatalf("login: %v", page)
		}
	}
	register := func(h *harness, secret string, others ...string) {
		c := h.client
		c.Secret, c.OtherSecrets = secret, others
		h.op.AddClient(c)
	}
	t.Run("provider first", func(t *testing.T) {
		h := newHarness(t, harnessOptions{})
		old := h.client.Secret
		register(h, newSecret, old) // a new secret at the provider, the previous one kept
		login(h)
		if err := h.auth.SetClientSecret(newSecret, time.Hour); err != nil {
			t.Fatal(err)
		}
		login(h)
		if !strings.Contains(h.logs.String(), "the provider accepted the new client secret") {
			t.Errorf("the accepted secret is not logged:\n%s", h.logs.String())
		}
		register(h, newSecret) // the previous one revoked
		login(h)
	})
	t.Run("app first", func(t *testing.T) {
		h := newHarness(t, harnessOptions{})
		old := h.client.Secret
		if err := h.auth.SetClientSecret(newSecret, time.Hour); err != nil {
			t.Fatal(err)
		}
		login(h) // the provider refuses the new secret, accepts the previous one
		if !strings.Contains(h.logs.String(), "accepted the previous one") {
			t.Errorf("the fallback to the previous secret is not logged:\n%s", h.logs.String())
		}
		register(h, newSecret, old)
		login(h)
		register(h, newSecret)
		login(h)
	})
	t.Run("the previous secret dropped", func(t *testing.T) {
		clk := newClock()
		h := newHarness(t, harnessOptions{config: func(c *Config) { c.Now = clk.Now }})
		h.op.SetClock(clk.Now)
		if err := h.auth.SetClientSecret(newSecret, time.Minute); err != nil {
			t.Fatal(err)
		}
		clk.Add(2 * time.Minute)
		resp := h.navigate(http.MethodGet, "/private", nil)
		if resp.StatusCode != http.StatusBadGateway || !refusedClient(h.errs.last()) {
			t.Fatalf("past keepPrevious, with a provider that has only the previous secret: %d, %v", resp.StatusCode, h.errs.last())
		}
	})
}

// During a rotation with the new secret refused, a provider that asks for its DPoP nonce when
// the previous secret is tried gets the request again, with it: the error of the call is the
// previous secret's answer, not the refusal of the new one.
func TestClientSecretRotationWithDPoPNonce(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	newSecret := strings.Repeat("n", 43)
	if err := h.auth.SetClientSecret(newSecret, time.Hour); err != nil {
		t.Fatal(err)
	}
	var answers []string
	nonceSent := false
	err := withDPoPNonce(func() error {
		return h.auth.withClientAuth(context.Background(), func(key signingKey) error {
			switch {
			case string(key.secret) == newSecret:
				answers = append(answers, "invalid_client")
				return &ProviderError{Endpoint: EndpointToken, StatusCode: http.StatusUnauthorized, Code: "invalid_client"}
			case !nonceSent:
				nonceSent = true
				answers = append(answers, "use_dpop_nonce")
				return &ProviderError{Endpoint: EndpointToken, StatusCode: http.StatusBadRequest, Code: "use_dpop_nonce"}
			}
			answers = append(answers, "ok")
			return nil
		})
	})
	if err != nil || !slices.Equal(answers, []string{"invalid_client", "use_dpop_nonce", "invalid_client", "ok"}) {
		t.Fatalf("error %v after the answers %v", err, answers)
	}
}

// A rotation while logins are in flight: every login succeeds, whichever secret signed it.
func TestClientSecretRotationConcurrent(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	c := h.client
	c.OtherSecrets = []string{strings.Repeat("n", 43), strings.Repeat("m", 43)}
	h.op.AddClient(c)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			b := newHarnessBrowser(h)
			b.t = t
			if page := jsonBody(t, b.login("/private")); page["sub"] != "alice" {
				t.Errorf("login %d: %v", i, page)
			}
		})
	}
	for _, s := range c.OtherSecrets {
		if err := h.auth.SetClientSecret(s, time.Hour); err != nil {
			t.Error(err)
		}
	}
	wg.Wait()
}

func TestSetClientSecretRefusesWeakSecrets(t *testing.T) {
	h := newHarness(t, harnessOptions{client: func(c *oidctest.Client) { c.AuthAlg = "HS512"; c.Secret = testSecret },
		config: func(c *Config) { c.SigningAlg = "HS512" }})
	weak := strings.Repeat("w", 40)
	err := h.auth.SetClientSecret(weak, time.Hour)
	if err == nil || strings.Contains(err.Error(), weak) {
		t.Fatalf("SetClientSecret(a 40-byte secret for HS512) = %v", err)
	}
	login := newHarnessBrowser(h).login("/private")
	if page := jsonBody(t, login); page["sub"] != "alice" {
		t.Fatalf("the refused secret replaced the good one: %v", page)
	}
}
