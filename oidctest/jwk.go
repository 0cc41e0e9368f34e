package oidctest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"slices"
)

// JSON Web Keys (RFC 7517; RFC 7518 section 6 for RSA and EC, RFC 8037 for OKP): the public keys
// the provider reads (clients' keys, the keys of DPoP proofs) and the ones it publishes.

// minRSABits is the smallest RSA modulus accepted: RFC 7518 section 3.3 and 3.5 ("A key of size
// 2048 bits or larger MUST be used"), and FAPI 2.0 Security Profile section 5.4.1.
const minRSABits = 2048

// publicJWK is a validated public key with its JWK parameters.
type publicJWK struct {
	kid string
	alg string // "" when the JWK names none
	use string // "" when the JWK names none
	key crypto.PublicKey
}

// privateJWKMembers are the members that only private or symmetric keys have (RFC 7518
// sections 6.2.2, 6.3.2 and 6.4.1; RFC 8037 section 2).
var privateJWKMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"}

// b64Strict decodes unpadded base64url and refuses non-zero trailing bits, so that each value has
// one encoding.
var b64Strict = base64.RawURLEncoding.Strict()

// parseJWK reads a public signing key from the members of a JWK: RSA keys of at least 2048 bits,
// EC keys on P-256, and OKP keys on Ed25519. Members that only private keys have are refused,
// and so are encodings that are not the canonical ones of RFC 7518 (an RSA modulus with leading
// zero octets, EC coordinates shorter than the curve's size), on which the RFC 7638 thumbprint of
// the key depends.
func parseJWK(m map[string]any) (publicJWK, error) {
	for _, name := range privateJWKMembers {
		if _, ok := m[name]; ok {
			return publicJWK{}, fmt.Errorf("has the private key member %s: send the public key only", name)
		}
	}
	var k publicJWK
	var err error
	member := func(name string) string {
		if err != nil {
			return ""
		}
		var v string
		v, err = stringClaim(m, name)
		if err != nil {
			err = fmt.Errorf("has a member %s that is not a string", name)
		}
		return v
	}
	kty := member("kty")
	k.kid, k.alg, k.use = member("kid"), member("alg"), member("use")
	if err != nil {
		return publicJWK{}, err
	}
	switch kty {
	case "RSA":
		k.key, err = parseRSAJWK(member("n"), member("e"))
	case "EC":
		k.key, err = parseECJWK(member("crv"), member("x"), member("y"))
	case "OKP":
		k.key, err = parseOKPJWK(member("crv"), member("x"))
	case "":
		err = errors.New("has no kty")
	default:
		err = fmt.Errorf("has kty %s; only RSA, EC and OKP keys are accepted", printable(kty))
	}
	if err != nil {
		return publicJWK{}, err
	}
	return k, nil
}

// decodeJWKMember decodes the base64url member name, which must be present.
func decodeJWKMember(name, v string) ([]byte, error) {
	if v == "" {
		return nil, fmt.Errorf("has no %s", name)
	}
	b, err := b64Strict.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("has a member %s that is not unpadded base64url", name)
	}
	return b, nil
}

func parseRSAJWK(n, e string) (crypto.PublicKey, error) {
	nb, err := decodeJWKMember("n", n)
	if err != nil {
		return nil, err
	}
	eb, err := decodeJWKMember("e", e)
	if err != nil {
		return nil, err
	}
	if nb[0] == 0 || eb[0] == 0 {
		return nil, errors.New("has n or e with leading zero octets (RFC 7518 section 6.3.1)")
	}
	if len(eb) > 4 {
		return nil, errors.New("has an exponent e that is too large")
	}
	key := &rsa.PublicKey{N: new(big.Int).SetBytes(nb), E: int(new(big.Int).SetBytes(eb).Int64())}
	if err := checkRSAKey(key); err != nil {
		return nil, err
	}
	return key, nil
}

// checkRSAKey checks the size and exponent of an RSA public key.
func checkRSAKey(k *rsa.PublicKey) error {
	if k.N == nil || k.N.BitLen() < minRSABits {
		return fmt.Errorf("is an RSA key shorter than %d bits", minRSABits)
	}
	if k.E < 3 || k.E%2 == 0 {
		return errors.New("is an RSA key with an invalid exponent")
	}
	return nil
}

