package oidctest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// backchannelLogoutEvent is the member of the events claim that makes a JWT a logout token.
const backchannelLogoutEvent = "http://schemas.openid.net/event/backchannel-logout"

// logoutTokenLifetime is how long a logout token is valid.
const logoutTokenLifetime = 2 * time.Minute

// BackchannelLogoutError is a logout token that a client did not accept: its back-channel
// logout URI answered something other than 2xx (OpenID Connect Back-Channel Logout 1.0 section
// 2.8). Redirects are not followed, so a 3xx is reported too.
type BackchannelLogoutError struct {
	ClientID   string
	URI        string // the client's BackchannelLogoutURI
	StatusCode int
	Location   string // of a redirect, such as a login page in front of the back-channel route
	Body       string // an excerpt of the answer, as text
}

func (e *BackchannelLogoutError) Error() string {
	status := strconv.Itoa(e.StatusCode)
	if e.Location != "" {
		status += " (a redirect to " + e.Location + ")"
	}
	return fmt.Sprintf("oidctest: back-channel logout of client %s: %s answered %s: %s", e.ClientID, e.URI, status, e.Body)
}

// SetLogoutTokenHook sets a function that edits the claims of every logout token before it is
// signed, for negative tests (add a nonce, delete events or sid and sub, change aud or iss,
// expire it…). nil removes it. The times iat and exp are int64 Unix seconds; aud is the client ID
// as a string; events is a map[string]any. The hook is called without holding any lock of the
// server.
func (s *Server) SetLogoutTokenHook(hook func(claims map[string]any)) {
	s.lock()
	s.logoutTokenHook = hook
	s.mu.Unlock()
}

// SetLogoutTokenSigner replaces the signing of logout tokens: it receives the final claims and
// returns the raw token to send (for forged tokens: another alg or typ, alg none, an unknown
// kid). nil restores normal signing: with the current key of the client's ID token alg
// ([Client.IDTokenAlg], RS256 by default), header typ "logout+jwt". The
// signer is called after the hook, without holding any lock of the server.
func (s *Server) SetLogoutTokenSigner(signer func(claims map[string]any) string) {
	s.lock()
	s.logoutTokenSigner = signer
	s.mu.Unlock()
}

// BackchannelLogout sends a logout token for the user subject, or the session sid, or both
// (one may be empty, not both) to the BackchannelLogoutURI of the client clientID (OpenID
// Connect Back-Channel Logout 1.0), as the provider does when a user signs out at the
// end-session endpoint. Tests use it to check that their application ends the session.
//
// The token is a JWT signed like the client's ID tokens, header typ "logout+jwt", with the claims
// iss, aud (the client ID), iat, exp (two minutes later), a unique jti, events
// {"http://schemas.openid.net/event/backchannel-logout": {}}, and sub and sid when given; see
// [Server.SetLogoutTokenHook] to forge it. It is posted as the form field logout_token with
// [Server.HTTPClient], without following redirects. An answer other than 2xx is returned as a
// [*BackchannelLogoutError].
func (s *Server) BackchannelLogout(ctx context.Context, clientID, subject, sid string) error {
	if subject == "" && sid == "" {
		return errors.New("oidctest: BackchannelLogout needs a subject, a sid or both")
	}
	c, ok := s.client(clientID)
	if !ok {
		return fmt.Errorf("oidctest: BackchannelLogout: %q is not a registered client", clientID)
	}
	if c.BackchannelLogoutURI == "" {
		return fmt.Errorf("oidctest: BackchannelLogout: client %s has no BackchannelLogoutURI", clientID)
	}
	token, err := s.logoutToken(clientID, subject, sid, s.now())
	if err != nil {
		return fmt.Errorf("oidctest: BackchannelLogout: %w", err)
	}
	return s.postLogoutToken(ctx, c, token)
}

// logoutToken builds, edits and signs a logout token.
func (s *Server) logoutToken(clientID, subject, sid string, now time.Time) (string, error) {
	claims := map[string]any{
		"iss":    s.cfg.issuer,
		"aud":    clientID,
		"iat":    now.Unix(),
		"exp":    now.Add(logoutTokenLifetime).Unix(),
		"jti":    randomToken(16),
		"events": map[string]any{backchannelLogoutEvent: map[string]any{}},
	}
	if subject != "" {
		claims["sub"] = subject
	}
	if sid != "" {
		claims["sid"] = sid
	}
	s.lock()
	hook, signer := s.logoutTokenHook, s.logoutTokenSigner
	s.mu.Unlock()
	if hook != nil {
		hook(claims)
	}
	if signer != nil {
		return signer(claims), nil
	}
	// OpenID Connect Back-Channel Logout 1.0 section 2.4: typ "logout+jwt", and "the same keys
	// are used to sign ... Logout Tokens as are used for ID Tokens"; the client validates them
	// "in the same way that an ID Token signature is validated" (section 2.6), so with the
	// client's ID token alg.
	return s.signJWT(s.idTokenAlg(clientID), "logout+jwt", claims)
}

// postLogoutToken sends a logout token to c's back-channel logout URI.
func (s *Server) postLogoutToken(ctx context.Context, c Client, token string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BackchannelLogoutURI, strings.NewReader(url.Values{"logout_token": {token}}.Encode()))
	if err != nil {
		return fmt.Errorf("oidctest: back-channel logout of client %s: %w", c.ID, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	s.lock()
	client := s.httpClient
	s.mu.Unlock()
	if client == nil {
		return errors.New("oidctest: back-channel logout: the server is not started")
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("oidctest: back-channel logout of client %s: %w", c.ID, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &BackchannelLogoutError{
			ClientID:   c.ID,
			URI:        c.BackchannelLogoutURI,
			StatusCode: resp.StatusCode,
			Location:   resp.Header.Get("Location"),
			Body:       excerpt(body),
		}
	}
	return nil
}

// endSession ends the provider session sid of subject, if the provider knows it, and sends a
// logout token to every client that the session signed in to and that has a back-channel
// logout URI, all at once. It returns when they have answered, so that the applications have
// ended their sessions by the time the browser leaves the end-session endpoint. Their errors
// are not reported: a user who signs out is signed out whatever the clients answer
// (BackchannelLogout reports them).
func (s *Server) endSession(ctx context.Context, subject, sid string, now time.Time) {
	s.lock()
	sess, ok := s.sessions[sid]
	if !ok || sess.subject != subject {
		s.mu.Unlock()
		return
	}
	delete(s.sessions, sid)
	s.mu.Unlock()

	ctx = context.WithoutCancel(ctx) // deliver even if the browser goes away
	var wg sync.WaitGroup
	for _, id := range sess.clients {
		c, ok := s.client(id)
		if !ok || c.BackchannelLogoutURI == "" {
			continue
		}
		wg.Go(func() {
			if token, err := s.logoutToken(c.ID, sess.subject, sess.id, now); err == nil {
				// A client that did not accept it is not the browser's business: the end-session
				// endpoint answers all the same, as providers do (BackchannelLogout reports it).
				_ = s.postLogoutToken(ctx, c, token)
			}
		})
	}
	wg.Wait()
}
