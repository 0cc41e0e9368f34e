package parlogin

import (
	"crypto/rand"
	"sync/atomic"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// clientAssertionType is the client_assertion_type of a JWT client assertion (RFC 7523 §2.2).
const clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

// assertionSigner makes client assertions (RFC 7523 §3, OpenID Connect Core §9): a JWT MACed with
// the client secret (client_secret_jwt) or signed with a private key of the client
// (private_key_jwt), iss = sub = client_id, a unique jti and a short exp. A fresh one is made for
// every back-channel call, so that a captured assertion is useless once used.
type assertionSigner struct {
	clientID string
	issuer   string
	audience Audience
	method   jwt.SigningMethod // HMAC, for a secret
	lifetime time.Duration
	now      func() time.Time

	creds atomic.Pointer[credentials]
}

// credentials are what the client signs with: the current key or secret, and during a rotation the
// one it replaced, tried when the provider refuses the current one, until previousUntil (zero: for
// as long as the client's keys include it).
type credentials struct {
	current       signingKey
	previous      *signingKey
	previousUntil time.Time
	published     []ClientKey // the client's public keys, for its JWKS
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
	if len(c.ClientKeys) > 0 {
		s.setKeys(c.ClientKeys)
	} else {
		s.creds.Store(&credentials{current: signingKey{secret: []byte(c.ClientSecret)}})
	}
	return s
}

// keys returns what to sign with at now: the current key or secret, then the previous one while it
// is kept.
func (s *assertionSigner) keys(now time.Time) []signingKey {
	c := s.creds.Load()
	if c.previous != nil && (c.previousUntil.IsZero() || now.Before(c.previousUntil)) {
		return []signingKey{c.current, *c.previous}
	}
	return []signingKey{c.current}
}

// published returns the client's public keys (none with a secret).
func (s *assertionSigner) published() []ClientKey { return s.creds.Load().published }

// rotate makes secret the current secret, keeping the current one as the previous until until.
func (s *assertionSigner) rotate(secret []byte, until time.Time) {
	for {
		old := s.creds.Load()
		previous := old.current
		next := &credentials{current: signingKey{secret: secret}, previous: &previous, previousUntil: until}
		if s.creds.CompareAndSwap(old, next) {
			return
		}
	}
}

// setKeys makes keys the client's keys: the first signs, the second is tried when the provider
// refuses the first, all are published.
func (s *assertionSigner) setKeys(keys []ClientKey) {
	c := &credentials{current: signingKey{key: &keys[0]}, published: keys}
	if len(keys) > 1 {
		c.previous = &signingKey{key: &keys[1]}
	}
	s.creds.Store(c)
}

// assertion returns a client assertion for a call to endpoint, signed with key.
func (s *assertionSigner) assertion(key signingKey, endpoint string) (string, error) {
	aud := s.issuer
	if s.audience == AudienceEndpoint {
		aud = endpoint
	}
	now := s.now()
	return key.sign(s.method, "", map[string]any{
		"iss": s.clientID,
		"sub": s.clientID,
		"aud": aud,
		"jti": rand.Text(), // 130 random bits
		"iat": now.Unix(),
		"exp": now.Add(s.lifetime).Unix(),
	})
}

// requestObject returns params as a request object (RFC 9101 §4) signed with key, for a pushed
// authorization request. max_age is a number in a request object (OpenID Connect Core §6.1).
func (s *assertionSigner) requestObject(key signingKey, params map[string]any) (string, error) {
	now := s.now()
	claims := make(map[string]any, len(params)+7)
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
	// RFC 9101 §10.8: typed, not mistakable for another JWT.
	return key.sign(s.method, "oauth-authz-req+jwt", claims)
}
