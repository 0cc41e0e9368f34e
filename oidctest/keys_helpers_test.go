package oidctest_test

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
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/parlogin/parlogin/oidctest"
)

// Keys of test clients, generated once per test binary (RSA keys take a while).
var (
	rsaKey  = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	rsaKey2 = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	ecKey   = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC() })
	ecKey2  = sync.OnceValue(func() *ecdsa.PrivateKey { return mustEC() })
	edKey   = sync.OnceValue(func() ed25519.PrivateKey { _, k, _ := ed25519.GenerateKey(rand.Reader); return k })
	rsa1024 = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(1024) })
	p384Key = sync.OnceValue(func() *ecdsa.PrivateKey { k, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader); return k })
)

func mustRSA(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

func mustEC() *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return k
}

// testKey is a private key of a test client, the alg it signs with and the kid it names.
type testKey struct {
	alg string
	kid string // "" for no kid header
	key crypto.Signer
}

// clientSigners holds the testKey that env.assertion signs with, by client ID.
var clientSigners sync.Map

// sign signs claims with k, with its kid in the header.
func (k testKey) sign(t *testing.T, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.GetSigningMethod(k.alg), claims)
	if k.kid != "" {
		tok.Header["kid"] = k.kid
	}
	s, err := tok.SignedString(k.key)
	if err != nil {
		t.Fatalf("signing a JWT with %s: %v", k.alg, err)
	}
	return s
}

// clientKey returns the registration of the public key of k.
func (k testKey) clientKey() oidctest.ClientKey {
	return oidctest.ClientKey{ID: k.kid, Key: k.key.Public()}
}

// addKeyClient registers a private_key_jwt client whose assertions env signs with k, after
// edit changes the registration.
func (e *env) addKeyClient(k testKey, edit func(*oidctest.Client)) oidctest.Client {
	e.t.Helper()
	c := oidctest.Client{AuthMethod: "private_key_jwt", Keys: []oidctest.ClientKey{k.clientKey()}}
	if edit != nil {
		edit(&c)
	}
	c = e.addClient(c)
	clientSigners.Store(c.ID, k)
	return c
}

// jwksServer serves a JWK Set of the public keys of keys over TLS, and returns it with a
// function that replaces the set.
func jwksServer(t *testing.T, keys ...testKey) (*httptest.Server, func(body []byte, status int)) {
	t.Helper()
	var mu sync.Mutex
	body, status := jwksOf(t, keys...), http.StatusOK
	ts := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(ts.Close)
	return ts, func(b []byte, s int) {
		mu.Lock()
		body, status = b, s
		mu.Unlock()
	}
}

// jwksOf returns the JWK Set of the public keys of keys.
func jwksOf(t *testing.T, keys ...testKey) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.key.Public(), KeyID: k.kid, Algorithm: k.alg, Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// verifyJWT checks that raw is signed with alg by a key of the provider's JWKS, and returns its
// claims and header.
func (e *env) verifyJWT(raw, alg string) (map[string]any, jose.Header) {
	e.t.Helper()
	status, body := e.get(e.endpoint("jwks_uri"))
	if status != http.StatusOK {
		e.t.Fatalf("jwks: status %d", status)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal(body, &set); err != nil {
		e.t.Fatalf("jwks: %v", err)
	}
	sig, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
	if err != nil {
		e.t.Fatalf("a JWT signed with %s: %v", alg, err)
	}
	h := sig.Signatures[0].Header
	keys := set.Key(h.KeyID)
	if len(keys) != 1 || keys[0].Algorithm != alg || keys[0].Use != "sig" {
		e.t.Fatalf("JWKS has %d keys %s, want one for %s with use sig", len(keys), h.KeyID, alg)
	}
	payload, err := sig.Verify(keys[0].Key)
	if err != nil {
		e.t.Fatalf("the JWT does not verify with key %s: %v", h.KeyID, err)
	}
	var claims map[string]any
	if err := json.Unmarshal(payload, &claims); err != nil {
		e.t.Fatal(err)
	}
	return claims, h
}
