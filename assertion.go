package parlogin

import (
	"crypto/rand"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// clientAssertionType is the client_assertion_type of a JWT client assertion (RFC 7523 §2.2).
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionSigner makes client_secret_jwt assertions (RFC 7523 §3, OpenID Connect Core §9): a JWT
// MACed with the client secret, iss = sub = client_id, a unique jti and a short exp. A fresh one is
// made for every back-channel call, so that a captured assertion is useless once used.
type assertionSigner struct {
	clientID string
	issuer   string
	audience Audience
	method   jwt.SigningMethod
	lifetime time.Duration
	now      func() time.Time

	secrets atomic.Pointer[clientSecrets]
}

// clientSecrets are the client's HMAC keys: the current one, which signs, and during a rotation
// the one it replaced, tried when the provider refuses the current one, until previousUntil.
type clientSecrets struct {
	current       []byte
	previous      []byte
	previousUntil time.Time
}

// newAssertionSigner returns the signer of c's assertions, whose times follow providerNow.
func newAssertionSigner(c Config, providerNow func() time.Time) *assertionSigner {
	s := &assertionSigner{
		clientID: c.ClientID,
		issuer:   c.Issuer,
		audience: c.AssertionAudience,
		method:   jwt.GetSigningMethod(c.SigningAlg),
		lifetime: c.AssertionLifetime,
		now:      providerNow,
	}
	s.secrets.Store(&clientSecrets{current: []byte(c.ClientSecret)})
	return s
}

// keys returns the secrets to sign with at now: the current one, then the previous one while it
// is kept.
func (s *assertionSigner) keys(now time.Time) [][]byte {
	cs := s.secrets.Load()
	if cs.previous != nil && now.Before(cs.previousUntil) {
		return [][]byte{cs.current, cs.previous}
	}
	return [][]byte{cs.current}
}

// rotate makes secret the current secret, keeping the current one as the previous until until.
func (s *assertionSigner) rotate(secret []byte, until time.Time) {
	for {
		old := s.secrets.Load()
		next := &clientSecrets{current: secret, previous: old.current, previousUntil: until}
		if s.secrets.CompareAndSwap(old, next) {
			return
		}
	}
}

// assertion returns a client assertion for a call to endpoint, signed with key.
func (s *assertionSigner) assertion(key []byte, endpoint string) (string, error) {
	aud := s.issuer
	if s.audience == AudienceEndpoint {
		aud = endpoint
	}
	now := s.now()
	return jwt.NewWithClaims(s.method, jwt.MapClaims{
		"iss": s.clientID,
		"sub": s.clientID,
		"aud": aud,
		"jti": rand.Text(), // 130 random bits
		"iat": now.Unix(),
		"exp": now.Add(s.lifetime).Unix(),
	}).SignedString(key)
}

// requestObject returns params as a request object (RFC 9101 §4) signed with key, for a pushed
// authorization request. max_age is a number in a request object (OpenID Connect Core §6.1).
func (s *assertionSigner) requestObject(key []byte, params map[string]any) (string, error) {
	now := s.now()
	claims := jwt.MapClaims{}
	for k, v := range params {
		claims[k] = v
	}
	claims["iss"] = s.clientID
	claims["aud"] = s.issuer
	claims["client_id"] = s.clientID
	claims["jti"] = rand.Text()
	claims["iat"] = now.Unix()
	claims["nbf"] = now.Unix()
	claims["exp"] = now.Add(s.lifetime).Unix()
	t := jwt.NewWithClaims(s.method, claims)
	t.Header["typ"] = "oauth-authz-req+jwt" // RFC 9101 §10.8: not mistakable for another JWT
	return t.SignedString(key)
}
