package parlogin

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parlogin/parlogin/oidctest"
)

// clock is a settable clock for tests.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// editResponse returns a hook that edits the provider's authorization responses.
func editResponse(edit func(url.Values)) func(*harness) {
	return func(h *harness) { h.op.SetAuthorizationResponseHook(edit) }
}

// editIDToken returns a hook that edits the claims of the provider's ID tokens.
func editIDToken(edit func(map[string]any)) func(*harness) {
	return func(h *harness) { h.op.SetIDTokenHook(edit) }
}

// forgeIDToken returns a hook that replaces the provider's ID tokens.
func forgeIDToken(forge func(h *harness, claims map[string]any) string) func(*harness) {
	return func(h *harness) {
		h.op.SetIDTokenSigner(func(claims map[string]any) string { return forge(h, claims) })
	}
}

func TestCallbackChecks(t *testing.T) {
	otherKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		opts    harnessOptions
		setup   func(*harness)
		wantErr error  // a sentinel the error must match
		code    string // or: the OAuth error code of a *ProviderError
		ok      bool   // or: the login succeeds
		msg     string // a text the error must contain, when the sentinel is not specific
	}{
		{name: "provider error", setup: func(h *harness) {
			h.op.Inject(EndpointAuthorization, oidctest.Fault{Error: "access_denied", ErrorDescription: "user said no"})
		}, code: "access_denied"},
		{name: "missing state", setup: editResponse(func(p url.Values) { p.Del("state") }), wantErr: ErrInvalidState},
		// An error response to no pending login of this browser is anyone's, not the provider's:
		// its text must not reach the error handler or the log.
		{name: "error response without state", setup: editResponse(func(p url.Values) {
			p.Del("state")
			p.Del("code")
			p.Set("error", "access_denied")
			p.Set("error_description", "<b>call +1 555 0100 now</b>")
		}), wantErr: ErrInvalidState},
		{name: "error response with an unknown state", setup: editResponse(func(p url.Values) {
			p.Set("state", rand.Text())
			p.Del("code")
			p.Set("error", "server_error")
			p.Set("error_description", "<b>call +1 555 0100 now</b>")
		}), wantErr: ErrInvalidState},
		{name: "malformed state", setup: editResponse(func(p url.Values) { p.Set("state", "x;y") }), wantErr: ErrInvalidState},
		{name: "unknown state", setup: editResponse(func(p url.Values) { p.Set("state", rand.Text()) }), wantErr: ErrInvalidState},
		{name: "wrong iss", setup: editResponse(func(p url.Values) { p.Set("iss", "https://evil.example") }), wantErr: ErrIssuerMismatch},
		{name: "iss on an error response", setup: func(h *harness) {
			h.op.Inject(EndpointAuthorization, oidctest.Fault{Error: "access_denied"})
			h.op.SetAuthorizationResponseHook(func(p url.Values) { p.Set("iss", "https://evil.example") })
		}, wantErr: ErrIssuerMismatch},
		{name: "two iss", setup: editResponse(func(p url.Values) { p.Add("iss", "https://evil.example") }), wantErr: ErrIssuerMismatch},
		{name: "missing iss although advertised", setup: editResponse(func(p url.Values) { p.Del("iss") }), wantErr: ErrIssuerMismatch},
		{name: "missing iss, not advertised", opts: harnessOptions{op: func(s *oidctest.Server) {
			s.EditMetadata = func(m map[string]any) { delete(m, "authorization_response_iss_parameter_supported") }
		}}, setup: editResponse(func(p url.Values) { p.Del("iss") }), ok: true},
		{name: "missing code", setup: editResponse(func(p url.Values) { p.Del("code") }), wantErr: ErrInvalidCallback},
		{name: "wrong code", setup: editResponse(func(p url.Values) { p.Set("code", "forged") }), code: "invalid_grant"},
		{name: "token endpoint error", setup: func(h *harness) {
			h.op.Inject(EndpointToken, oidctest.Fault{Error: "invalid_client", Status: 401})
		}, code: "invalid_client"},
		{name: "wrong nonce", setup: editIDToken(func(c map[string]any) { c["nonce"] = "other" }), wantErr: ErrNonceMismatch},
		{name: "missing nonce", setup: editIDToken(func(c map[string]any) { delete(c, "nonce") }), wantErr: ErrNonceMismatch},
		{name: "wrong aud", setup: editIDToken(func(c map[string]any) { c["aud"] = "another-client" }), wantErr: ErrInvalidIDToken},
		{name: "several aud without azp", setup: func(h *harness) {
			h.op.SetIDTokenHook(func(c map[string]any) { c["aud"] = []string{h.client.ID, "another"}; delete(c, "azp") })
		}, wantErr: ErrInvalidIDToken},
		{name: "several aud, azp another client", setup: func(h *harness) {
			h.op.SetIDTokenHook(func(c map[string]any) { c["aud"] = []string{h.client.ID, "another"}; c["azp"] = "another" })
		}, wantErr: ErrInvalidIDToken},
		{name: "several aud, azp this client", setup: func(h *harness) {
			h.op.SetIDTokenHook(func(c map[string]any) { c["aud"] = []string{h.client.ID, "another"}; c["azp"] = h.client.ID })
		}, ok: true},
		{name: "wrong iss in id token", setup: editIDToken(func(c map[string]any) { c["iss"] = "https://evil.example" }), wantErr: ErrInvalidIDToken},
		{name: "expired", setup: editIDToken(func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }), wantErr: ErrInvalidIDToken},
		{name: "expired within clock skew", setup: editIDToken(func(c map[string]any) { c["exp"] = time.Now().Add(-10 * time.Second).Unix() }), ok: true},
		{name: "issued in the future", setup: editIDToken(func(c map[string]any) { c["iat"] = time.Now().Add(time.Hour).Unix() }), wantErr: ErrInvalidIDToken},
		{name: "no iat", setup: editIDToken(func(c map[string]any) { delete(c, "iat") }), wantErr: ErrInvalidIDToken},
		{name: "not yet valid", setup: editIDToken(func(c map[string]any) { c["nbf"] = time.Now().Add(time.Hour).Unix() }), wantErr: ErrInvalidIDToken},
		{name: "no sub", setup: editIDToken(func(c map[string]any) { delete(c, "sub") }), wantErr: ErrInvalidIDToken},
		{name: "wrong at_hash", setup: editIDToken(func(c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA" }), wantErr: ErrInvalidIDToken},
		{name: "no at_hash", setup: editIDToken(func(c map[string]any) { delete(c, "at_hash") }), ok: true},
		{name: "auth_time older than max_age", opts: harnessOptions{config: func(c *Config) {
			c.AuthParams = func(*http.Request) url.Values { return url.Values{"max_age": {"60"}} }
		}}, setup: editIDToken(func(c map[string]any) { c["auth_time"] = time.Now().Add(-time.Hour).Unix() }), wantErr: ErrInvalidIDToken},
		{name: "auth_time missing with max_age", opts: harnessOptions{config: func(c *Config) {
			c.AuthParams = func(*http.Request) url.Values { return url.Values{"max_age": {"60"}} }
		}}, setup: editIDToken(func(c map[string]any) { delete(c, "auth_time") }), wantErr: ErrInvalidIDToken, msg: "auth_time is missing"},
		{name: "auth_time within max_age", opts: harnessOptions{config: func(c *Config) {
			c.AuthParams = func(*http.Request) url.Values { return url.Values{"max_age": {"60"}} }
		}}, ok: true},
		{name: "acr not requested one", opts: harnessOptions{config: func(c *Config) {
			c.AuthParams = func(*http.Request) url.Values { return url.Values{"acr_values": {"mfa phr"}} }
		}}, setup: editIDToken(func(c map[string]any) { c["acr"] = "pwd" }), wantErr: ErrInvalidIDToken},
		{name: "acr missing when requested", opts: harnessOptions{config: func(c *Config) {
			c.AuthParams = func(*http.Request) url.Values { return url.Values{"acr_values": {"mfa"}} }
		}}, setup: editIDToken(func(c map[string]any) { delete(c, "acr") }), wantErr: ErrInvalidIDToken},
		{name: "acr requested and met", opts: harnessOptions{config: func(c *Config) {
			c.AuthParams = func(*http.Request) url.Values { return url.Values{"acr_values": {"mfa phr"}} }
		}}, ok: true},
		{name: "alg none", setup: forgeIDToken(func(_ *harness, claims map[string]any) string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims(claims)).SignedString(jwt.UnsafeAllowNoneSignatureType)
			return s
		}), wantErr: ErrInvalidIDToken},
		{name: "HS256 with the provider's public key", setup: forgeIDToken(func(h *harness, claims map[string]any) string {
			kid, key := h.op.SigningKey()
			der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
			pub := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
			t := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims(claims))
			t.Header["kid"] = kid
			s, _ := t.SignedString(pub)
			return s
		}), wantErr: ErrInvalidIDToken},
		{name: "unknown key", setup: forgeIDToken(func(_ *harness, claims map[string]any) string {
			t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
			t.Header["kid"] = "unknown"
			s, _ := t.SignedString(otherKey)
			return s
		}), wantErr: ErrInvalidIDToken},
		{name: "known kid, wrong key", setup: forgeIDToken(func(h *harness, claims map[string]any) string {
			kid, _ := h.op.SigningKey()
			t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
			t.Header["kid"] = kid
			s, _ := t.SignedString(otherKey)
			return s
		}), wantErr: ErrInvalidIDToken},
		{name: "no id token", setup: forgeIDToken(func(*harness, map[string]any) string { return "" }), wantErr: ErrInvalidIDToken},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, tc.opts)
			if tc.setup != nil {
				tc.setup(h)
			}
			resp := h.callback(h.authorize(h.toProvider("/private")))
			err := h.errs.last()
			if tc.ok {
				if resp.StatusCode != http.StatusSeeOther || err != nil {
					t.Fatalf("callback = %d, error %v; want success", resp.StatusCode, err)
				}
				if page := jsonBody(t, h.follow(resp)); page["sub"] != "alice" {
					t.Fatalf("after login: %v", page)
				}
				return
			}
			if resp.StatusCode == http.StatusSeeOther || err == nil {
				t.Fatalf("callback = %d, error %v; want a failure", resp.StatusCode, err)
			}
			if resp.StatusCode != ErrorStatus(err) {
				t.Errorf("status %d, want ErrorStatus %d", resp.StatusCode, ErrorStatus(err))
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("error %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %q does not say %q", err, tc.msg)
			}
			if tc.code != "" {
				var pe *ProviderError
				if !errors.As(err, &pe) || pe.Code != tc.code {
					t.Errorf("error %v, want a ProviderError %s", err, tc.code)
				}
			}
			if tc.wantErr != nil && strings.Contains(err.Error(), "555 0100") {
				t.Errorf("error %q carries the text of an unsolicited error response", err)
			}
			if _, ok := h.auth.User(resp.Request); ok || h.cookie("__Host-parlogin") != nil {
				t.Error("a failed callback left a session")
			}
			if body := readBody(resp); !strings.Contains(body, sentences[Reason(err)]) || strings.Contains(body, "parlogin:") ||
				strings.Contains(body, "555 0100") || strings.Contains(body, "user said no") {
				t.Errorf("error page %q: want its reason's sentence and no detail", body)
			}
		})
	}
}

