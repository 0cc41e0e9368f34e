package parlogin

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin/oidctest"
)

// keyHarness is an app that authenticates with private_key_jwt, with the key registered at the
// provider.
func keyHarness(t *testing.T, alg string, opts ...func(*harness, *Config, *oidctest.Client)) *harness {
	t.Helper()
	signer := testKeys(t)[alg]
	return newHarness(t, harnessOptions{
		client: func(c *oidctest.Client) {
			c.AuthMethod = "private_key_jwt"
			c.Keys = []oidctest.ClientKey{{ID: "k1", Key: signer.Public()}}
		},
		config: func(c *Config) {
			c.ClientSecret = ""
			c.ClientKeys = []ClientKey{{ID: "k1", Signer: signer, Algorithm: alg}}
		},
	})
}

func TestPrivateKeyJWT(t *testing.T) {
	for _, alg := range []string{"ES256", "PS256", "RS256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			h := keyHarness(t, alg)
			if page := jsonBody(t, h.login("/private")); page["sub"] != "alice" {
				t.Fatalf("login with private_key_jwt %s: %v", alg, page)
			}
			par := h.op.Requests(EndpointPAR)
			if a := par[0].Get("client_assertion"); !strings.Contains(jwtHeader(t, a), `"kid":"k1"`) || par[0].Has("client_secret") {
				t.Errorf("PAR request %v", par[0])
			}
		})
	}
}

// A provider that fetches the client's keys from its jwks_uri reads them from parlogin's JWKS.
func TestPrivateKeyJWTFromJWKSURI(t *testing.T) {
	signer := testKeys(t)["ES256"]
	var appURL string
	h := newHarness(t, harnessOptions{
		client: func(c *oidctest.Client) {
			c.AuthMethod = "private_key_jwt"
			appURL = strings.TrimSuffix(c.RedirectURIs[0], "/auth/callback")
			c.JWKSURI = appURL + "/auth/jwks"
		},
		config: func(c *Config) {
			c.ClientSecret = ""
			c.ClientKeys = []ClientKey{{ID: "k1", Signer: signer}}
		},
	})
	if page := jsonBody(t, h.login("/private")); page["sub"] != "alice" {
		t.Fatalf("login with keys at %s/auth/jwks: %v", appURL, page)
	}
}

// Keys rotated with overlap lose no login: the provider still knows only the old key, which
// parlogin tries when the new one is refused.
func TestClientKeyRotation(t *testing.T) {
	h := keyHarness(t, "ES256")
	old := h.auth.cfg.ClientKeys[0]
	newKey := ClientKey{ID: "k2", Signer: testKeys(t)["PS256"]}
	if err := h.auth.SetClientKeys(newKey, old); err != nil {
		t.Fatal(err)
	}
	if page := jsonBody(t, newHarnessBrowser(h).login("/private")); page["sub"] != "alice" {
		t.Fatalf("login while the provider knows only the old key: %v", page)
	}
	c := h.client
	c.Keys = []oidctest.ClientKey{{ID: "k2", Key: newKey.Signer.Public()}}
	h.op.AddClient(c)
	if err := h.auth.SetClientKeys(newKey); err != nil {
		t.Fatal(err)
	}
	if page := jsonBody(t, newHarnessBrowser(h).login("/private")); page["sub"] != "alice" {
		t.Fatalf("login with the new key alone: %v", page)
	}
	if err := h.auth.SetClientSecret(testSecret, time.Hour); err == nil {
		t.Error("SetClientSecret on a client with keys succeeded")
	}
}

// dpopHarness is an app with DPoP-bound tokens kept in a server-side session, at a provider that
// demands its nonces.
func dpopHarness(t *testing.T, clk *clock) *harness {
	t.Helper()
	store := sessions.NewFilesystemStore(t.TempDir(), []byte(testSecret))
	store.MaxLength(0)
	h := newHarness(t, harnessOptions{
		op:     func(s *oidctest.Server) { s.DPoPNonce = true; s.SetClock(clk.Now) },
		client: func(c *oidctest.Client) { c.DPoPBoundAccessTokens = true },
		config: func(c *Config) {
			c.DPoP, c.SaveTokens, c.Store, c.Now = true, true, store, clk.Now
			c.Scopes = append(c.Scopes, "offline_access")
		},
	})
	return h
}

