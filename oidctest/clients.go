package oidctest

import (
	"crypto"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/parlogin/parlogin/internal/endpoint"
)

// Client is a registered OAuth client.
type Client struct {
	ID string // generated (random, URL-safe) when empty
	// Secret is the key of client_secret_jwt, generated when empty: 32 random bytes, base64url
	// (43 chars). A private_key_jwt client has one too, which it cannot use.
	Secret string
	// OtherSecrets are accepted besides Secret, as by a provider that keeps an application's
	// previous secret valid for a while after a new one is generated (PingOne does): to test a
	// secret rotation. Register the client again (AddClient) to change or revoke them.
	OtherSecrets []string
	// RedirectURIs is the exact-match list of redirect URIs; at least one is needed to authorize.
	RedirectURIs           []string
	PostLogoutRedirectURIs []string // exact-match list for RP-initiated logout
	// BackchannelLogoutURI, when set, receives logout tokens (OpenID Connect Back-Channel Logout
	// 1.0) when a user of the client signs out at the end-session endpoint, and from
	// [Server.BackchannelLogout].
	BackchannelLogoutURI string
	// AuthMethod is the client's authentication method at the token, PAR and revocation
	// endpoints (token_endpoint_auth_method, RFC 7591 section 2): "client_secret_jwt" (the
	// default), or "private_key_jwt" (the default of a FAPI 2.0 client), whose assertions are
	// signed with a private key of the client and checked with its public keys, Keys or JWKSURI.
	// An assertion of the other method is refused, as a real provider refuses it.
	AuthMethod string
	// AuthAlg, when set, is the only alg accepted for this client's assertions and request
	// objects: one of "HS256", "HS384", "HS512" for client_secret_jwt, one of "RS256", "PS256",
	// "ES256", "EdDSA" for private_key_jwt (see [Client.Keys] for those allowed in FAPI 2.0 and
	// PingOne modes); when empty, all those of the client's method are accepted.
	AuthAlg string
	// Keys are the public keys of a private_key_jwt client (the jwks client metadata of RFC
	// 7591, as Go keys), for its client assertions and its request objects. Accepted algorithms:
	// RS256 and PS256 with an *rsa.PublicKey of at least 2048 bits, ES256 with an
	// *ecdsa.PublicKey on P-256, EdDSA with an ed25519.PublicKey; a FAPI 2.0 client may use only
	// PS256, ES256 and EdDSA, and in PingOne mode only RS256, RS384 and RS512 are accepted, as
	// PingOne documents. The kid header of a JWT selects the key by [ClientKey.ID]; a client with
	// several keys must name one. Set Keys or JWKSURI, not both.
	Keys []ClientKey
	// JWKSURI is the URL of the client's JSON Web Key Set (jwks_uri, RFC 7591), for a
	// private_key_jwt client whose keys are served by the application, as PingOne and
	// oidc-provider accept them. The provider fetches it with [Server.HTTPClient] each time it
	// verifies a JWT of the client, so that a client may rotate its keys at any time; an
	// answer other than 200 with a JWK Set, or a key set with private key members, makes the
	// authentication fail. JWKs with use "enc" are ignored. It must be https for a FAPI 2.0
	// client (FAPI 2.0 Security Profile section 5.4.2) and in PingOne mode (PingOne's jwksUrl).
	JWKSURI string
	// IDTokenAlg is the alg of the client's ID tokens and logout tokens
	// (id_token_signed_response_alg, OpenID Connect Dynamic Client Registration 1.0): "RS256"
	// (the default), "PS256" or "ES256" (the default of a FAPI 2.0 client, which may not use
	// RS256). See [Server.SigningKeyFor] for the keys.
	IDTokenAlg string
	// DPoPBoundAccessTokens (dpop_bound_access_tokens, RFC 9449 section 5.2) makes the token
	// endpoint refuse the client's requests that carry no DPoP proof, so that all its access
	// tokens are DPoP-bound. A FAPI 2.0 client is always held to it.
	DPoPBoundAccessTokens bool
	// FAPI2 holds this client to the FAPI 2.0 Security Profile, as [Server.FAPI2] does every
	// client (see "FAPI 2.0" in the package documentation).
	FAPI2 bool
	// GrantTypes are the grant types of the application, like PingOne's grantTypes
	// ("authorization_code", "refresh_token"). Only PingOne mode reads them: there, the tokens
	// of a code include a refresh token when GrantTypes contains "refresh_token", or when the
	// granted scope contains offline_access, as PingOne documents. Without EnvID, a refresh
	// token is issued when the granted scope contains offline_access, whatever GrantTypes says.
	GrantTypes []string
	// PKCEEnforcement is the PKCE enforcement of the application in PingOne mode, with
	// PingOne's values: "OPTIONAL" (the default: code_challenge optional, method plain or
	// S256), "REQUIRED" (code_challenge required, method plain or S256) or "S256_REQUIRED".
	// Another value makes every authorization request of the client fail, saying why. Without
	// EnvID it is ignored: PKCE with S256 is always required.
	PKCEEnforcement string
	// RequirePushedAuthorizationRequests, in PingOne mode, makes the authorization endpoint
	// refuse requests of this client that were not pushed, as PingOne's "Require Pushed
	// Authorization Request" setting of an application does; by default PingOne accepts both
	// (RFC 9126 section 6 names this client metadata require_pushed_authorization_requests).
	// Without EnvID it is ignored: the provider accepts only pushed requests.
	RequirePushedAuthorizationRequests bool
}