func TestCallbackReplay(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	toProvider := h.toProvider("/private")
	flow := flowCookies(toProvider)[0]
	fromProvider := h.authorize(toProvider)
	if resp := h.callback(fromProvider); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first callback = %d: %v", resp.StatusCode, h.errs.last())
	}

	t.Run("same browser", func(t *testing.T) {
		if resp := h.callback(fromProvider); resp.StatusCode != http.StatusBadRequest || !errors.Is(h.errs.last(), ErrInvalidState) {
			t.Fatalf("replayed callback = %d, %v; want 400 ErrInvalidState", resp.StatusCode, h.errs.last())
		}
	})
	t.Run("with the captured pending-login cookie", func(t *testing.T) {
		h.setCookie(flow.Name, flow.Value)
		resp := h.callback(fromProvider)
		if resp.StatusCode != http.StatusBadRequest || !errors.Is(h.errs.last(), ErrInvalidState) ||
			!strings.Contains(h.errs.last().Error(), "already used") {
			t.Fatalf("replay with the old cookie = %d, %v; want the state refused as used", resp.StatusCode, h.errs.last())
		}
	})
}

func TestCallbackInAnotherBrowser(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	// The attacker starts a login and lures the victim to the authorization response (login CSRF).
	fromProvider := h.authorize(h.toProvider("/private"))
	victim := newHarnessBrowser(h)
	loc, _ := fromProvider.Location()
	resp := victim.navigate(http.MethodGet, loc.String(), nil)
	if resp.StatusCode != http.StatusBadRequest || !errors.Is(h.errs.last(), ErrInvalidState) {
		t.Fatalf("callback in another browser = %d, %v", resp.StatusCode, h.errs.last())
	}
	if victim.cookie("__Host-parlogin") != nil {
		t.Fatal("the victim got a session")
	}
}