func TestDPoP(t *testing.T) {
	clk := newClock()
	h := dpopHarness(t, clk)
	if page := jsonBody(t, h.login("/private")); page["sub"] != "alice" || page["email"] != "alice@example.com" {
		t.Fatalf("login with DPoP (UserInfo called with a proof): %v", page)
	}
	par := h.op.Requests(EndpointPAR)
	if par[0].Get("dpop_jkt") == "" {
		t.Errorf("PAR without dpop_jkt: %v", par[0])
	}
	tok, err := tokenOf(h)
	if err != nil || !isDPoPToken(tok) {
		t.Fatalf("token type %q, %v; want DPoP", tok, err)
	}
	// The app calls an API (the provider's UserInfo) with the DPoP-bound token and a proof.
	if resp := h.navigate(http.MethodGet, "/client", nil); resp.StatusCode != http.StatusOK || !strings.Contains(readBody(resp), `"sub":"alice"`) {
		t.Fatalf("API call through Client: %d %s", resp.StatusCode, readBody(resp))
	}
	// A refresh proves possession of the same key.
	clk.Add(2 * time.Hour)
	if resp := h.navigate(http.MethodGet, "/token", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh of a DPoP-bound grant: %d %s", resp.StatusCode, readBody(resp))
	}
	if resp := h.navigate(http.MethodGet, "/client", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("API call with the refreshed token: %d %s", resp.StatusCode, readBody(resp))
	}
}

// tokenOf returns the type of the token of h's session.
func tokenOf(h *harness) (string, error) {
	req, _ := http.NewRequest(http.MethodGet, h.app.URL, nil)
	for _, c := range h.jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	s, err := h.auth.sessions.load(req, true)
	if err != nil || s == nil {
		return "", errors.Join(err, errors.New("no session"))
	}
	return s.data.TokenType, nil
}

// A provider that answers a Bearer token to a login that asked for a DPoP-bound one fails it: the
// token would be worth as much stolen.
func TestDPoPBearerRefused(t *testing.T) {
	h := newHarness(t, harnessOptions{config: func(c *Config) { c.DPoP = true }})
	h.op.Inject(EndpointToken, oidctest.Fault{Status: http.StatusOK, Body: `{"access_token":"x","token_type":"Bearer","expires_in":60,"id_token":"x.y.z"}`})
	resp := h.callback(h.authorize(h.toProvider("/private")))
	var pe *ProviderError
	if resp.StatusCode != http.StatusBadGateway || !errors.As(h.errs.last(), &pe) || !strings.Contains(pe.Description, "not a DPoP-bound one") {
		t.Fatalf("a Bearer token for a DPoP login: %d, %v", resp.StatusCode, h.errs.last())
	}
}

// FAPI 2.0 end to end: private_key_jwt, DPoP, ES256 ID tokens, at a provider in its FAPI 2.0 mode.
func TestFAPI2(t *testing.T) {
	signer := testKeys(t)["ES256"]
	h := newHarness(t, harnessOptions{
		op:     func(s *oidctest.Server) { s.FAPI2 = true },
		client: func(c *oidctest.Client) { c.Keys = []oidctest.ClientKey{{ID: "k1", Key: signer.Public()}} },
		config: func(c *Config) {
			c.ClientSecret = ""
			c.ClientKeys = []ClientKey{{ID: "k1", Signer: signer}}
			c.Profile = FAPI2
		},
	})
	if page := jsonBody(t, h.login("/private")); page["sub"] != "alice" {
		t.Fatalf("FAPI 2.0 login: %v", page)
	}
	// A provider that signs ID tokens with RS256 only is refused at New.
	rs256 := oidctest.NewUnstartedServer()
	rs256.EditMetadata = func(m map[string]any) { m["id_token_signing_alg_values_supported"] = []string{"RS256"} }
	rs256.StartTLS()
	defer rs256.Close()
	cfg := h.cfg
	cfg.Issuer, cfg.HTTPClient = rs256.Issuer, rs256.Client()
	if _, err := New(t.Context(), cfg); err == nil || !strings.Contains(err.Error(), "none of which FAPI 2.0 allows") {
		t.Fatalf("New with an RS256-only provider under FAPI2: %v", err)
	}
}

// Check knows private_key_jwt: the method and the key's algorithm are what it looks for.
func TestCheckPrivateKeyJWT(t *testing.T) {
	h := keyHarness(t, "ES256")
	report := Check(t.Context(), h.cfg)
	if err := report.Err(); err != nil {
		t.Fatalf("Check of a private_key_jwt client: %v", err)
	}
	for _, r := range report.Results {
		if r.Check == "client_auth" && !strings.Contains(r.Message, "private_key_jwt with ES256") {
			t.Errorf("client_auth: %+v", r)
		}
	}
}

// Check says when the provider lacks what the configuration demands, rather than calling its
// discovery document broken.
func TestCheckDPoPUnsupported(t *testing.T) {
	h := newHarness(t, harnessOptions{op: func(s *oidctest.Server) {
		s.EditMetadata = func(m map[string]any) { delete(m, "dpop_signing_alg_values_supported") }
	}})
	cfg := h.cfg
	cfg.DPoP = true
	for _, r := range Check(t.Context(), cfg).Results {
		if r.Check == "discovery" && (r.Status != CheckFail || !strings.Contains(r.Message, "Config.DPoP") || strings.Contains(r.Hint, "broken")) {
			t.Fatalf("discovery: %+v", r)
		}
	}
}
