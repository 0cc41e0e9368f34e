package parlogin

import (
	"crypto/rand"
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
	key      []byte
	lifetime time.Duration
	now      func() time.Time
}

// newAssertionSigner returns the signer of c's assertions, whose times follow providerNow.
func newAssertionSigner(c Config, providerNow func() time.Time) *assertionSigner {
	return &assertionSigner{
		clientID: c.ClientID,
		issuer:   c.Issuer,
		audience: c.AssertionAudience,
		method:   jwt.GetSigningMethod(c.SigningAlg),
		key:      []byte(c.ClientSecret),
		lifetime: c.AssertionLifetime,
		now:      providerNow,
	}
}

// assertion returns a client assertion for a call to endpoint.
func (s *assertionSigner) assertion(endpoint string) (string, error) {
	aud := s.issuer
	if s.audience == AudienceEndpoint {
		aud = endpoint
	}
	now := s.now()
	return s.sign(jwt.MapClaims{
		"iss": s.clientID,
		"sub": s.clientID,
		"aud": aud,
		"jti": rand.Text(), // 130 random bits
		"iat": now.Unix(),
		"exp": now.Add(s.lifetime).Unix(),
	})
}

// requestObject returns params as a signed request object (RFC 9101 §4), for a pushed
// authorization request. max_age is a number in a request object (OpenID Connect Core §6.1).
func (s *assertionSigner) requestObject(params map[string]any) (string, error) {
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
	return t.SignedString(s.key)
}

func (s *assertionSigner) sign(claims jwt.MapClaims) (string, error) {
	return jwt.NewWithClaims(s.method, claims).SignedString(s.key)
}
