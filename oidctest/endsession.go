package oidctest

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
)

// handleEndSession serves RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0). It
// redirects to a registered post_logout_redirect_uri, or shows a "Signed out" page.
func (s *Server) handleEndSession(w http.ResponseWriter, r *http.Request, params url.Values) {
	if !s.allowMethods(w, r, EndSession, http.MethodGet, http.MethodPost) {
		return
	}
	if name, ok := repeatedParam(params); ok {
		s.errorPage(w, http.StatusBadRequest, "invalid_request", "parameter "+printable(name)+" is repeated")
		return
	}
	clientID := params.Get("client_id")
	if hint := params.Get("id_token_hint"); hint != "" {
		aud, err := s.idTokenHintClient(hint)
		if err != nil {
			s.errorPage(w, http.StatusBadRequest, "invalid_request", "id_token_hint "+err.Error())
			return
		}
		if clientID != "" && clientID != aud {
			s.errorPage(w, http.StatusBadRequest, "invalid_request", "client_id does not match the audience of id_token_hint")
			return
		}
		clientID = aud
	}
	redirect := params.Get("post_logout_redirect_uri")
	if redirect == "" {
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
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}

// idTokenHintClient verifies an ID token this provider issued, expired or not, and returns the
// client it was issued to.
func (s *Server) idTokenHintClient(hint string) (string, error) {
	t, err := parseJWS(hint)
	if err != nil {
		return "", err
	}
	if err := verifyRS256(t, s.verificationKeys()); err != nil {
		return "", err
	}
	if iss, err := stringClaim(t.claims, "iss"); err != nil || iss != s.cfg.issuer {
		return "", errors.New("was not issued by this provider")
	}
	aud, err := audienceClaim(t.claims)
	if err != nil {
		return "", err
	}
	if len(aud) == 1 {
		return aud[0], nil
	}
	if azp, err := stringClaim(t.claims, "azp"); err == nil && slices.Contains(aud, azp) {
		return azp, nil
	}
	return "", errors.New("does not name one client in aud (or azp)")
}
