package parlogin

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parlogin/parlogin/oidctest"
)

func TestKeyRotation(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.login("/private")
	h.op.RotateKeys()
	b := newHarnessBrowser(h)
	if page := jsonBody(t, b.login("/private")); page["sub"] != "alice" {
		t.Fatalf("login after key rotation: %v", page)
	}
	if n := len(h.op.Requests(EndpointJWKS)); n != 2 {
		t.Errorf("%d JWKS fetches, want 2: the first login's and the rotation's", n)
	}
}

// ID tokens signed with keys the provider never published cannot make parlogin fetch the JWKS
// for each of them.
func TestUnknownKeysNoRefreshStorm(t *testing.T) {
	clk := newClock()
	h := newHarness(t, harnessOptions{config: func(c *Config) { c.Now = clk.Now }})
	h.login("/private") // keys fetched once
	rogue, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	h.op.SetIDTokenSigner(func(claims map[string]any) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
		tok.Header["kid"] = rand.Text() // a new unknown key ID every time
		s, _ := tok.SignedString(rogue)
		return s
	})
	const attempts = 20
	for range attempts {
		b := newHarnessBrowser(h)
		resp := b.callback(b.authorize(b.toProvider("/private")))
		if resp.StatusCode != http.StatusBadGateway || !errors.Is(h.errs.last(), ErrInvalidIDToken) {
			t.Fatalf("forged token: %d, %v", resp.StatusCode, h.errs.last())
		}
	}
	if n := len(h.op.Requests(EndpointJWKS)); n > 1+jwksRefreshBurst {
		t.Fatalf("%d JWKS fetches for %d tokens with unknown keys, want at most %d", n, attempts, 1+jwksRefreshBurst)
	}
	// Time restores the allowance: a genuine rotation later is picked up.
	h.op.SetIDTokenSigner(nil)
	h.op.RotateKeys()
	clk.Add(jwksRefreshEvery)
	h.op.SetClock(clk.Now)
	if page := jsonBody(t, newHarnessBrowser(h).login("/private")); page["sub"] != "alice" {
		t.Fatalf("login after rotation: %v", page)
	}
}

func TestJWKSDown(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.login("/private")
	h.op.Inject(EndpointJWKS, oidctest.Fault{Status: http.StatusInternalServerError, Body: "down"})
	if page := jsonBody(t, newHarnessBrowser(h).login("/private")); page["sub"] != "alice" {
		t.Fatalf("login with the JWKS endpoint down and keys cached: %v", page)
	}
	h.op.RotateKeys() // a key parlogin cannot fetch
	b := newHarnessBrowser(h)
	resp := b.callback(b.authorize(b.toProvider("/private")))
	if resp.StatusCode != http.StatusBadGateway || !errors.Is(h.errs.last(), ErrInvalidIDToken) {
		t.Fatalf("new key with the JWKS endpoint down: %d, %v", resp.StatusCode, h.errs.last())
	}
}

func TestKeySetWaitsForFetchInFlight(t *testing.T) {
	op := oidctest.NewServer()
	defer op.Close()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{"sub": "x"}).SignedString(key)

	ks := newKeySet(op.Issuer+"/jwks", op.Client(), time.Now)
	ks.stale = time.Now().Add(time.Hour) // keys fetched a moment ago
	release := make(chan struct{})
	ks.fetching = release // another verification's fetch is in flight
	done := make(chan error)
	go func() {
		_, err := ks.VerifySignature(t.Context(), raw)
		done <- err
	}()
	close(release)
	if err := <-done; !errors.Is(err, errNoKey) {
		t.Fatalf("VerifySignature = %v, want errNoKey", err)
	}
	if n := len(op.Requests(EndpointJWKS)); n != 0 {
		t.Fatalf("%d fetches although one was in flight", n)
	}
}

// A key the provider removed from its JWKS stops verifying once the keys are older than the
// JWKS's Cache-Control allows: without a periodic refetch, it would verify until the app restarts.
func TestRemovedKeyStopsVerifying(t *testing.T) {
	clk := newClock()
	h := newHarness(t, harnessOptions{config: func(c *Config) { c.Now = clk.Now }})
	h.op.SetClock(clk.Now)
	h.login("/private") // keys fetched
	kid, removed := h.op.SigningKey()
	h.op.RotateKeys()
	h.op.RotateKeys() // the first key is gone from the JWKS
	h.op.SetIDTokenSigner(func(claims map[string]any) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
		tok.Header["kid"] = kid
		s, _ := tok.SignedString(removed)
		return s
	})
	if page := jsonBody(t, newHarnessBrowser(h).login("/private")); page["sub"] != "alice" {
		t.Fatalf("a key fetched a moment ago: %v", page)
	}
	clk.Add(jwksMinAge)
	h.op.SetClock(clk.Now)
	b := newHarnessBrowser(h)
	resp := b.callback(b.authorize(b.toProvider("/private")))
	if resp.StatusCode != http.StatusBadGateway || !errors.Is(h.errs.last(), ErrInvalidIDToken) {
		t.Fatalf("a key removed from the JWKS, after its max-age: %d, %v", resp.StatusCode, h.errs.last())
	}
}

func TestCacheMaxAge(t *testing.T) {
	tests := map[string]time.Duration{
		"":                                jwksMinAge,
		"no-cache":                        jwksMinAge,
		"max-age=60":                      jwksMinAge,
		"public, max-age=3600":            time.Hour,
		`max-age="7200", must-revalidate`: 2 * time.Hour,
		"max-age=99999999999999999":       jwksMaxAge,
		"max-age=-5":                      jwksMinAge,
		"Max-Age=600":                     10 * time.Minute,
	}
	for header, want := range tests {
		if got := cacheMaxAge(header); got != want {
			t.Errorf("cacheMaxAge(%q) = %v, want %v", header, got, want)
		}
	}
}
