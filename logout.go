package parlogin

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// Logout signs the user out: mount it at a POST route and post to it from a form. It refuses other
// methods and cross-origin requests (checked by [http.CrossOriginProtection] from Sec-Fetch-Site
// and Origin), deletes the session, and sends the browser to the provider's end_session_endpoint
// when it has one (OpenID Connect RP-Initiated Logout 1.0), with client_id, the ID token as
// id_token_hint when Config.SaveTokens kept it, and Config.PostLogoutRedirectURL (without a state:
// there is nothing to check when the user comes back from signing out).
// Without an end_session_endpoint it redirects to Config.PostLogoutRedirectURL, or "/".
//
// The session ends on every replica (see [Shared]), and a refresh in flight cannot bring it back.
// When the session kept a refresh token and the provider has a revocation_endpoint, the refresh
// token is revoked there (RFC 7009), so that a copy of it is worthless too.
func (m *Middleware) Logout(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		m.fail(w, r, ErrMethodNotAllowed)
		return
	}
	if err := m.origins.Check(r); err != nil {
		m.fail(w, r, fmt.Errorf("%w: %w", ErrCrossOrigin, err))
		return
	}
	var idToken string
	rec, d, err := m.sessions.loadRecord(r)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	if d != nil {
		idToken = d.IDToken
	}
	if rec != nil { // expired or unreadable sessions are deleted all the same
		cookie, _ := r.Cookie(m.cfg.SessionName)
		if err := m.sessions.end(r.Context(), w, r, cookie.Value, rec, d); err != nil {
			m.fail(w, r, err)
			return
		}
	}
	if d != nil {
		m.emit(r.Context(), Event{Kind: EventLogout, Subject: d.Subject})
		if d.RefreshToken != "" {
			m.revoke(r.Context(), d.RefreshToken)
		}
	}
	noStore(w)
	http.Redirect(w, r, m.logoutURL(r.Context(), idToken), http.StatusSeeOther)
}

// logoutURL is where the browser goes after the session is deleted: the provider's
// end_session_endpoint when it has one (and can be reached for discovery), else the app's page.
func (m *Middleware) logoutURL(ctx context.Context, idToken string) string {
	op, err := m.provider(ctx)
	if err != nil || op.endSessionURL == "" {
		return cmp.Or(m.cfg.PostLogoutRedirectURL, "/")
	}
	u, err := url.Parse(op.endSessionURL)
	if err != nil {
		return cmp.Or(m.cfg.PostLogoutRedirectURL, "/")
	}
	q := u.Query()
	q.Set("client_id", m.cfg.ClientID)
	if idToken != "" {
		q.Set("id_token_hint", idToken)
	}
	if m.cfg.PostLogoutRedirectURL != "" {
		q.Set("post_logout_redirect_uri", m.cfg.PostLogoutRedirectURL)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// revoke revokes refreshToken at the provider's revocation endpoint (RFC 7009 §2.1), which also
// revokes the access tokens of its grant at most providers, authenticated with a client assertion.
// A failure is logged, not reported: the session has ended in any case.
func (m *Middleware) revoke(ctx context.Context, refreshToken string) {
	ctx, cancel := context.WithTimeout(ctx, m.timeout)
	defer cancel()
	op, err := m.provider(ctx)
	if err != nil || op.revocationURL == "" {
		return
	}
	err = m.withClientAuth(ctx, func(key signingKey) error {
		assertion, err := m.signer.assertion(key, op.revocationURL)
		if err != nil {
			return fmt.Errorf("parlogin: signing client assertion: %w", err)
		}
		status, body, err := m.post(ctx, EndpointRevocation, op.revocationURL, url.Values{
			"token":                 {refreshToken},
			"token_type_hint":       {"refresh_token"},
			"client_id":             {m.cfg.ClientID},
			"client_assertion_type": {clientAssertionType},
			"client_assertion":      {assertion},
		})
		if err == nil && status != http.StatusOK {
			err = jsonOAuthError(EndpointRevocation, status, body)
		}
		return err
	})
	if err != nil {
		m.cfg.Logger.WarnContext(ctx, "parlogin: revoking the refresh token at logout failed", "error", err)
	}
}
