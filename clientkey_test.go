package parlogin

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

func testKeys(t testing.TB) map[string]crypto.Signer {
	t.Helper()
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, ed, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]crypto.Signer{"ES256": ec, "PS256": rk, "RS256": rk, "EdDSA": ed}
}

// Assertions signed by a crypto.Signer verify with the public key, for each algorithm, and name
// the key.
func TestSignJWS(t *testing.T) {
	for alg, signer := range testKeys(t) {
		t.Run(alg, func(t *testing.T) {
			k := ClientKey{ID: "k1", Signer: signer, Algorithm: alg}
			if err := k.check(); err != nil {
				t.Fatal(err)
			}
			raw, err := signingKey{key: &k}.sign(nil, "", map[string]any{"iss": "client"})
			if err != nil {
				t.Fatal(err)
			}
			jws, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatal(err)
			}
			payload, err := jws.Verify(signer.Public())
			if err != nil {
				t.Fatalf("signature does not verify: %v", err)
			}
			if h := jws.Signatures[0].Header; h.KeyID != "k1" || h.Algorithm != alg || !strings.Contains(string(payload), `"iss":"client"`) {
				t.Fatalf("header %+v, payload %s", h, payload)
			}
		})
	}
}

func TestClientKeyCheck(t *testing.T) {
	keys := testKeys(t)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	tests := []struct {
		key  ClientKey
		want string // "" for a good key
	}{
		{ClientKey{ID: "a", Signer: keys["ES256"]}, ""},
		{ClientKey{ID: "a", Signer: keys["PS256"]}, ""},
		{ClientKey{ID: "a", Signer: keys["EdDSA"]}, ""},
		{ClientKey{ID: "a", Signer: keys["RS256"], Algorithm: "RS256"}, ""},
		{ClientKey{Signer: keys["ES256"]}, "needs an ID"},
		{ClientKey{ID: "a"}, "no Signer"},
		{ClientKey{ID: "a", Signer: small}, "2048 bits"},
		{ClientKey{ID: "a", Signer: p384}, "P-256"},
		{ClientKey{ID: "a", Signer: keys["ES256"], Algorithm: "PS256"}, "P-256, for ES256"},
	}
	for _, tc := range tests {
		err := tc.key.check()
		if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v.check() = %v, want %q", tc.key, err, tc.want)
		}
	}
}

// The JWKS publishes every client key, public parts only.
func TestJWKS(t *testing.T) {
	keys := testKeys(t)
	m := &Middleware{signer: newAssertionSigner(Config{ClientKeys: []ClientKey{
		{ID: "new", Signer: keys["ES256"]}, {ID: "old", Signer: keys["PS256"]},
	}}, nil)}
	rec := httptest.NewRecorder()
	m.JWKS(rec, httptest.NewRequest(http.MethodGet, "/auth/jwks", nil))
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(rec.Body.Bytes(), &set); err != nil || rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if len(set.Keys) != 2 || set.Keys[0].KeyID != "new" || set.Keys[1].KeyID != "old" || set.Keys[1].Algorithm != "PS256" {
		t.Fatalf("keys %+v", set.Keys)
	}
	for _, k := range set.Keys {
		if !k.IsPublic() {
			t.Fatalf("a private key in the JWKS: %s", rec.Body)
		}
	}
	if strings.Contains(rec.Body.String(), `"d"`) {
		t.Fatalf("private members in the JWKS: %s", rec.Body)
	}
	secret := &Middleware{signer: newAssertionSigner(Config{ClientSecret: testSecret}, nil)}
	rec = httptest.NewRecorder()
	secret.JWKS(rec, httptest.NewRequest(http.MethodGet, "/auth/jwks", nil))
	if rec.Code != http.StatusNotFound {
		t.Fatalf("JWKS of a client with a secret = %d, want 404", rec.Code)
	}
}

func TestFAPI2Config(t *testing.T) {
	keys := testKeys(t)
	base := func() Config {
		c := validConfig()
		c.ClientSecret = ""
		c.ClientKeys = []ClientKey{{ID: "k", Signer: keys["PS256"]}}
		c.Profile = FAPI2
		return c
	}
	tests := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"valid", func(*Config) {}, ""},
		{"a client secret", func(c *Config) { c.ClientKeys = nil; c.ClientSecret = testSecret }, "ClientSecret (client_secret_jwt) is not allowed"},
		{"RS256", func(c *Config) { c.ClientKeys[0].Algorithm = "RS256" }, "RS256, which FAPI 2.0 forbids"},
		{"endpoint audience", func(c *Config) { c.AssertionAudience = AudienceEndpoint }, "AssertionAudience must be AudienceIssuer"},
		{"RS256 ID tokens", func(c *Config) { c.IDTokenSigningAlgs = []string{"RS256"} }, "IDTokenSigningAlgs may hold only"},
		{"http redirect", func(c *Config) { c.RedirectURL = "http://app.example/auth/callback" }, "RedirectURL must be an https URL"},
		{"http issuer", func(c *Config) { c.Issuer = "http://op.example/as" }, "Issuer must be an https URL"},
		{"http on loopback", func(c *Config) {
			c.Issuer, c.RedirectURL = "http://127.0.0.1:9000", "http://localhost:8080/auth/callback"
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.edit(&c)
			got, err := c.withDefaults()
			if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("withDefaults() = %v, want %q", err, tc.want)
			}
			if err == nil && !got.DPoP {
				t.Fatal("FAPI2 did not turn DPoP on")
			}
		})
	}
	c := validConfig()
	c.ClientKeys = []ClientKey{{ID: "k", Signer: keys["ES256"]}}
	if _, err := c.withDefaults(); err == nil || !strings.Contains(err.Error(), "both set") {
		t.Fatalf("a secret and keys: %v", err)
	}
}
