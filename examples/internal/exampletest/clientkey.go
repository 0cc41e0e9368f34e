package exampletest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/examples/internal/browser"
)

// NewClientKey returns a new private key for alg: ES256 (EC P-256), PS256 or RS256 (RSA 2048)
// or EdDSA (Ed25519).
func NewClientKey(t *testing.T, alg string) crypto.Signer {
	t.Helper()
	var (
		key crypto.Signer
		err error
	)
	switch alg {
	case "ES256":
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "PS256", "RS256":
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	case "EdDSA":
		_, key, err = ed25519.GenerateKey(rand.Reader)
	default:
		t.Fatalf("no key for %s", alg)
	}
	if err != nil {
		t.Fatal(err)
	}
	return key
}

// WriteClientKey writes key as a PKCS#8 PEM file, as openssl genpkey does, for
// PARLOGIN_CLIENT_KEY, and returns its path.
func WriteClientKey(t *testing.T, key crypto.Signer) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "client-key.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// JWTHeader returns the decoded header of a compact JWS.
func JWTHeader(t *testing.T, jws string) map[string]any {
	t.Helper()
	encoded, _, _ := strings.Cut(jws, ".")
	raw, err := base64.RawURLEncoding.DecodeString(encoded)
	var header map[string]any
	if err != nil || json.Unmarshal(raw, &header) != nil {
		t.Fatalf("not a JWS: %.20q…", jws)
	}
	return header
}

// SenderConstrained checks the settings of private_key_jwt (PARLOGIN_CLIENT_KEY), DPoP
// (PARLOGIN_DPOP) and FAPI 2.0 (PARLOGIN_PROFILE=fapi2) against the embedded provider, which
// registers the example for them: the client's assertions are signed with its key, named by
// its ID, whose public part /auth/jwks serves; with DPoP, the pushed request carries dpop_jkt
// and GET /api/token shows a DPoP token, refreshed once it has expired.
func SenderConstrained(t *testing.T, app App) {
	tests := []struct {
		name     string
		alg      string // of the client key; none: the client secret
		env      map[string]string
		dpop     bool
		keyID    string // the key's ID, when PARLOGIN_CLIENT_KEY_ID sets it
		fapi2Alg bool
	}{
		{name: "private_key_jwt ES256", alg: "ES256"},
		{name: "private_key_jwt PS256 with a key ID", alg: "PS256", env: map[string]string{"PARLOGIN_CLIENT_KEY_ID": "key-2026"}, keyID: "key-2026"},
		{name: "DPoP with the secret", env: map[string]string{"PARLOGIN_DPOP": "1"}, dpop: true},
		{name: "FAPI 2.0 EdDSA", alg: "EdDSA", env: map[string]string{"PARLOGIN_PROFILE": "fapi2"}, dpop: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ahead atomic.Int64 // how far the clocks of the app and the provider are moved ahead
			clock := func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
			env := map[string]string{
				"PARLOGIN_SAVE_TOKENS": "1",
				"PARLOGIN_SCOPES":      "profile email offline_access", // a refresh token
			}
			for k, v := range tc.env {
				env[k] = v
			}
			var key crypto.Signer
			if tc.alg != "" {
				key = NewClientKey(t, tc.alg)
				env["PARLOGIN_CLIENT_KEY"] = WriteClientKey(t, key)
			}
			srv := Start(t, app, env, func(c *parlogin.Config) { c.Now = clock })
			op := srv.Env.Provider
			op.SetClock(clock)
			b := browser.NewT(t, nil)
			login(t, b, srv.URL+"/private", "bob")

			par := op.Requests(parlogin.EndpointPAR)[0]
			header := JWTHeader(t, par.Get("client_assertion"))
			jwks := b.Fetch(srv.URL + "/auth/jwks")
			if key == nil {
				if alg := header["alg"]; alg != "HS256" || jwks.Status != http.StatusNotFound {
					t.Errorf("assertion alg %v, /auth/jwks %d: want HS256 with the secret, and no key set", alg, jwks.Status)
				}
			} else {
				kid, _ := header["kid"].(string)
				if header["alg"] != tc.alg || kid == "" || tc.keyID != "" && kid != tc.keyID || srv.Env.ClientSecret != "" {
					t.Errorf("assertion header %v, secret %q: want alg %s, kid %q, and no secret", header, srv.Env.ClientSecret, tc.alg, tc.keyID)
				}
				var set struct{ Keys []map[string]any }
				if err := json.Unmarshal([]byte(jwks.Body), &set); err != nil || len(set.Keys) != 1 || set.Keys[0]["kid"] != kid || set.Keys[0]["d"] != nil {
					t.Errorf("/auth/jwks = %d %s: want the one public key, with kid %s", jwks.Status, jwks.Body, kid)
				}
			}
			if jkt := par.Get("dpop_jkt"); (jkt != "") != tc.dpop {
				t.Errorf("pushed dpop_jkt %q with DPoP %v", jkt, tc.dpop)
			}

			typ := "Bearer"
			if tc.dpop {
				typ = "DPoP"
			}
			first := fetchTokenOfType(t, b, srv.URL, typ)
			ahead.Store(int64(time.Until(first.Expiry) + time.Minute))
			if second := fetchTokenOfType(t, b, srv.URL, typ); !second.Expiry.After(first.Expiry) {
				t.Fatalf("after the access token expired, /api/token has expiry %v, want a refreshed token's, after %v", second.Expiry, first.Expiry)
			}
			refresh := op.Requests(parlogin.EndpointToken)
			if last := refresh[len(refresh)-1]; last.Get("grant_type") != "refresh_token" {
				t.Fatalf("the last token request %v is not a refresh", last)
			}
		})
	}
}
