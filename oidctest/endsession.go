package oidctest

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
)

// handleEndSession serves RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0). It
// redirects to a registered post_logout_redirect_uri, or shows a "Signed out" page. When
// id_token_hint names a session the provider knows (its sid), that session ends, and the clients
// it signed in to get a logout token (OpenID Connect Back-Channel Logout 1.0) first.
func (s *Server) handleEndSession(w http.ResponseWriter, r *http.Request, params url.Values) {
	if !s.allowMethods(w, r, EndSession, http.MethodGet, http.MethodPost) {
		return
	}
	if name, ok := repeatedParam(params); ok {
		s.errorPage(w, http.StatusBadRequest, "invalid_request", "parameter "+printable(name)+" is repeated")
		return
	}
	clientID := params.Get("client_id")
	var hint idTokenHint
	if raw := params.Get("id_token_hint"); raw != "" {
		var err error
		if hint, err = s.parseIDTokenHint(raw); err != nil {
			s.errorPage(w, http.StatusBadRequest, "invalid_request", "id_token_hint "+err.Error())
			return
		}
		if clientID != "" && clientID != hint.clientID {
			s.errorPage(w, http.StatusBadRequest, "invalid_request", "client_id does not match the audience of id_token_hint")
			return
		}
		clientID = hint.clientID
	}
	redirect := params.Get("post_logout_redirect_uri")
	if redirect == "" {
		s.endSession(r.Context(), hint.subject, hint.sid, s.now())
		s.signedOutPage(w)
		return
	}
	if clientID == "" {
		s.errorPage(w, http.StatusBadRequest, "invalid_request", "post_logout_redirect_uri needs client_id or id_token_hint to identify the client")
		return
	}
	c, ok := s.client(clientID)
	if !ok {
		s.errorPage(w, http.StatusBadRequest, "invalid_client", "client_id is not a registered client")
		return
	}
	if !slices.Contains(c.PostLogoutRedirectURIs, redirect) {
		s.errorPage(w, http.StatusBadRequest, "invalid_request", "post_logout_redirect_uri is not registered for the client (exact match)")
		return
	}
	u, err := url.Parse(redirect)
	if err != nil {
		s.errorPage(w, http.StatusBadRequest, "invalid_request", "the post_logout_redirect_uri registered for the client is not a valid URL")
		return
	}
	if state := params.Get("state"); state != "" {
		q := u.Query()
		q.Set("state", state)
		u.RawQuery = q.Encode()
	}
	s.endSession(r.Context(), hint.subject, hint.sid, s.now())
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// idTokenHint is what the provider uses of an id_token_hint.
type idTokenHint struct {
	clientID     string
	subject, sid string // "" when absent
}

// parseIDTokenHint verifies an ID token this provider issued, expired or not, and returns the
// client it was issued to, its subject and its session.
func (s *Server) parseIDTokenHint(raw string) (idTokenHint, error) {
	t, err := parseJWS(raw)
	if err != nil {
		return idTokenHint{}, err
	}
	if err := verifyRS256(t, s.verificationKeys()); err != nil {
		return idTokenHint{}, err
	}
	if iss, err := stringClaim(t.claims, "iss"); err != nil || iss != s.cfg.issuer {
		return idTokenHint{}, errors.New("was not issued by this provider")
	}
	aud, err := audienceClaim(t.claims)
	if err != nil {
		return idTokenHint{}, err
	}
	var h idTokenHint
	if h.subject, err = stringClaim(t.claims, "sub"); err != nil {
		return idTokenHint{}, err
	}
	if h.sid, err = stringClaim(t.claims, "sid"); err != nil {
		return idTokenHint{}, err
	}
	if len(aud) == 1 {
		h.clientID = aud[0]
		return h, nil
	}
	if azp, err := stringClaim(t.claims, "azp"); err == nil && slices.Contains(aud, azp) {
		h.clientID = azp
		return h, nil
	}
	return idTokenHint{}, errors.New("does not name one client in aud (or azp)")
}
