package parlogin

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"slices"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// ClientKey is a private key of the client, for private_key_jwt client authentication (RFC 7523,
// OpenID Connect Core §9; PingOne's PRIVATE_KEY_JWT): see [Config.ClientKeys].
type ClientKey struct {
	// ID is the key's identifier (kid), sent in the header of every assertion and published with
	// the key; required, unique among the client's keys.
	ID string
	// Signer signs: an *ecdsa.PrivateKey on P-256, an *rsa.PrivateKey of 2048 bits or more, an
	// ed25519.PrivateKey, or a key that never leaves a KMS or an HSM, behind crypto.Signer.
	Signer crypto.Signer
	// Algorithm is the JWS algorithm: by default ES256 for a P-256 key, PS256 for an RSA key and
	// EdDSA for an Ed25519 key; RS256 for an RSA key at providers that need it (not with FAPI 2.0).
	Algorithm string
}

// algorithm returns k's JWS algorithm, its default by key type when not set.
func (k ClientKey) algorithm() string {
	if k.Algorithm != "" {
		return k.Algorithm
	}
	switch k.Signer.Public().(type) {
	case *ecdsa.PublicKey:
		return "ES256"
	case *rsa.PublicKey:
		return "PS256"
	case ed25519.PublicKey:
		return "EdDSA"
	}
	return ""
}

// check reports what is wrong with k, if anything.
func (k ClientKey) check() error {
	if k.ID == "" {
		return errors.New("a ClientKey needs an ID (its kid)")
	}
	if k.Signer == nil {
		return fmt.Errorf("ClientKey %q has no Signer", k.ID)
	}
	alg := k.algorithm()
	switch pub := k.Signer.Public().(type) {
	case *ecdsa.PublicKey:
		if pub.Curve != elliptic.P256() || alg != "ES256" {
			return fmt.Errorf("ClientKey %q: an ECDSA key must be on P-256, for ES256", k.ID)
		}
	case *rsa.PublicKey:
		if pub.N.BitLen() < 2048 || (alg != "PS256" && alg != "RS256") {
			return fmt.Errorf("ClientKey %q: an RSA key must have 2048 bits or more, for PS256 or RS256", k.ID)
		}
	case ed25519.PublicKey:
		if alg != "EdDSA" {
			return fmt.Errorf("ClientKey %q: an Ed25519 key is for EdDSA", k.ID)
		}
	default:
		return fmt.Errorf("ClientKey %q: keys of type %T are not supported", k.ID, pub)
	}
	return nil
}

// signingKey signs the client's assertions and request objects: a secret (client_secret_jwt) or a
// private key (private_key_jwt).
type signingKey struct {
	secret []byte
	key    *ClientKey
}

// sign returns claims as a compact JWS signed with k, with typ in its header when not empty.
func (k signingKey) sign(method jwt.SigningMethod, typ string, claims map[string]any) (string, error) {
	if k.key == nil {
		t := jwt.NewWithClaims(method, jwt.MapClaims(claims))
		if typ != "" {
			t.Header["typ"] = typ
		}
		return t.SignedString(k.secret)
	}
	header := map[string]any{"alg": k.key.algorithm(), "kid": k.key.ID}
	if typ != "" {
		header["typ"] = typ
	}
	return signJWS(header, claims, k.key.Signer)
}

// signJWS signs header and claims as a compact JWS with signer (RFC 7515), whatever holds the key:
// a crypto.Signer is all a KMS or an HSM offers, which golang-jwt's methods do not take.
func signJWS(header, claims map[string]any, signer crypto.Signer) (string, error) {
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	var sig []byte
	switch header["alg"] {
	case "EdDSA":
		sig, err = signer.Sign(rand.Reader, []byte(input), crypto.Hash(0))
	case "ES256":
		digest := sha256.Sum256([]byte(input))
		var der []byte
		if der, err = signer.Sign(rand.Reader, digest[:], crypto.SHA256); err == nil {
			sig, err = rawECDSA(der, 32)
		}
	case "PS256":
		digest := sha256.Sum256([]byte(input))
		sig, err = signer.Sign(rand.Reader, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
	case "RS256":
		digest := sha256.Sum256([]byte(input))
		sig, err = signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	default:
		return "", fmt.Errorf("parlogin: unsupported algorithm %v", header["alg"])
	}
	if err != nil {
		return "", fmt.Errorf("parlogin: signing: %w", err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// rawECDSA turns an ASN.1 ECDSA signature, as crypto.Signer returns it, into JWS's r || s, each of
// size bytes (RFC 7518 §3.4).
func rawECDSA(der []byte, size int) ([]byte, error) {
	var rs struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(der, &rs); err != nil || len(rest) != 0 {
		return nil, errors.New("malformed ECDSA signature")
	}
	out := make([]byte, 2*size)
	rs.R.FillBytes(out[:size])
	rs.S.FillBytes(out[size:])
	return out, nil
}

// JWKS serves the public keys of Config.ClientKeys as a JSON Web Key Set (RFC 7517), for providers
// that fetch the client's keys from its jwks_uri: register its URL, such as
// https://app.example.com/auth/jwks ([Middleware.Handler] serves it there). With no ClientKeys it
// answers 404. Rotate keys with overlap ([Middleware.SetClientKeys]): publish the new key before it
// signs, and keep the old one published until the provider has seen the new one.
func (m *Middleware) JWKS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	keys := m.signer.published()
	if len(keys) == 0 {
		http.NotFound(w, r)
		return
	}
	set := jose.JSONWebKeySet{}
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Signer.Public(), KeyID: k.ID, Algorithm: k.algorithm(), Use: "sig"})
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	// Short: a provider sees a rotation within minutes.
	w.Header().Set("Cache-Control", "public, max-age=300")
	_ = json.NewEncoder(w).Encode(set)
}

// SetClientKeys replaces the client's private keys at run time (see [Config.ClientKeys]): the first
// signs from now on, and all are published by [Middleware.JWKS]. When the provider refuses an
// assertion signed with the first (invalid_client), the call is made once more with the second, so
// that a rotation loses no login while the provider still knows only the previous key: call
// SetClientKeys(newKey, oldKey) once the new key is published, then SetClientKeys(newKey) once
// the provider uses it. It fails, changing nothing, for a Middleware configured with a client
// secret, or keys that Config.ClientKeys would refuse.
func (m *Middleware) SetClientKeys(keys ...ClientKey) error {
	if len(m.cfg.ClientKeys) == 0 {
		return errors.New("parlogin: SetClientKeys: the client authenticates with a secret (client_secret_jwt): see SetClientSecret")
	}
	if err := checkClientKeys(keys, m.cfg.Profile); err != nil {
		return fmt.Errorf("parlogin: SetClientKeys: %w", err)
	}
	m.signer.setKeys(slices.Clone(keys))
	return nil
}

// checkClientKeys reports what is wrong with keys, for profile.
func checkClientKeys(keys []ClientKey, profile Profile) error {
	if len(keys) == 0 {
		return errors.New("no key")
	}
	seen := map[string]bool{}
	for _, k := range keys {
		if err := k.check(); err != nil {
			return err
		}
		if seen[k.ID] {
			return fmt.Errorf("two ClientKeys have the ID %q", k.ID)
		}
		seen[k.ID] = true
		if profile == FAPI2 && k.algorithm() == "RS256" {
			return fmt.Errorf("ClientKey %q signs with RS256, which FAPI 2.0 forbids: use PS256, ES256 or EdDSA", k.ID)
		}
	}
	return nil
}