// newHarnessBrowser returns a view of h with a fresh cookie jar: another browser.
func newHarnessBrowser(h *harness) *harness {
	other := *h
	other.jar, _ = cookiejarNew()
	other.http = other.newBrowser()
	return &other
}

func TestCallbackMalformed(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	tests := []struct {
		name    string
		method  string
		target  string
		body    url.Values
		wantErr error
	}{
		{"oversized query", http.MethodGet, "/auth/callback?state=" + strings.Repeat("A", maxCallbackSize), nil, ErrInvalidCallback},
		{"bad query", http.MethodGet, "/auth/callback?%zz", nil, ErrInvalidCallback},
		{"oversized form", http.MethodPost, "/auth/callback", url.Values{"code": {strings.Repeat("c", maxCallbackSize)}}, ErrInvalidCallback},
		{"put", http.MethodPut, "/auth/callback", url.Values{}, ErrMethodNotAllowed},
		{"no parameters", http.MethodGet, "/auth/callback", nil, ErrInvalidState},
		{"POST for a query-mode login", http.MethodPost, "", nil, ErrInvalidCallback},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			target, body := tc.target, tc.body
			if target == "" {
				// A genuine query-mode response, delivered as a POST.
				loc, _ := h.authorize(h.toProvider("/private")).Location()
				target, body = "/auth/callback", loc.Query()
			}
			resp := h.navigate(tc.method, target, body)
			if !errors.Is(h.errs.last(), tc.wantErr) || resp.StatusCode != ErrorStatus(tc.wantErr) {
				t.Fatalf("status %d, error %v; want %v", resp.StatusCode, h.errs.last(), tc.wantErr)
			}
			if errors.Is(tc.wantErr, ErrMethodNotAllowed) && resp.Header.Get("Allow") != "GET, POST" {
				t.Errorf("Allow = %q, want GET, POST", resp.Header.Get("Allow"))
			}
		})
	}
}

