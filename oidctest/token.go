package oidctest

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/parlogin/parlogin/internal/endpoint"
)

const accessTokenLifetime = time.Hour

// accessToken is an opaque access token, accepted by the userinfo endpoint.
type accessToken struct {
	grant   *grant
	scope   string
	expires time.Time
	jkt     string // the thumbprint of the DPoP key the token is bound to (cnf.jkt); "" for a Bearer token
}

// refreshToken is an opaque refresh token, single use (rotated on every refresh).
type refreshToken struct {
	grant   *grant
	scope   string    // the scope originally granted
	expires time.Time // its end outside PingOne mode (in PingOne mode, its session's end is)
}

// refreshTokenLifetime is how long a refresh token is good outside PingOne mode: oidc-provider's
// default. A refresh rotates it, so a token used within that time lives on in its successor;
// FAPI 2.0 clients keep theirs, good for that time from the login.
const refreshTokenLifetime = 14 * 24 * time.Hour

// handleToken serves the token endpoint (RFC 6749 section 4.1.3 and section 6).
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request, params url.Values) {
	if !s.allowMethods(w, r, endpoint.Token, http.MethodPost) {
		return
	}
	if oerr := checkFormPost(r, params); oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	now := s.now()
	c, oerr := s.authenticateClient(r, params, s.cfg.urls[endpoint.Token], now)
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	// Checked before the grant, so that a proof refused for its nonce leaves the code unused.
	jkt, oerr := s.tokenRequestDPoP(r, c, s.cfg.urls[endpoint.Token], now)
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	var resp map[string]any
	switch gt := params.Get("grant_type"); gt {
	case "authorization_code":
		resp, oerr = s.exchangeCode(c, params, jkt, now)
	case "refresh_token":
		resp, oerr = s.refresh(c, params, jkt, now)
	case "":
		oerr = invalidRequest("grant_type is required")
	default:
		oerr = newError(http.StatusBadRequest, "unsupported_grant_type", "grant_type must be authorization_code or refresh_token")
	}
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	writeJSON(w, http.StatusOK, resp)
}

// exchangeCode redeems an authorization code, checking PKCE (RFC 7636 section 4.6) and the
// code's DPoP key (RFC 9449 section 10). A code presented a second time revokes every token
// issued from it. jkt is the thumbprint of the request's DPoP key, "" without a proof: the
// tokens are bound to it.
func (s *Server) exchangeCode(c Client, params url.Values, jkt string, now time.Time) (map[string]any, *oauthError) {
	code := params.Get("code")
	if code == "" {
		return nil, invalidRequest("code is required")
	}
	s.lock()
	ac, ok := s.codes[code]
	if !ok {
		s.mu.Unlock()
		return nil, invalidGrant("code is unknown")
	}
	if ac.used {
		ac.grant.revoked = true
		s.mu.Unlock()
		return nil, invalidGrant("code was already used; the tokens issued from it are revoked")
	}
	ac.used = true
	s.mu.Unlock()

	switch {
	case now.After(ac.expires):
		return nil, invalidGrant("code has expired")
	case ac.grant.clientID != c.ID:
		return nil, invalidGrant("code was issued to another client")
	case params.Get("redirect_uri") != ac.redirectURI:
		return nil, invalidGrant("redirect_uri must be the one of the authorization request")
	}
	if ac.codeChallenge != "" {
		if oerr := checkCodeVerifier(params.Get("code_verifier"), ac.codeChallenge, ac.pkceMethod); oerr != nil {
			return nil, oerr
		}
	}
	// Not documented: a code_verifier sent for a code requested without PKCE (PingOne mode,
	// PKCEEnforcement OPTIONAL). It is ignored, as RFC 7636 section 4.6 checks a verifier only
	// against a recorded challenge.
	switch {
	case ac.dpopJKT != "" && jkt == "":
		return nil, invalidGrant("the code is bound to a DPoP key (dpop_jkt, RFC 9449 section 10): the token request needs a DPoP proof signed with that key")
	case ac.dpopJKT != "" && jkt != ac.dpopJKT:
		return nil, invalidGrant("the DPoP proof is signed with another key than the one the code is bound to (dpop_jkt, RFC 9449 section 10)")
	}
	s.lock()
	ac.grant.dpopJKT = jkt
	s.mu.Unlock()
	return s.issueTokens(ac.grant, ac.grant.scope, ac.nonce, jkt, s.issuesRefreshTokens(ac.grant), now)
}