// ClientKey is a public key of a private_key_jwt client (see [Client.Keys]).
type ClientKey struct {
	// ID is the key ID, which the kid header of the client's JWTs names. It may be empty when
	// the client has one key only.
	ID string
	// Key is the public key: an *rsa.PublicKey of at least 2048 bits, an *ecdsa.PublicKey on
	// P-256 or an ed25519.PublicKey. A private key is refused.
	Key crypto.PublicKey
	// Alg, when set, is the only algorithm the key may be used with, like the alg member of a
	// JWK.
	Alg string
}

// The client authentication methods (token_endpoint_auth_method values).
const (
	clientSecretJWT = "client_secret_jwt"
	privateKeyJWT   = "private_key_jwt"
)

// jwtBearer is the client_assertion_type of client_secret_jwt (RFC 7523 section 2.2).
const jwtBearer = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" //nolint:gosec // G101: a URN, not a credential

// maxAssertionLifetime is how far in the future a client assertion may expire. PingOne: "Tokens
// that expire more than one hour from now are rejected."
// https://developer.pingidentity.com/pingone-api/auth/auth-config-options/create-a-client-secret-jwt.html
const maxAssertionLifetime = time.Hour

// replayKey identifies a client assertion by its jti, per client.
type replayKey struct{ clientID, jti string }

// AddClient registers c and returns it with generated fields filled; safe at run time.
// Registering an ID again replaces the earlier registration. AddClient does not validate c:
// a client without RedirectURIs cannot authorize, and a client whose registration is invalid
// (an unknown AuthMethod, an AuthAlg or IDTokenAlg the client may not use, a private_key_jwt
// client without usable Keys or JWKSURI, …) fails every authentication; the errors the provider
// answers then say why.
func (s *Server) AddClient(c Client) Client {
	if c.ID == "" {
		c.ID = randomToken(16)
	}
	if c.Secret == "" {
		c.Secret = randomToken(32)
	}
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	c.PostLogoutRedirectURIs = slices.Clone(c.PostLogoutRedirectURIs)
	c.GrantTypes = slices.Clone(c.GrantTypes)
	c.OtherSecrets = slices.Clone(c.OtherSecrets)
	c.Keys = slices.Clone(c.Keys)
	alg := c.IDTokenAlg
	if alg == "" && c.FAPI2 {
		alg = "ES256"
	}
	if alg != "RS256" && slices.Contains(idTokenAlgs(), alg) {
		s.ensureSigningKey(alg) // published before the first ID token
	}
	s.lock()
	s.clients[c.ID] = c
	s.mu.Unlock()
	c.RedirectURIs = slices.Clone(c.RedirectURIs)
	c.PostLogoutRedirectURIs = slices.Clone(c.PostLogoutRedirectURIs)
	c.GrantTypes = slices.Clone(c.GrantTypes)
	c.OtherSecrets = slices.Clone(c.OtherSecrets)
	c.Keys = slices.Clone(c.Keys)
	return c
}

// client returns the registered client with the given ID.
func (s *Server) client(id string) (Client, bool) {
	s.lock()
	defer s.mu.Unlock()
	c, ok := s.clients[id]
	return c, ok
}

// browserClient returns the registered client that a front-channel request names, or shows the
// user an error page: with the client in doubt, there is no redirect URI to send an error to.
func (s *Server) browserClient(w http.ResponseWriter, id string) (Client, bool) {
	if id == "" {
		s.errorPage(w, http.StatusBadRequest, "invalid_request", "client_id is required")
		return Client{}, false
	}
	c, ok := s.client(id)
	if !ok {
		s.errorPage(w, http.StatusBadRequest, "invalid_client", "client_id is not a registered client")
	}
	return c, ok
}