func TestPendingLoginExpires(t *testing.T) {
	clk := newClock()
	h := newHarness(t, harnessOptions{config: func(c *Config) { c.Now = clk.Now }})
	fromProvider := h.authorize(h.toProvider("/private"))
	clk.Add(flowLifetime + time.Second)
	// The jar would drop the cookie by its Max-Age only in real time; send it as a browser whose
	// clock lags would.
	resp := h.callback(fromProvider)
	if resp.StatusCode != http.StatusBadRequest || !errors.Is(h.errs.last(), ErrInvalidState) {
		t.Fatalf("late callback = %d, %v", resp.StatusCode, h.errs.last())
	}
}

func TestTamperedCookies(t *testing.T) {
	t.Run("pending login", func(t *testing.T) {
		h := newHarness(t, harnessOptions{})
		toProvider := h.toProvider("/private")
		flow := flowCookies(toProvider)[0]
		h.setCookie(flow.Name, flow.Value[:len(flow.Value)-4]+"AAAA")
		resp := h.callback(h.authorize(toProvider))
		if resp.StatusCode != http.StatusBadRequest || !errors.Is(h.errs.last(), ErrInvalidState) {
			t.Fatalf("callback with a tampered cookie = %d, %v", resp.StatusCode, h.errs.last())
		}
	})
	t.Run("session", func(t *testing.T) {
		h := newHarness(t, harnessOptions{})
		h.login("/private")
		good := h.cookie("__Host-parlogin")
		for name, value := range map[string]string{
			"flipped":     good.Value[:10] + "x" + good.Value[11:],
			"truncated":   good.Value[:len(good.Value)/2],
			"empty":       "",
			"garbage":     "not-a-cookie",
			"foreign key": foreignSession(t, h.op.Issuer),
		} {
			h.setCookie("__Host-parlogin", value)
			if resp := h.api("/api/me"); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s session cookie: /api/me = %d, want 401", name, resp.StatusCode)
			}
		}
		h.setCookie("__Host-parlogin", good.Value)
		if resp := h.api("/api/me"); resp.StatusCode != http.StatusOK {
			t.Errorf("restored cookie: %d", resp.StatusCode)
		}
	})
}