// checkCodeVerifier checks a code_verifier against the code_challenge of its code (RFC 7636
// section 4.6).
func checkCodeVerifier(verifier, challenge, method string) *oauthError {
	if verifier == "" {
		return invalidRequest("code_verifier is required (PKCE, RFC 7636)")
	}
	if !validPKCEValue(verifier) {
		return invalidRequest("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~")
	}
	derived := verifier
	if method == "S256" {
		sum := sha256.Sum256([]byte(verifier))
		derived = b64(sum[:])
	}
	if subtle.ConstantTimeCompare([]byte(derived), []byte(challenge)) != 1 {
		return invalidGrant("code_verifier does not match the code_challenge")
	}
	return nil
}

// refresh redeems a refresh token and rotates it, except for a FAPI 2.0 client, whose refresh
// token stays valid and is not sent again (FAPI 2.0 Security Profile section 5.3.2.1 forbids
// rotation). The refresh token of a DPoP-bound grant needs a DPoP proof of the grant's key; the
// new access token is bound to the key of the request's proof (jkt), if any.
func (s *Server) refresh(c Client, params url.Values, jkt string, now time.Time) (map[string]any, *oauthError) {
	token := params.Get("refresh_token")
	if token == "" {
		return nil, invalidRequest("refresh_token is required")
	}
	var scope string
	var oerr *oauthError
	s.lock()
	rt, ok := s.refreshTokens[token]
	switch {
	case !ok || rt.grant.revoked:
		oerr = invalidGrant("refresh_token is unknown, rotated or revoked")
	case rt.grant.clientID != c.ID:
		oerr = invalidGrant("refresh_token was issued to another client")
	case !s.refreshAliveLocked(rt, now):
		oerr = invalidGrant("the refresh_token has expired, or its session has ended (signed off or expired)")
	case rt.grant.dpopJKT != "" && jkt == "":
		oerr = invalidGrant("the refresh_token belongs to a DPoP-bound grant: the request needs a DPoP proof signed with the grant's key")
	case rt.grant.dpopJKT != "" && jkt != rt.grant.dpopJKT:
		oerr = invalidGrant("the DPoP proof is signed with another key than the one the refresh_token's grant is bound to")
	default:
		if scope, oerr = refreshScope(rt.scope, params); oerr == nil && !s.fapi2(c) {
			delete(s.refreshTokens, token)
		}
	}
	s.mu.Unlock()
	if oerr != nil {
		return nil, oerr
	}
	return s.issueTokens(rt.grant, scope, "", jkt, !s.fapi2(c) && s.issuesRefreshTokens(rt.grant), now)
}

// refreshScope returns the scope of the tokens issued by a refresh: the scope parameter, which
// may narrow the granted scope (RFC 6749 section 6), or the granted scope. The new refresh token
// keeps the granted scope.
func refreshScope(granted string, params url.Values) (string, *oauthError) {
	if !params.Has("scope") {
		return granted, nil
	}
	requested := strings.Fields(params.Get("scope"))
	for _, sc := range requested {
		if !slices.Contains(strings.Fields(granted), sc) {
			return "", newError(http.StatusBadRequest, "invalid_scope", "scope %s was not granted", printable(sc))
		}
	}
	if !slices.Contains(requested, "openid") {
		return "", newError(http.StatusBadRequest, "invalid_scope", "scope must contain openid")
	}
	return strings.Join(requested, " "), nil
}

