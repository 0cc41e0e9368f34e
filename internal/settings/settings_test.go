package settings

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parlogin/parlogin"
)

func read(t *testing.T, env map[string]string) (*Settings, error) {
	t.Helper()
	return Read(func(name string) string { return env[name] })
}

func TestReadDefaults(t *testing.T) {
	s, err := read(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr != "127.0.0.1:8080" || s.RedirectURL != "http://127.0.0.1:8080/auth/callback" || !slices.Equal(s.Scopes, []string{"profile", "email"}) {
		t.Errorf("Addr %q, RedirectURL %q, Scopes %q", s.Addr, s.RedirectURL, s.Scopes)
	}
	if s.SaveTokens || s.DPoP || s.Profile != 0 || s.ClientKeys != nil || s.RedisAddr != "" {
		t.Errorf("defaults: %+v", s)
	}
	if got := s.Missing(); !slices.Equal(got, []string{"PARLOGIN_ISSUER", "PARLOGIN_CLIENT_ID", "PARLOGIN_CLIENT_SECRET"}) {
		t.Errorf("Missing() = %q", got)
	}
}

func TestReadValues(t *testing.T) {
	s, err := read(t, map[string]string{
		"PARLOGIN_ISSUER":        "https://op.example",
		"PARLOGIN_CLIENT_ID":     "app",
		"PARLOGIN_CLIENT_SECRET": "secret",
		"PARLOGIN_ADDR":          ":9000",
		"PARLOGIN_AUTH_ALG":      "HS512",
		"PARLOGIN_RESPONSE_MODE": "form_post",
		"PARLOGIN_SCOPES":        "openid  groups",
		"PARLOGIN_SAVE_TOKENS":   "1",
		"PARLOGIN_DPOP":          "1",
		"PARLOGIN_REDIS_ADDR":    "/run/redis.sock",
	})
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{
		Addr: ":9000", Issuer: "https://op.example", ClientID: "app", ClientSecret: "secret",
		RedirectURL: "http://127.0.0.1:9000/auth/callback", SigningAlg: "HS512", ResponseMode: "form_post",
		Scopes: []string{"openid", "groups"}, SaveTokens: true, DPoP: true, RedisAddr: "/run/redis.sock",
	}
	if got := *s; got.Addr != want.Addr || got.Issuer != want.Issuer || got.ClientID != want.ClientID ||
		got.ClientSecret != want.ClientSecret || got.RedirectURL != want.RedirectURL || got.SigningAlg != want.SigningAlg ||
		got.ResponseMode != want.ResponseMode || !slices.Equal(got.Scopes, want.Scopes) || got.SaveTokens != want.SaveTokens ||
		got.DPoP != want.DPoP || got.RedisAddr != want.RedisAddr {
		t.Errorf("Read = %+v\nwant %+v", got, want)
	}
	if got := s.Missing(); got != nil {
		t.Errorf("Missing() = %q", got)
	}
	// The redirect URL, when set, is taken as it is, whatever the listen address.
	s, err = read(t, map[string]string{"PARLOGIN_ADDR": "bad", "PARLOGIN_REDIRECT_URL": "https://app.example/cb"})
	if err != nil || s.RedirectURL != "https://app.example/cb" {
		t.Errorf("PARLOGIN_REDIRECT_URL: %v %v", s, err)
	}
}

// writeKey writes key as a PEM block of type typ, DER-encoded by marshal, and returns its path.
func writeKey(t *testing.T, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "client.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func pkcs8(t *testing.T, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestReadClientKey(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	sec1, _ := x509.MarshalECPrivateKey(ec)
	tests := []struct {
		name   string
		typ    string
		der    []byte
		public crypto.PublicKey
	}{
		{"EC P-256, PKCS#8", "PRIVATE KEY", pkcs8(t, ec), ec.Public()},
		{"EC P-256, SEC 1", "EC PRIVATE KEY", sec1, ec.Public()},
		{"RSA, PKCS#8", "PRIVATE KEY", pkcs8(t, rsaKey), rsaKey.Public()},
		{"RSA, PKCS#1", "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey), rsaKey.Public()},
		{"Ed25519, PKCS#8", "PRIVATE KEY", pkcs8(t, edKey), edKey.Public()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := writeKey(t, tc.typ, tc.der)
			s, err := read(t, map[string]string{"PARLOGIN_CLIENT_KEY": path})
			if err != nil {
				t.Fatal(err)
			}
			if len(s.ClientKeys) != 1 || s.ClientKeyFile != path {
				t.Fatalf("ClientKeys %v, ClientKeyFile %q", s.ClientKeys, s.ClientKeyFile)
			}
			k := s.ClientKeys[0]
			if pub, ok := k.Signer.Public().(interface{ Equal(crypto.PublicKey) bool }); !ok || !pub.Equal(tc.public) {
				t.Errorf("the key read is not the key written")
			}
			if k.ID == "" || k.Algorithm != "" {
				t.Errorf("ID %q, Algorithm %q: want a thumbprint, and the key type's default algorithm", k.ID, k.Algorithm)
			}
			if got := s.Missing(); !slices.Equal(got, []string{"PARLOGIN_ISSUER", "PARLOGIN_CLIENT_ID"}) {
				t.Errorf("with a client key, Missing() = %q: the secret is not needed", got)
			}
			named, err := read(t, map[string]string{"PARLOGIN_CLIENT_KEY": path, "PARLOGIN_CLIENT_KEY_ID": "key-2026"})
			if err != nil || named.ClientKeys[0].ID != "key-2026" {
				t.Errorf("PARLOGIN_CLIENT_KEY_ID: %v %v", named, err)
			}
		})
	}
}

// The default key ID is the RFC 7638 thumbprint: SHA-256 of the JWK's required members, in
// lexicographic order, without white space.
func TestClientKeyThumbprint(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	pub, _ := ec.PublicKey.Bytes()
	b64 := base64.RawURLEncoding.EncodeToString
	canonical := `{"crv":"P-256","kty":"EC","x":"` + b64(pub[1:33]) + `","y":"` + b64(pub[33:]) + `"}`
	sum := sha256.Sum256([]byte(canonical))
	k, err := ReadClientKey(writeKey(t, "PRIVATE KEY", pkcs8(t, ec)), "")
	if err != nil {
		t.Fatal(err)
	}
	if want := b64(sum[:]); k.ID != want {
		t.Errorf("ID %q, want the thumbprint %q", k.ID, want)
	}
}

func TestReadErrors(t *testing.T) {
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsa1024, _ := rsa.GenerateKey(rand.Reader, 1024) //nolint:gosec // G403: the test of a refusal
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good := writeKey(t, "PRIVATE KEY", pkcs8(t, ec))
	notPEM := filepath.Join(t.TempDir(), "key.txt")
	_ = os.WriteFile(notPEM, []byte("not a key"), 0o600)
	tests := []struct {
		name string
		env  map[string]string
		want string // in the error
	}{
		{"listen address without port", map[string]string{"PARLOGIN_ADDR": "localhost"}, `PARLOGIN_ADDR "localhost" is not host:port`},
		{"key file missing", map[string]string{"PARLOGIN_CLIENT_KEY": "/nonexistent/key.pem"}, "PARLOGIN_CLIENT_KEY /nonexistent/key.pem: no such file or directory"},
		{"key file not PEM", map[string]string{"PARLOGIN_CLIENT_KEY": notPEM}, "no PEM block"},
		{"certificate, not a key", map[string]string{"PARLOGIN_CLIENT_KEY": writeKey(t, "CERTIFICATE", []byte{1})}, `"CERTIFICATE", not a private key`},
		{"malformed key", map[string]string{"PARLOGIN_CLIENT_KEY": writeKey(t, "PRIVATE KEY", []byte{1, 2, 3})}, "malformed PRIVATE KEY"},
		{"EC key on P-384", map[string]string{"PARLOGIN_CLIENT_KEY": writeKey(t, "PRIVATE KEY", pkcs8(t, ec384))}, "an EC key on P-384: want P-256"},
		{"RSA key of 1024 bits", map[string]string{"PARLOGIN_CLIENT_KEY": writeKey(t, "PRIVATE KEY", pkcs8(t, rsa1024))}, "an RSA key of 1024 bits"},
		{"key and secret", map[string]string{"PARLOGIN_CLIENT_KEY": good, "PARLOGIN_CLIENT_SECRET": "s"}, "PARLOGIN_CLIENT_KEY and PARLOGIN_CLIENT_SECRET are both set"},
		{"key ID without key", map[string]string{"PARLOGIN_CLIENT_KEY_ID": "k1"}, "PARLOGIN_CLIENT_KEY_ID is set without PARLOGIN_CLIENT_KEY"},
		{"FAPI 2.0 without key", map[string]string{"PARLOGIN_PROFILE": "fapi2", "PARLOGIN_CLIENT_SECRET": "s"}, "PARLOGIN_PROFILE=fapi2 needs PARLOGIN_CLIENT_KEY"},
		{"unknown profile", map[string]string{"PARLOGIN_PROFILE": "fapi1"}, `PARLOGIN_PROFILE "fapi1" is not fapi2`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if s, err := read(t, tc.env); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Read: %+v, %v; want an error containing %q", s, err, tc.want)
			}
		})
	}
}

