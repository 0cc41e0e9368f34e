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
}

// refreshToken is an opaque refresh token, single use (rotated on every refresh).
type refreshToken struct {
	grant *grant
	scope string // the scope originally granted
}

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
	var resp map[string]any
	switch gt := params.Get("grant_type"); gt {
	case "authorization_code":
		resp, oerr = s.exchangeCode(c, params, now)
	case "refresh_token":
		resp, oerr = s.refresh(c, params, now)
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

// exchangeCode redeems an authorization code, checking PKCE (RFC 7636 section 4.6). A code
// presented a second time revokes every token issued from it.
func (s *Server) exchangeCode(c Client, params url.Values, now time.Time) (map[string]any, *oauthError) {
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
	return s.issueTokens(ac.grant, ac.grant.scope, ac.nonce, now)
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

// refresh redeems a refresh token and rotates it.
func (s *Server) refresh(c Client, params url.Values, now time.Time) (map[string]any, *oauthError) {
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
	case !s.sessionAliveLocked(rt.grant, now):
		oerr = invalidGrant("the session of the refresh_token has ended (signed off or expired)")
	default:
		if scope, oerr = refreshScope(rt.scope, params); oerr == nil {
			delete(s.refreshTokens, token)
		}
	}
	s.mu.Unlock()
	if oerr != nil {
		return nil, oerr
	}
	return s.issueTokens(rt.grant, scope, "", now)
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

// issueTokens issues an access token, an ID token and, when issuesRefreshTokens says so, a
// refresh token. scope is the scope of the access and ID tokens.
func (s *Server) issueTokens(g *grant, scope, nonce string, now time.Time) (map[string]any, *oauthError) {
	access := randomToken(32)
	refresh := ""
	if s.issuesRefreshTokens(g) {
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
	s.accessTokens[access] = &accessToken{grant: g, scope: scope, expires: now.Add(accessTokenLifetime)}
	if refresh != "" {
		s.refreshTokens[refresh] = &refreshToken{grant: g, scope: g.scope}
	}
	s.maybeSweepLocked(now)
	s.mu.Unlock()

	resp := map[string]any{
		"access_token": access,
		"token_type":   "Bearer",
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
// access token's scope releases, and sub.
func (s *Server) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	if !s.allowMethods(w, r, endpoint.UserInfo, http.MethodGet, http.MethodPost) {
		return
	}
	now := s.now()
	token, _ := bearerToken(r)
	s.lock()
	at, ok := s.accessTokens[token]
	ok = ok && !at.grant.revoked && !now.After(at.expires)
	s.mu.Unlock()
	if !ok {
		const desc = "the access token is missing, unknown, expired or revoked"
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+desc+`"`)
		writeOAuthError(w, newError(http.StatusUnauthorized, "invalid_token", desc))
		return
	}
	claims := releasedClaims(at.grant.user, at.scope)
	claims["sub"] = at.grant.user.Subject
	writeJSON(w, http.StatusOK, claims)
}

// bearerToken returns the token of an "Authorization: Bearer" header (RFC 6750 section 2.1).
func bearerToken(r *http.Request) (string, bool) {
	scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return "", false
	}
	return token, true
}