func TestUserInfo(t *testing.T) {
	idTokenWithoutProfile := func(c map[string]any) { delete(c, "name"); delete(c, "email") }
	tests := []struct {
		name      string
		skip      bool
		fault     *oidctest.Fault
		wantEmail string
		wantErr   bool
		wantCalls int
	}{
		{name: "claims from userinfo", wantEmail: "alice@example.com", wantCalls: 1},
		{name: "skipped", skip: true, wantEmail: "", wantCalls: 0},
		{name: "userinfo about another subject", fault: &oidctest.Fault{Status: 200, Body: `{"sub":"mallory","email":"m@evil.example"}`}, wantErr: true, wantCalls: 1},
		{name: "userinfo down", fault: &oidctest.Fault{Status: 503, Body: "down"}, wantErr: true, wantCalls: 1},
		{name: "userinfo malformed", fault: &oidctest.Fault{Status: 200, Body: `{"sub":`}, wantErr: true, wantCalls: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{config: func(c *Config) { c.SkipUserInfo = tc.skip }})
			h.op.SetIDTokenHook(idTokenWithoutProfile)
			if tc.fault != nil {
				h.op.Inject(EndpointUserInfo, *tc.fault)
			}
			resp := h.callback(h.authorize(h.toProvider("/private")))
			if n := len(h.op.Requests(EndpointUserInfo)); n != tc.wantCalls {
				t.Errorf("%d userinfo requests, want %d", n, tc.wantCalls)
			}
			if tc.wantErr {
				var pe *ProviderError
				if !errors.As(h.errs.last(), &pe) || pe.Endpoint != EndpointUserInfo || resp.StatusCode != http.StatusBadGateway {
					t.Fatalf("callback = %d, %v; want a userinfo ProviderError", resp.StatusCode, h.errs.last())
				}
				return
			}
			if page := jsonBody(t, h.follow(resp)); page["sub"] != "alice" || page["email"] != tc.wantEmail {
				t.Fatalf("after login: %v, want email %q", page, tc.wantEmail)
			}
		})
	}
}

