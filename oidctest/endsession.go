package oidctest

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/parlogin/parlogin/internal/endpoint"
)

// handleEndSession serves RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0). It
// redirects to a registered post_logout_redirect_uri, or shows a "Signed out" page. When
// id_token_hint names a session the provider knows (its sid), that session ends, and the clients
// it signed in to get a logout token (OpenID Connect Back-Channel Logout 1.0) first.
func (s *Server) handleEndSession(w http.ResponseWriter, r *http.Request, params url.Values) {
	if !s.allowMethods(w, r, endpoint.EndSession, http.MethodGet, http.MethodPost) {
		return
	}
	if name, ok := repeatedParam(params); ok {
		s.errorPage(w, http.StatusBadRequest, "invalid_request", "parameter "+printable(name)+" is repeated")
		return
	}
	if s.cfg.pingOne {
		s.handleSignoff(w, r, params)
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
	c, ok := s.browserClient(w, clientID)
	if !ok {
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
	http.Redirect(w, r, u.String(), http.StatusSeeOther) //nolint:gosec // G710: a post_logout_redirect_uri registered exactly
}

// maxSignoffRedirect bounds post_logout_redirect_uri and state together at PingOne's /signoff:
// "For the user to be redirected successfully, post_logout_redirect_uri and state must have a
// combined value of less than 8192 characters."
// https://developer.pingidentity.com/pingone-api/auth/openid-connect-oauth-2/signoff.html
const maxSignoffRedirect = 8192

// handleSignoff serves PingOne's end-session endpoint, GET or POST {issuer}/signoff, as
// "Signoff" and "Signoff (POST)" document it
// (https://developer.pingidentity.com/pingone-api/auth/openid-connect-oauth-2/signoff.html):
//
//   - id_token_hint, post_logout_redirect_uri and state are all optional; client_id is not a
//     parameter of /signoff and is ignored.
//   - id_token_hint must be signed by this provider, name an existing application in aud, and
//     have this issuer as iss; it "can be used even if it has expired". It ends its session.
//   - post_logout_redirect_uri must be one of the postLogoutRedirectUris of the hint's
//     application; without a hint, "if post_logout_redirect_uri is specified, and it does not
//     match one of the postLogoutRedirectUri values of any enabled application in the
//     specified environment, this condition is handled as an un-redirectable error" (an
//     earlier text of the same page, in a copy of PingOne's Postman documentation:
//     https://developers.qodex.ai/pingone/pingone-platform-api-with-documentation/authorization-and-authentication-apis-openid-connect-oauth-2-1/signoff-1).
//   - The answer is 302 Found, to post_logout_redirect_uri with state, or to PingOne's
//     signed-off page (https://apps.pingone.com/{envID}/signon/#signedOff, "Signoff (POST)"),
//     which this provider serves at {URL}/{EnvID}/signon/.
//
// Not documented: the form of an un-redirectable error; it is an error page with status 400,
// like the provider's other front-channel errors.
func (s *Server) handleSignoff(w http.ResponseWriter, r *http.Request, params url.Values) {
	var hint idTokenHint
	if raw := params.Get("id_token_hint"); raw != "" {
		var err error
		if hint, err = s.parseIDTokenHint(raw); err != nil {
			s.errorPage(w, http.StatusBadRequest, "invalid_request", "id_token_hint "+err.Error())
			return
		}
		if _, ok := s.client(hint.clientID); !ok {
			s.errorPage(w, http.StatusBadRequest, "invalid_request", "id_token_hint was not issued to a registered application")
			return
		}
	}
	target := s.cfg.signedOffURL
	if redirect := params.Get("post_logout_redirect_uri"); redirect != "" {
		if !s.postLogoutRedirectRegistered(hint.clientID, redirect) {
			desc := "post_logout_redirect_uri is not registered for any application"
			if hint.clientID != "" {
				desc = "post_logout_redirect_uri is not registered for the application of id_token_hint"
			}
			s.errorPage(w, http.StatusBadRequest, "invalid_request", desc)
			return
		}
		state := params.Get("state")
		if len(redirect)+len(state) >= maxSignoffRedirect {
			s.errorPage(w, http.StatusBadRequest, "invalid_request", "post_logout_redirect_uri and state must be shorter than 8192 characters together")
			return
		}
		u, err := url.Parse(redirect)
		if err != nil {
			s.errorPage(w, http.StatusBadRequest, "invalid_request", "the post_logout_redirect_uri registered for the application is not a valid URL")
			return
		}
		if state != "" {
			q := u.Query()
			q.Set("state", state)
			u.RawQuery = q.Encode()
		}
		target = u.String()
	}
	s.endSession(r.Context(), hint.subject, hint.sid, s.now())
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, target, http.StatusFound) //nolint:gosec // G710: a registered post_logout_redirect_uri, or the provider's own page
}

// postLogoutRedirectRegistered reports whether uri is a registered post-logout redirect URI of
// the client clientID, or of any client when clientID is empty.
func (s *Server) postLogoutRedirectRegistered(clientID, uri string) bool {
	s.lock()
	defer s.mu.Unlock()
	if clientID != "" {
		return slices.Contains(s.clients[clientID].PostLogoutRedirectURIs, uri)
	}
	for _, c := range s.clients {
		if slices.Contains(c.PostLogoutRedirectURIs, uri) {
			return true
		}
	}
	return false
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
	if err := verifyIDTokenSignature(t, s.verificationKeys()); err != nil {
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
