package oidctest

import (
	"crypto/sha256"
	"errors"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const idTokenLifetime = time.Hour

// SetIDTokenHook sets a function that edits the claims of every ID token before it is signed
// (wrong iss/aud/nonce, expired exp, extra audiences, missing at_hash …). nil removes it.
// The times exp, iat and auth_time are int64 Unix seconds; aud is the client ID as a string;
// amr is a []string.
// The hook is called without holding any lock of the server.
func (s *Server) SetIDTokenHook(hook func(claims map[string]any)) {
	s.lock()
	s.idTokenHook = hook
	s.mu.Unlock()
}

// SetIDTokenSigner replaces the signing of ID tokens: it receives the final claims and returns the
// raw token to send (for forged tokens: alg none, HS256 with the public key, unknown kid). nil restores
// normal signing. The signer is called after the hook, without holding any lock of the server.
func (s *Server) SetIDTokenSigner(signer func(claims map[string]any) string) {
	s.lock()
	s.idTokenSigner = signer
	s.mu.Unlock()
}

// idToken builds, edits and signs the ID token of grant g for an access token of scope.
func (s *Server) idToken(g *grant, scope, nonce, accessToken string, now time.Time) (string, error) {
	claims := releasedClaims(g.user, scope)
	claims["iss"] = s.cfg.issuer
	claims["sub"] = g.user.Subject
	claims["aud"] = g.clientID
	claims["exp"] = now.Add(idTokenLifetime).Unix()
	claims["iat"] = now.Unix()
	claims["auth_time"] = g.authTime.Unix()
	claims["amr"] = slices.Clone(g.amr)
	claims["sid"] = g.sid
	claims["at_hash"] = atHash(accessToken)
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if g.acr != "" {
		claims["acr"] = g.acr
	}

	s.lock()
	hook, signer := s.idTokenHook, s.idTokenSigner
	s.mu.Unlock()
	if hook != nil {
		hook(claims)
	}
	if signer != nil {
		return signer(claims), nil
	}
	kid, key := s.SigningKey()
	if key == nil {
		return "", errors.New("no signing key")
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
	t.Header["kid"] = kid
	return t.SignedString(key)
}

// atHash is the at_hash of an access token for RS256: the left half of its SHA-256, base64url
// (OpenID Connect Core section 3.1.3.6).
func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return b64(sum[:len(sum)/2])
}