func TestReadProfile(t *testing.T) {
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, value := range []string{"fapi2", "FAPI2"} {
		s, err := read(t, map[string]string{"PARLOGIN_PROFILE": value, "PARLOGIN_CLIENT_KEY": writeKey(t, "PRIVATE KEY", pkcs8(t, ec))})
		if err != nil || s.Profile != parlogin.FAPI2 || !s.DPoP {
			t.Errorf("PARLOGIN_PROFILE=%s: %+v, %v; want FAPI2 and DPoP", value, s, err)
		}
	}
}

// TestCookieKeys: PARLOGIN_SESSION_KEY, hex or base64, makes two different 32-byte keys, derived
// with the labels that sessions made before this package depend on; a random one is used
// without it.
func TestCookieKeys(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 40)
	keys := func(encoded string) (hashKey, blockKey []byte, random bool) {
		t.Helper()
		hashKey, blockKey, random, err := (&Settings{SessionKey: encoded}).CookieKeys()
		if err != nil {
			t.Fatalf("CookieKeys(%q): %v", encoded, err)
		}
		return hashKey, blockKey, random
	}
	hexHash, hexBlock, random := keys(hex.EncodeToString(key))
	if len(hexHash) != 32 || len(hexBlock) != 32 || bytes.Equal(hexHash, hexBlock) || random {
		t.Errorf("HashKey %x, BlockKey %x, random %v: want two different keys of 32 bytes", hexHash, hexBlock, random)
	}
	if b64Hash, b64Block, _ := keys(base64.StdEncoding.EncodeToString(key)); !bytes.Equal(hexHash, b64Hash) || !bytes.Equal(hexBlock, b64Block) {
		t.Error("the same key, hex or base64 encoded, makes different keys")
	}
	// The derivation is a compatibility promise: the keys of 40 bytes of 7.
	if got := hex.EncodeToString(hexHash[:8]) + " " + hex.EncodeToString(hexBlock[:8]); got != cookieKeysOf7 {
		t.Errorf("derived keys begin %s, want %s", got, cookieKeysOf7)
	}
	random1, _, r1 := keys("")
	random2, _, r2 := keys("")
	if !r1 || !r2 || bytes.Equal(random1, random2) {
		t.Error("without PARLOGIN_SESSION_KEY: want random keys, another at each call")
	}
	for _, bad := range []string{strings.Repeat("ab", 31), strings.Repeat("!", 64)} {
		if _, _, _, err := (&Settings{SessionKey: bad}).CookieKeys(); err == nil || !strings.Contains(err.Error(), "at least 32 bytes, hex or base64") {
			t.Errorf("PARLOGIN_SESSION_KEY %q: %v", bad, err)
		}
	}
}

// cookieKeysOf7 are the first 8 bytes of the keys derived from 40 bytes of 7, computed apart
// (HKDF-SHA256, RFC 5869, in Python's hmac) with the labels "parlogin example cookie mac" and
// "parlogin example cookie encryption".
const cookieKeysOf7 = "e0737177b94441d1 0bb450f37431e218"
