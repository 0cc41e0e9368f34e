package oidctest

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	_ "crypto/sha512" // RS384 and RS512
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// clockSkew is the leeway allowed when comparing times in JWTs with the provider's clock, as
// oidc-provider's default clockTolerance. PingOne's leeway is not documented; the same one is
// used in PingOne mode, because a real deployment has some clock skew and a test should not fail
// on a second.
const clockSkew = 15 * time.Second

// hmacAlgs returns the algorithms accepted for client assertions and request objects.
func hmacAlgs() []string { return []string{"HS256", "HS384", "HS512"} }

// jws is a compact JWS whose header and claims are decoded but whose signature is not checked yet.
// Numbers in claims are json.Number.
type jws struct {
	raw    string
	alg    string
	kid    string
	header map[string]any
	claims map[string]any
}

// parseJWS decodes a compact JWS without checking its signature. Its errors never quote raw.
func parseJWS(raw string) (*jws, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, errors.New("is not a JWT in compact serialization")
	}
	header, err := decodeJSONObject(parts[0])
	if err != nil {
		return nil, errors.New("has a header that is not base64url-encoded JSON")
	}
	claims, err := decodeJSONObject(parts[1])
	if err != nil {
		return nil, errors.New("has a payload that is not a base64url-encoded JSON object")
	}
	alg, _ := header["alg"].(string)
	if alg == "" {
		return nil, errors.New("has no alg in its header")
	}
	if _, ok := header["crit"]; ok {
		return nil, errors.New("has a crit header, which is not supported")
	}
	kid, _ := header["kid"].(string)
	return &jws{raw: raw, alg: alg, kid: kid, header: header, claims: claims}, nil
}

// decodeJSONObject decodes one base64url part of a JWS into a JSON object.
func decodeJSONObject(part string) (map[string]any, error) {
	b, err := base64.RawURLEncoding.DecodeString(part)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	if m == nil {
		return nil, errors.New("not an object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data")
	}
	return m, nil
}

// checkHMACAlg checks that t uses an algorithm allowed for c (HS256/384/512, or only c.AuthAlg).
func checkHMACAlg(t *jws, c Client) error {
	if !slices.Contains(hmacAlgs(), t.alg) {
		return fmt.Errorf("uses alg %s; only HS256, HS384 and HS512 are accepted", printable(t.alg))
	}
	if c.AuthAlg != "" && t.alg != c.AuthAlg {
		return fmt.Errorf("uses alg %s but the client is registered for %s", t.alg, printable(c.AuthAlg))
	}
	return nil
}

// verifyHMAC checks the signature of t (whose alg is already known to be HS*) with secret.
func verifyHMAC(t *jws, secret string) error {
	p := jwt.NewParser(jwt.WithValidMethods([]string{t.alg}), jwt.WithoutClaimsValidation())
	_, err := p.Parse(t.raw, func(*jwt.Token) (any, error) { return []byte(secret), nil })
	if err != nil {
		return errors.New("has an invalid signature")
	}
	return nil
}

// verifyClientHMAC checks the signature of t against the secrets of c.
func verifyClientHMAC(t *jws, c Client) error {
	err := verifyHMAC(t, c.Secret)
	for _, other := range c.OtherSecrets {
		if err == nil {
			break
		}
		err = verifyHMAC(t, other)
	}
	return err
}

// verifyIDTokenSignature checks the signature of t, an ID token or logout token, against the
// provider's keys of t's alg: the key named by kid, or any key of that alg without kid.
func verifyIDTokenSignature(t *jws, keys []signingKey) error {
	if !slices.Contains(idTokenAlgs(), t.alg) {
		return fmt.Errorf("uses alg %s; this provider signs with RS256, PS256 or ES256", printable(t.alg))
	}
	found := false
	for _, k := range keys {
		if k.alg != t.alg || t.kid != "" && t.kid != k.id {
			continue
		}
		found = true
		if verifySignature(t, k.key.Public()) == nil {
			return nil
		}
	}
	if !found {
		return errors.New("is signed with a key this provider does not publish")
	}
	return errors.New("has an invalid signature")
}