// issueTokens issues an access token, an ID token and, with withRefresh, a refresh token.
// scope is the scope of the access and ID tokens. With jkt, the access token is DPoP-bound to
// that key (RFC 9449 section 6) and its token_type is DPoP.
func (s *Server) issueTokens(g *grant, scope, nonce, jkt string, withRefresh bool, now time.Time) (map[string]any, *oauthError) {
	access := randomToken(32)
	refresh := ""
	if withRefresh {
		refresh = randomToken(32)
	}
	idToken, err := s.idToken(g, scope, nonce, access, now)
	if err != nil {
		return nil, newError(http.StatusInternalServerError, "server_error", "the ID token cannot be signed")
	}
	s.lock()
	if g.revoked { // the code was replayed meanwhile
		s.mu.Unlock()
		return nil, invalidGrant("the grant was revoked")
	}
	s.accessTokens[access] = &accessToken{grant: g, scope: scope, expires: now.Add(accessTokenLifetime), jkt: jkt}
	if refresh != "" {
		s.refreshTokens[refresh] = &refreshToken{grant: g, scope: g.scope, expires: now.Add(refreshTokenLifetime)}
	}
	s.maybeSweepLocked(now)
	s.mu.Unlock()

	tokenType := "Bearer"
	if jkt != "" {
		tokenType = "DPoP" // RFC 9449 section 5
	}
	resp := map[string]any{
		"access_token": access,
		"token_type":   tokenType,
		"expires_in":   int(accessTokenLifetime.Seconds()),
		"id_token":     idToken,
		"scope":        scope,
	}
	if refresh != "" {
		resp["refresh_token"] = refresh
	}
	return resp, nil
}

// handleUserInfo serves the userinfo endpoint (OpenID Connect Core section 5.3): the claims the
// access token's scope releases, and sub. A Bearer token comes in an "Authorization: Bearer"
// header (RFC 6750 section 2.1); a DPoP-bound token in an "Authorization: DPoP" header with a
// DPoP proof of its key for this request (RFC 9449 section 7), and never as a Bearer token.
func (s *Server) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	if !s.allowMethods(w, r, endpoint.UserInfo, http.MethodGet, http.MethodPost) {
		return
	}
	now := s.now()
	scheme, token := authorizationToken(r)
	s.lock()
	at, ok := s.accessTokens[token]
	ok = ok && !at.grant.revoked && !now.After(at.expires)
	s.mu.Unlock()
	dpopScheme := strings.EqualFold(scheme, "DPoP") && s.dpopEnabled()
	switch {
	case !ok || !dpopScheme && !strings.EqualFold(scheme, "Bearer"):
		const desc = "the access token is missing, unknown, expired or revoked"
		challenge := `Bearer error="invalid_token", error_description="` + desc + `"`
		if dpopScheme {
			challenge = dpopChallenge("invalid_token", desc)
		}
		s.refuseUserInfo(w, challenge, http.StatusUnauthorized, "invalid_token", desc)
		return
	case !dpopScheme && at.jkt != "":
		// RFC 9449 section 7.2: a DPoP-bound token is not a bearer token.
		const desc = "the access token is DPoP-bound: send it with the DPoP authorization scheme and a DPoP proof"
		s.refuseUserInfo(w, dpopChallenge("invalid_token", desc), http.StatusUnauthorized, "invalid_token", desc)
		return
	case dpopScheme && at.jkt == "":
		const desc = "the access token is a Bearer token, not DPoP-bound: send it with the Bearer scheme"
		s.refuseUserInfo(w, dpopChallenge("invalid_token", desc), http.StatusUnauthorized, "invalid_token", desc)
		return
	}
	if dpopScheme {
		jkt, present, oerr := s.checkDPoPProof(r, s.cfg.urls[endpoint.UserInfo], token, now)
		switch {
		case oerr != nil:
		case !present:
			oerr = invalidDPoPProof("a DPoP-bound access token needs a DPoP proof of its key (RFC 9449 section 7.1)")
		case jkt != at.jkt:
			oerr = invalidDPoPProof("the DPoP proof is signed with another key than the one the access token is bound to")
		}
		if oerr != nil {
			// RFC 9449 sections 7.1 and 9: a protected resource answers 401 with a challenge.
			s.refuseUserInfo(w, dpopChallenge(oerr.code, oerr.description), http.StatusUnauthorized, oerr.code, oerr.description)
			return
		}
	}
	claims := releasedClaims(at.grant.user, at.scope)
	claims["sub"] = at.grant.user.Subject
	writeJSON(w, http.StatusOK, claims)
}

// refuseUserInfo answers an error of the userinfo endpoint with its WWW-Authenticate challenge.
func (s *Server) refuseUserInfo(w http.ResponseWriter, challenge string, status int, code, description string) {
	w.Header().Set("WWW-Authenticate", challenge)
	writeOAuthError(w, newError(status, code, "%s", description))
}

// authorizationToken returns the scheme and token of an Authorization header (RFC 6750 section
// 2.1, RFC 9449 section 7.1).
func authorizationToken(r *http.Request) (scheme, token string) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || token == "" {
		return "", ""
	}
	return scheme, token
}
