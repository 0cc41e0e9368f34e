package settings

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/go-jose/go-jose/v4"
	"github.com/parlogin/parlogin"
)

// ReadClientKey reads the client's private key from the PEM file at path: PKCS#8 ("PRIVATE KEY",
// as openssl genpkey writes it) of an EC key on P-256 (ES256), an RSA key of 2048 bits or more
// (PS256) or an Ed25519 key (EdDSA); SEC 1 ("EC PRIVATE KEY") and PKCS#1 ("RSA PRIVATE KEY") are
// accepted too. The key's ID is id, or by default its JWK SHA-256 thumbprint (RFC 7638), which
// changes with the key and only with it. Errors name PARLOGIN_CLIENT_KEY and path, never the key.
func ReadClientKey(path, id string) (parlogin.ClientKey, error) {
	fail := func(format string, args ...any) (parlogin.ClientKey, error) {
		return parlogin.ClientKey{}, fmt.Errorf("PARLOGIN_CLIENT_KEY %s: "+format, append([]any{path}, args...)...)
	}
	data, err := os.ReadFile(path) //nolint:gosec // G304: the path is the operator's setting
	if err != nil {
		return fail("%v", errUnwrapPath(err))
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return fail("no PEM block: want a private key such as openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 writes")
	}
	var key any
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return fail("a PEM block of type %q, not a private key (PRIVATE KEY, EC PRIVATE KEY or RSA PRIVATE KEY)", block.Type)
	}
	if err != nil {
		return fail("malformed %s", block.Type)
	}
	var signer crypto.Signer
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		if k.Curve != elliptic.P256() {
			return fail("an EC key on %s: want P-256, for ES256", k.Curve.Params().Name)
		}
		signer = k
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return fail("an RSA key of %d bits: want 2048 or more", k.N.BitLen())
		}
		signer = k
	case ed25519.PrivateKey:
		signer = k
	default:
		return fail("a key of type %T: want EC P-256, RSA or Ed25519", key)
	}
	if id == "" {
		sum, err := (&jose.JSONWebKey{Key: signer.Public()}).Thumbprint(crypto.SHA256)
		if err != nil {
			return fail("%v", err)
		}
		id = base64.RawURLEncoding.EncodeToString(sum)
	}
	return parlogin.ClientKey{ID: id, Signer: signer}, nil
}

// errUnwrapPath returns the cause of a *os.PathError, whose path the caller names already.
func errUnwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}