// authenticateClient authenticates the client of a back-channel request with client_secret_jwt
// or private_key_jwt, as the client is registered (RFC 7523 sections 2.2 and 3, OpenID Connect
// Core section 9). endpointURL is the URL of the endpoint called, which the assertion may name
// as its audience (except in FAPI 2.0 mode). Descriptions never quote the secret or the
// assertion.
func (s *Server) authenticateClient(r *http.Request, params url.Values, endpointURL string, now time.Time) (Client, *oauthError) {
	var methods []string
	if r.Header.Get("Authorization") != "" {
		methods = append(methods, "an Authorization header")
	}
	if params.Has("client_secret") {
		methods = append(methods, "client_secret")
	}
	if params.Has("client_assertion") || params.Has("client_assertion_type") {
		methods = append(methods, "client_assertion")
	}
	switch {
	case len(methods) > 1:
		return Client{}, invalidRequest("more than one client authentication method is used (%s and %s); use only client_assertion", methods[0], methods[1])
	case len(methods) == 0 || methods[0] != "client_assertion":
		e := invalidClient("client authentication must use client_secret_jwt or private_key_jwt (client_assertion_type and client_assertion)")
		if scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " "); isToken(scheme) {
			// A client that tried the Authorization header is answered in its scheme (RFC 6749
			// section 5.2).
			e.challenge = scheme + ` realm="oidctest"`
		}
		return Client{}, e
	}
	if params.Get("client_assertion_type") != jwtBearer {
		return Client{}, invalidClient("client_assertion_type must be %s", jwtBearer)
	}
	raw := params.Get("client_assertion")
	if raw == "" {
		return Client{}, invalidClient("client_assertion is required")
	}
	t, err := parseJWS(raw)
	if err != nil {
		return Client{}, invalidClient("client_assertion %v", err)
	}
	iss, err := stringClaim(t.claims, "iss")
	if err != nil {
		return Client{}, invalidClient("client_assertion: %v", err)
	}
	if iss == "" {
		return Client{}, invalidClient("client_assertion: claim iss is required (the client_id)")
	}
	c, ok := s.client(iss)
	if !ok {
		return Client{}, invalidClient("client_assertion: iss %s is not a registered client", printable(iss))
	}
	if problem := s.registrationProblem(c); problem != "" {
		return Client{}, invalidClient("the registration of client %s is invalid: %s", printable(c.ID), problem)
	}
	if err := s.verifyClientJWT(r.Context(), c, t); err != nil {
		return Client{}, invalidClient("client_assertion %v", err)
	}
	if sub, err := stringClaim(t.claims, "sub"); err != nil || sub != iss {
		return Client{}, invalidClient("client_assertion: claim sub must equal iss (the client_id)")
	}
	if params.Has("client_id") && params.Get("client_id") != c.ID {
		return Client{}, invalidClient("client_id does not match the client_assertion's iss")
	}
	if s.fapi2(c) {
		// FAPI 2.0 Security Profile section 5.3.2.1: the authorization server "shall only accept
		// its issuer identifier value ... as a string in the aud claim received in client
		// authentication assertions" (the defence against audience injection).
		if aud, ok := t.claims["aud"].(string); !ok || aud != s.cfg.issuer {
			return Client{}, invalidClient("client_assertion: claim aud must be the issuer (%s) as a single string, the only audience FAPI 2.0 accepts", s.cfg.issuer)
		}
	} else {
		aud, err := audienceClaim(t.claims)
		if err != nil {
			return Client{}, invalidClient("client_assertion: %v", err)
		}
		if !containsAny(aud, s.cfg.issuer, s.cfg.urls[endpoint.Token], endpointURL) {
			return Client{}, invalidClient("client_assertion: claim aud must contain the issuer (%s), the token endpoint or the URL of the endpoint called", s.cfg.issuer)
		}
	}
	if !s.cfg.strictAssertions {
		// PingOne: "The optional iat and jti claims from the JSON Web Token (JWT) spec are not
		// validated." exp is required and at most one hour ahead; nbf, if present, must not be
		// in the future. The pages of client_secret_jwt and private_key_jwt say the same:
		// https://developer.pingidentity.com/pingone-api/auth/auth-config-options/create-a-client-secret-jwt.html
		// https://developer.pingidentity.com/pingone-api/auth/auth-config-options/create-a-private-key-jwt.html
		if _, err := checkLifetime(t.claims, now, maxAssertionLifetime, "nbf"); err != nil {
			return Client{}, invalidClient("client_assertion %v", err)
		}
		return c, nil
	}
	exp, err := checkLifetime(t.claims, now, maxAssertionLifetime, "iat", "nbf")
	if err != nil {
		return Client{}, invalidClient("client_assertion %v", err)
	}
	jti, err := stringClaim(t.claims, "jti")
	if err != nil || jti == "" {
		return Client{}, invalidClient("client_assertion: claim jti is required")
	}
	if !s.useJTI(replayKey{c.ID, jti}, exp.Add(clockSkew), now) {
		return Client{}, invalidClient("client_assertion: jti replay (this jti was already used)")
	}
	return c, nil
}

// useJTI records a client assertion ID until it expires, and reports false if it was seen
// before and has not expired yet.
func (s *Server) useJTI(k replayKey, until, now time.Time) bool {
	s.lock()
	defer s.mu.Unlock()
	if seen, ok := s.jtis[k]; ok && !now.After(seen) {
		return false
	}
	s.jtis[k] = until
	s.maybeSweepLocked(now)
	return true
}

func containsAny(list []string, values ...string) bool {
	for _, v := range values {
		if slices.Contains(list, v) {
			return true
		}
	}
	return false
}

// isToken reports whether s is an HTTP token (RFC 9110 section 5.6.2), such as an auth scheme.
func isToken(s string) bool {
	return s != "" && !strings.ContainsFunc(s, func(r rune) bool {
		return r > 0x7e || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r)
	})
}
