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
	return s.signJWT(s.idTokenAlg(g.clientID), "", claims)
}

// idTokenAlg returns the alg of the ID tokens and logout tokens of the client clientID: its
// IDTokenAlg, ES256 for a FAPI 2.0 client without one, RS256 otherwise.
func (s *Server) idTokenAlg(clientID string) string {
	c, ok := s.client(clientID)
	switch {
	case !ok:
		return "RS256"
	case slices.Contains(idTokenAlgs(), c.IDTokenAlg):
		return c.IDTokenAlg
	case c.IDTokenAlg == "" && s.fapi2(c):
		return "ES256"
	}
	return "RS256" // an invalid IDTokenAlg fails the client's authentications before
}

// signJWT signs claims with the current key of alg (RS256, PS256 or ES256), with the key's kid
// in the header, and typ when it is not empty.
func (s *Server) signJWT(alg, typ string, claims map[string]any) (string, error) {
	k := s.ensureSigningKey(alg)
	method := jwt.GetSigningMethod(alg)
	if method == nil {
		return "", errors.New("no signing method for " + alg)
	}
	t := jwt.NewWithClaims(method, jwt.MapClaims(claims))
	t.Header["kid"] = k.id
	if typ != "" {
		t.Header["typ"] = typ
	}
	return t.SignedString(k.key)
}

// atHash is the at_hash of an access token for RS256, PS256 and ES256: the left half of its
// SHA-256, base64url (OpenID Connect Core section 3.1.3.6).
func atHash(accessToken string) string {
	sum := sha256.Sum256([]byte(accessToken))
	return b64(sum[:len(sum)/2])
}