// verifySignature checks the signature of t, whose alg is asymmetric (RS256, RS384, RS512,
// PS256, ES256 or EdDSA), with key, which must be of the alg's type. The signature encodings
// are those of RFC 7518 section 3 (ES256: the 64 octets of R and S, not DER) and RFC 8037.
func verifySignature(t *jws, key crypto.PublicKey) error {
	dot := strings.LastIndexByte(t.raw, '.')
	input := t.raw[:dot]
	sig, err := b64Strict.DecodeString(t.raw[dot+1:])
	if err != nil {
		return errors.New("has a signature that is not unpadded base64url")
	}
	invalid := errors.New("has an invalid signature")
	hashes := map[string]crypto.Hash{"RS256": crypto.SHA256, "RS384": crypto.SHA384, "RS512": crypto.SHA512, "PS256": crypto.SHA256, "ES256": crypto.SHA256}
	var digest []byte
	if h, ok := hashes[t.alg]; ok {
		hh := h.New()
		hh.Write([]byte(input))
		digest = hh.Sum(nil)
	}
	switch k := key.(type) {
	case *rsa.PublicKey:
		switch t.alg {
		case "RS256", "RS384", "RS512":
			err = rsa.VerifyPKCS1v15(k, hashes[t.alg], digest, sig)
		case "PS256":
			err = rsa.VerifyPSS(k, crypto.SHA256, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256})
		default:
			return fmt.Errorf("uses alg %s with an RSA key", printable(t.alg))
		}
		if err != nil {
			return invalid
		}
	case *ecdsa.PublicKey:
		if t.alg != "ES256" {
			return fmt.Errorf("uses alg %s with an EC key", printable(t.alg))
		}
		if len(sig) != 64 {
			return errors.New("has an ES256 signature that is not 64 octets (R and S, RFC 7518 section 3.4)")
		}
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if !ecdsa.Verify(k, digest, r, s) {
			return invalid
		}
	case ed25519.PublicKey:
		if t.alg != "EdDSA" {
			return fmt.Errorf("uses alg %s with an Ed25519 key", printable(t.alg))
		}
		if !ed25519.Verify(k, []byte(input), sig) {
			return invalid
		}
	default:
		return fmt.Errorf("cannot be verified with a key of type %T", key)
	}
	return nil
}

// stringClaim returns claim name of c: "" when absent, an error when it is not a string.
func stringClaim(c map[string]any, name string) (string, error) {
	v, ok := c[name]
	if !ok {
		return "", nil
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("claim %s is not a string", name)
	}
	return s, nil
}

// timeClaim returns the NumericDate claim name of c, and whether it is present.
func timeClaim(c map[string]any, name string) (time.Time, bool, error) {
	v, ok := c[name]
	if !ok {
		return time.Time{}, false, nil
	}
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, true, fmt.Errorf("claim %s is not a number", name)
	}
	f, err := n.Float64()
	// Reject dates before 1970 and after the year 10000 rather than overflow.
	if err != nil || f < 0 || f > 253402300799 || math.IsNaN(f) {
		return time.Time{}, true, fmt.Errorf("claim %s is not a valid date", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)), true, nil
}

// audienceClaim returns the aud claim of c, a string or an array of strings.
func audienceClaim(c map[string]any) ([]string, error) {
	switch v := c["aud"].(type) {
	case nil:
		if _, ok := c["aud"]; ok {
			return nil, errors.New("claim aud is null")
		}
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		aud := make([]string, 0, len(v))
		for _, a := range v {
			s, ok := a.(string)
			if !ok {
				return nil, errors.New("claim aud has a value that is not a string")
			}
			aud = append(aud, s)
		}
		return aud, nil
	default:
		return nil, errors.New("claim aud is neither a string nor an array of strings")
	}
}

// checkLifetime checks the time claims of c at now, allowing clockSkew: exp is required and not
// passed, and at most maxAhead in the future when maxAhead > 0; the claims notFuture (iat, nbf),
// when present, are not in the future. It returns exp.
func checkLifetime(c map[string]any, now time.Time, maxAhead time.Duration, notFuture ...string) (time.Time, error) {
	exp, ok, err := timeClaim(c, "exp")
	if err != nil {
		return time.Time{}, err
	}
	if !ok {
		return time.Time{}, errors.New("claim exp is required")
	}
	if now.After(exp.Add(clockSkew)) {
		return time.Time{}, errors.New("has expired")
	}
	if maxAhead > 0 && exp.After(now.Add(maxAhead+clockSkew)) {
		return time.Time{}, fmt.Errorf("claim exp is more than %v in the future", maxAhead)
	}
	for _, name := range notFuture {
		t, ok, err := timeClaim(c, name)
		if err != nil {
			return time.Time{}, err
		}
		if ok && t.After(now.Add(clockSkew)) {
			return time.Time{}, fmt.Errorf("claim %s is in the future", name)
		}
	}
	return exp, nil
}