// The browser goes back to the provider's page after its request_uri was used or expired: the
// provider answers invalid_request_uri, and parlogin starts the login again, once.
func TestRequestURIRestart(t *testing.T) {
	t.Run("reused, not signed in", func(t *testing.T) {
		h := newHarness(t, harnessOptions{})
		toProvider := h.toProvider("/private")
		h.authorize(toProvider) // the provider used the request_uri; the user leaves
		again := h.callback(h.authorize(toProvider))
		if again.StatusCode != http.StatusSeeOther || !strings.HasPrefix(again.Header.Get("Location"), h.op.Issuer) {
			t.Fatalf("reused request_uri: %d to %q, want a fresh login at the provider (%v)", again.StatusCode, again.Header.Get("Location"), h.errs.last())
		}
		if resp := h.callback(h.authorize(again)); resp.StatusCode != http.StatusSeeOther || h.cookie("__Host-parlogin") == nil {
			t.Fatalf("restarted login: %d, %v", resp.StatusCode, h.errs.last())
		}
		// The marker is cleared by the successful login: the next back-button visit recovers too.
		if h.cookie("__Host-parlogin-restart") != nil {
			t.Error("restart marker kept after a successful login")
		}
	})
	t.Run("twice in a row", func(t *testing.T) {
		h := newHarness(t, harnessOptions{})
		first := h.toProvider("/private")
		h.authorize(first)
		second := h.callback(h.authorize(first)) // restarted: a fresh request_uri
		h.authorize(second)
		resp := h.callback(h.authorize(second)) // used again: no second restart
		var pe *ProviderError
		if resp.StatusCode != http.StatusBadRequest || !errors.As(h.errs.last(), &pe) || pe.Code != "invalid_request_uri" {
			t.Fatalf("second reuse: %d, %v; want the provider's error, not another restart", resp.StatusCode, h.errs.last())
		}
	})
	t.Run("expired", func(t *testing.T) {
		clk := newClock()
		h := newHarness(t, harnessOptions{})
		h.op.SetClock(clk.Now)
		toProvider := h.toProvider("/private")
		clk.Add(61 * time.Second)
		resp := h.callback(h.authorize(toProvider))
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), h.op.Issuer) {
			t.Fatalf("expired request_uri: %d to %q (%v)", resp.StatusCode, resp.Header.Get("Location"), h.errs.last())
		}
	})
	t.Run("signed in already", func(t *testing.T) {
		h := newHarness(t, harnessOptions{})
		toProvider := h.toProvider("/private")
		if resp := h.callback(h.authorize(toProvider)); resp.StatusCode != http.StatusSeeOther {
			t.Fatal(h.errs.last())
		}
		resp := h.callback(h.authorize(toProvider)) // back button after the login
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
			t.Fatalf("back button after login: %d to %q, want / (%v)", resp.StatusCode, resp.Header.Get("Location"), h.errs.last())
		}
		if len(h.op.Requests(EndpointPAR)) != 1 {
			t.Error("a signed-in user was sent through a new login")
		}
	})
}