func parseECJWK(crv, x, y string) (crypto.PublicKey, error) {
	if crv != "P-256" {
		return nil, fmt.Errorf("is an EC key on curve %s; only P-256 (ES256) is accepted", printable(crv))
	}
	xb, err := decodeJWKMember("x", x)
	if err != nil {
		return nil, err
	}
	yb, err := decodeJWKMember("y", y)
	if err != nil {
		return nil, err
	}
	if len(xb) != 32 || len(yb) != 32 {
		return nil, errors.New("has x or y of another length than 32 octets (RFC 7518 section 6.2.1)")
	}
	key, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), slices.Concat([]byte{4}, xb, yb))
	if err != nil {
		return nil, errors.New("is not a point on P-256")
	}
	return key, nil
}

func parseOKPJWK(crv, x string) (crypto.PublicKey, error) {
	if crv != "Ed25519" {
		return nil, fmt.Errorf("is an OKP key on curve %s; only Ed25519 (EdDSA) is accepted", printable(crv))
	}
	xb, err := decodeJWKMember("x", x)
	if err != nil {
		return nil, err
	}
	if len(xb) != ed25519.PublicKeySize {
		return nil, errors.New("has an x of another length than 32 octets")
	}
	return ed25519.PublicKey(xb), nil
}

// checkPublicKey checks a public key given as a Go value, as parseJWK checks a JWK, and returns
// it in the form the provider uses (*rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey).
func checkPublicKey(key crypto.PublicKey) (crypto.PublicKey, error) {
	switch k := key.(type) {
	case *rsa.PublicKey:
		if k == nil {
			return nil, errors.New("is a nil key")
		}
		return k, checkRSAKey(k)
	case *ecdsa.PublicKey:
		if k == nil || k.Curve != elliptic.P256() {
			return nil, errors.New("is not an EC key on P-256; only P-256 (ES256) is accepted")
		}
		if _, err := k.Bytes(); err != nil {
			return nil, errors.New("is not a valid P-256 key")
		}
		return k, nil
	case ed25519.PublicKey:
		if len(k) != ed25519.PublicKeySize {
			return nil, errors.New("is not a valid Ed25519 key")
		}
		return k, nil
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
		return nil, errors.New("is a private key: register the public key only")
	default:
		return nil, fmt.Errorf("has type %T; only *rsa.PublicKey, *ecdsa.PublicKey and ed25519.PublicKey are accepted", key)
	}
}

// jwkMembers returns the members of the public JWK of key that its RFC 7638 thumbprint covers:
// kty and the key's parameters.
func jwkMembers(key crypto.PublicKey) map[string]string {
	switch k := key.(type) {
	case *rsa.PublicKey:
		return map[string]string{"kty": "RSA", "n": b64(k.N.Bytes()), "e": b64(big.NewInt(int64(k.E)).Bytes())}
	case *ecdsa.PublicKey:
		b, _ := k.Bytes() // valid: checked or generated
		return map[string]string{"kty": "EC", "crv": "P-256", "x": b64(b[1:33]), "y": b64(b[33:])}
	case ed25519.PublicKey:
		return map[string]string{"kty": "OKP", "crv": "Ed25519", "x": b64(k)}
	}
	return nil
}

// jwkThumbprint is the RFC 7638 JWK thumbprint of key: SHA-256, base64url.
func jwkThumbprint(key crypto.PublicKey) string {
	m := jwkMembers(key)
	var names []string
	switch m["kty"] {
	case "RSA":
		names = []string{"e", "kty", "n"}
	case "EC":
		names = []string{"crv", "kty", "x", "y"}
	case "OKP":
		names = []string{"crv", "kty", "x"}
	}
	// The required members in lexicographic order, without whitespace (RFC 7638 section 3.2);
	// the values are base64url or fixed names, which need no JSON escaping.
	b := []byte{'{'}
	for i, name := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, "%q:%q", name, m[name])
	}
	b = append(b, '}')
	sum := sha256.Sum256(b)
	return b64(sum[:])
}

// keyType returns the JWK kty of a key that algorithm alg uses: RSA for RS* and PS*, EC for
// ES256, OKP for EdDSA.
func keyType(alg string) string {
	switch alg {
	case "RS256", "RS384", "RS512", "PS256":
		return "RSA"
	case "ES256":
		return "EC"
	case "EdDSA":
		return "OKP"
	}
	return ""
}

// publicKeyType returns the JWK kty of a public key.
func publicKeyType(key crypto.PublicKey) string {
	return jwkMembers(key)["kty"]
}
