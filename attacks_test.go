package parlogin

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parlogin/parlogin/oidctest"
)

// An ID token from an earlier login, replayed in another login, fails on its nonce.
func TestNonceReplay(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	var captured string
	h.op.SetIDTokenSigner(func(claims map[string]any) string {
		if captured != "" {
			return captured // replay
		}
		kid, key := h.op.SigningKey()
		tok := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
		tok.Header["kid"] = kid
		captured, _ = tok.SignedString(key)
		return captured
	})
	h.login("/private")
	b := newHarnessBrowser(h)
	resp := b.callback(b.authorize(b.toProvider("/private")))
	if resp.StatusCode != http.StatusBadRequest || !errors.Is(h.errs.last(), ErrNonceMismatch) {
		t.Fatalf("replayed ID token: %d, %v", resp.StatusCode, h.errs.last())
	}
}

// An attacker injects the code of their own login into the victim's callback, with the victim's
// state: the code is bound to the attacker's PKCE verifier, so the exchange fails.
func TestCodeInjection(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	attacker := newHarnessBrowser(h)
	stolen, _ := attacker.authorize(attacker.toProvider("/private")).Location()

	victim := newHarnessBrowser(h)
	genuine, _ := victim.authorize(victim.toProvider("/private")).Location()
	injected := genuine.Query()
	injected.Set("code", stolen.Query().Get("code"))
	resp := victim.navigate(http.MethodGet, "/auth/callback?"+injected.Encode(), nil)
	var pe *ProviderError
	if resp.StatusCode != http.StatusBadGateway || !errors.As(h.errs.last(), &pe) || pe.Code != "invalid_grant" {
		t.Fatalf("injected code: %d, %v; want the provider to refuse it (PKCE)", resp.StatusCode, h.errs.last())
	}
	if victim.cookie("__Host-parlogin") != nil {
		t.Fatal("the victim got a session with the attacker's code")
	}
}

// A client that starts login after login keeps at most maxPendingLogins cookies, and the server
// keeps nothing per pending login.
func TestLoginFlood(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	const starts = 300
	for i := range starts {
		if resp := h.navigate(http.MethodGet, "/private?i="+strings.Repeat("x", i%50), nil); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("login start %d: %d", i, resp.StatusCode)
		}
	}
	u, _ := url.Parse(h.app.URL)
	pending := 0
	for _, c := range h.jar.Cookies(u) {
		if strings.Contains(c.Name, "-flow-") {
			pending++
		}
	}
	if pending > maxPendingLogins {
		t.Fatalf("%d pending logins after %d starts, want at most %d", pending, starts, maxPendingLogins)
	}
	if used := h.auth.shared.(*memoryShared).len(); used != 0 {
		t.Fatalf("%d states held in memory for logins that never came back", used)
	}
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("heap before %d KB, after %d starts %d KB", before.HeapAlloc>>10, starts, after.HeapAlloc>>10)
}

// Oversized and endless answers from the provider are cut off at maxResponseBody.
func TestProviderResponsesBounded(t *testing.T) {
	endless := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"request_uri":"`)
		chunk := strings.Repeat("x", 64<<10)
		for r.Context().Err() == nil {
			if _, err := io.WriteString(w, chunk); err != nil {
				return
			}
		}
	}))
	defer endless.Close()
	huge := `{"request_uri":"` + strings.Repeat("x", 2*maxResponseBody) + `"}`
	tests := []struct {
		name     string
		endpoint oidctest.Endpoint
		fault    oidctest.Fault
		config   func(*Config)
		wantErr  error // what the cut-off answer is reported as
	}{
		{name: "huge PAR answer", endpoint: EndpointPAR, fault: oidctest.Fault{Status: 201, Body: huge}, wantErr: errBodyTooLarge},
		{name: "endless PAR answer", config: func(c *Config) { c.PAREndpoint = endless.URL }, wantErr: errBodyTooLarge},
		// x/oauth2 reads at most 1 MB of a token answer itself: the JSON is then cut short.
		{name: "huge token answer", endpoint: EndpointToken, fault: oidctest.Fault{Status: 200, Body: huge}},
		// go-oidc reports a key set failure as text.
		{name: "huge JWKS", endpoint: EndpointJWKS, fault: oidctest.Fault{Status: 200, Body: `{"keys":["` + strings.Repeat("k", 2*maxResponseBody) + `"]}`}, wantErr: ErrInvalidIDToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{config: tc.config})
			if tc.endpoint != "" {
				h.op.Inject(tc.endpoint, tc.fault)
			}
			resp := h.navigate(http.MethodGet, "/private", nil)
			if resp.StatusCode == http.StatusSeeOther {
				resp = h.callback(h.authorize(resp))
			}
			if resp.StatusCode != http.StatusBadGateway {
				t.Fatalf("status %d, %v; want 502", resp.StatusCode, h.errs.last())
			}
			var pe *ProviderError
			if err := h.errs.last(); tc.wantErr != nil && !errors.Is(err, tc.wantErr) || tc.wantErr == nil && !errors.As(err, &pe) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
		})
	}
}

// While the provider hangs in one user's login, the app goes on serving others, and the hung
// login ends with a clear error when the HTTP client's Timeout expires.
func TestSlowProviderKeepsServing(t *testing.T) {
	h := newHarness(t, harnessOptions{config: func(c *Config) { withTimeout(c, 2*time.Second) }})
	h.login("/private")
	h.op.Inject(EndpointToken, oidctest.Fault{Delay: time.Minute})

	other := newHarnessBrowser(h)
	fromProvider := other.authorize(other.toProvider("/private"))
	var wg sync.WaitGroup
	var status int
	wg.Go(func() { status = other.callback(fromProvider).StatusCode })
	if me := jsonBody(t, h.api("/api/me")); me["sub"] != "alice" {
		t.Errorf("signed-in user while a login hangs: %v", me)
	}
	wg.Wait()
	if status != http.StatusGatewayTimeout {
		t.Fatalf("hung login ended with %d (%v), want 504", status, h.errs.last())
	}
	h.op.ClearFaults()
	if page := jsonBody(t, newHarnessBrowser(h).login("/private")); page["sub"] != "alice" {
		t.Fatalf("login after the provider recovered: %v", page)
	}
}