// The provider's clock differs from the app's: parlogin measures the offset from the Date header
// of the provider's answers and applies it to assertions and ID token checks, so that logins work
// up to maxClockOffset; beyond, nothing is applied, loudly, and logins fail with a clear error.
func TestClockSkew(t *testing.T) {
	tests := []struct {
		name     string
		opOffset time.Duration // the provider's clock minus the app's
		ok       bool
		wantErr  error  // a sentinel, or
		code     string // the code of a ProviderError
	}{
		// parlogin measures the offset from the provider's Date headers and corrects it.
		{name: "provider 10s ahead", opOffset: 10 * time.Second, ok: true},
		{name: "provider 10s behind", opOffset: -10 * time.Second, ok: true},
		{name: "provider 45s ahead", opOffset: 45 * time.Second, ok: true},
		{name: "provider 2 min ahead", opOffset: 2 * time.Minute, ok: true},
		{name: "provider 2 min behind", opOffset: -2 * time.Minute, ok: true},
		// Beyond maxClockOffset, nothing is corrected: a clock to fix.
		{name: "provider 2 h ahead", opOffset: 2 * time.Hour, code: "invalid_client"},
		{name: "provider 2 h behind", opOffset: -2 * time.Hour, code: "invalid_client"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var events eventLog
			h := newHarness(t, harnessOptions{
				op:     func(s *oidctest.Server) { s.SetClock(func() time.Time { return time.Now().Add(tc.opOffset) }) },
				config: func(c *Config) { c.OnEvent = events.add },
			})
			resp := h.navigate(http.MethodGet, "/private", nil)
			if resp.StatusCode == http.StatusSeeOther {
				resp = h.callback(h.authorize(resp))
			}
			err := h.errs.last()
			if tc.ok {
				if resp.StatusCode != http.StatusSeeOther || err != nil {
					t.Fatalf("login = %d, %v; want success", resp.StatusCode, err)
				}
				if e, ok := events.last(EventClockOffset); (tc.opOffset >= 2*time.Second || tc.opOffset <= -2*time.Second) &&
					(!ok || (e.Duration-tc.opOffset).Abs() > 2*time.Second) {
					t.Errorf("clock offset event %+v, want about %v", e, tc.opOffset)
				}
				return
			}
			if !strings.Contains(h.logs.String(), "parlogin: the app's clock and the provider's differ") {
				t.Errorf("no loud log line for an offset beyond the bound:\n%s", h.logs.String())
			}
			var pe *ProviderError
			switch {
			case resp.StatusCode != http.StatusBadGateway:
				t.Fatalf("login = %d, %v; want 502", resp.StatusCode, err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			case tc.code != "" && (!errors.As(err, &pe) || pe.Code != tc.code):
				t.Fatalf("error %v, want the provider's %s", err, tc.code)
			}
		})
	}
}

// A pending login's cookie is bound to its name, which carries its state: moved to another
// state's name, it does not decode (the cookie codecs' MAC covers the name), so that one login's
// nonce and PKCE verifier never serve another's authorization response.
func TestPendingLoginBoundToState(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	first := flowCookies(h.toProvider("/private?tab=1"))[0]
	toProvider := h.toProvider("/private?tab=2")
	second := flowCookies(toProvider)[0]
	h.setCookie(second.Name, first.Value)
	resp := h.callback(h.authorize(toProvider))
	if resp.StatusCode != http.StatusBadRequest || !errors.Is(h.errs.last(), ErrInvalidState) {
		t.Fatalf("a pending login under another state's name: %d, %v; want ErrInvalidState", resp.StatusCode, h.errs.last())
	}
}

// UserInfo's answer adds claims about the user, never protocol claims (iss, aud, exp, nonce…),
// which the app would otherwise read as if the ID token had said them.
func TestUserInfoProtocolClaimsDropped(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.op.Inject(EndpointUserInfo, oidctest.Fault{Status: http.StatusOK,
		Body: `{"sub":"alice","email":"alice@example.com","iss":"https://evil.example","aud":"other","exp":1,"nonce":"n","auth_time":5,"azp":"other"}`})
	h.login("/private")
	req, _ := http.NewRequest(http.MethodGet, h.app.URL, nil)
	for _, c := range h.jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	var claims map[string]any
	if err := mustUser(t, h.auth, req).Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims["email"] != "alice@example.com" {
		t.Fatalf("claims %v lack UserInfo's email", claims)
	}
	for _, name := range protocolClaims {
		if _, ok := claims[name]; ok {
			t.Errorf("claims %v hold the protocol claim %s", claims, name)
		}
	}
}
