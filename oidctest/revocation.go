package oidctest

import (
	"net/http"
	"net/url"
	"time"

	"github.com/parlogin/parlogin/internal/endpoint"
)

// handleRevocation serves the token revocation endpoint (RFC 7009). The client authenticates as
// at the token endpoint. Revoking a refresh token revokes its grant: the refresh token and every
// access token issued with it (RFC 7009 section 2.1 says the server SHOULD). Revoking an access
// token revokes that token only.
//
// The answer follows RFC 7009 section 2.2: 200 with an empty body when the token was revoked
// and when it is invalid (unknown, expired, already revoked), since the client cannot act on
// such an error and the token no longer works anyway. A valid token issued to another client is
// refused and left alone: section 2.1 says the server verifies "whether the token was issued to
// the client making the revocation request. If this validation fails, the request is refused",
// with an error of RFC 6749 section 5.2, whose invalid_grant covers a grant "issued to another
// client".
//
// In PingOne mode the path is PingOne's, {issuer}/revoke, and only tokens for a custom resource
// are revoked (see revocable).
func (s *Server) handleRevocation(w http.ResponseWriter, r *http.Request, params url.Values) {
	if !s.allowMethods(w, r, endpoint.Revocation, http.MethodPost) {
		return
	}
	if oerr := checkFormPost(r, params); oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	now := s.now()
	c, oerr := s.authenticateClient(r, params, s.cfg.urls[endpoint.Revocation], now)
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	token := params.Get("token")
	if token == "" {
		writeOAuthError(w, invalidRequest("token is required"))
		return
	}
	// token_type_hint is not read: RFC 7009 section 2.1 lets the server ignore it, and both kinds
	// of token are looked up in memory. So an unknown hint is ignored too (section 2.2).
	if oerr := s.revoke(c, token, now); oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
}

// revoke revokes token, an access or refresh token of client c, if it is still valid.
func (s *Server) revoke(c Client, token string, now time.Time) *oauthError {
	s.lock()
	defer s.mu.Unlock()
	if at, ok := s.accessTokens[token]; ok && !at.grant.revoked && !now.After(at.expires) {
		if at.grant.clientID != c.ID {
			return invalidGrant("the token was issued to another client")
		}
		if s.revocable(at.scope) {
			delete(s.accessTokens, token)
		}
		return nil
	}
	if rt, ok := s.refreshTokens[token]; ok && !rt.grant.revoked {
		if rt.grant.clientID != c.ID {
			return invalidGrant("the token was issued to another client")
		}
		if s.revocable(rt.scope) {
			rt.grant.revoked = true
			delete(s.refreshTokens, token)
		}
	}
	return nil
}
