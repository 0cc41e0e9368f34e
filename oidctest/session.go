package oidctest

import (
	"slices"
	"time"
)

// sessionLifetime is how long the provider remembers a session after its last sign-in; see
// Server.sessionLifetime for PingOne's.
const sessionLifetime = 24 * time.Hour

// session is a provider session: an authentication of a user, which signs the user in to one or
// more clients. Its ID is the sid claim of the ID tokens and logout tokens issued for it.
//
// The provider sets no cookie, so that it never interferes with the cookies of applications on
// the same host: every sign-in starts a new session, except in a client returned by Login, which
// keeps its session as a browser keeps a provider's cookie.
type session struct {
	id       string
	subject  string
	authTime time.Time
	acr      string
	amr      []string
	clients  []string // the clients signed in, for back-channel logout
	expires  time.Time
}

// authenticate signs u in for req and returns the grant of the sign-in: in the session of req's
// browser when that session is u's and has not expired, keeping its authentication unless req
// demands a new one; otherwise in a new session, after a new authentication.
func (s *Server) authenticate(req authorizationRequest, u User, now time.Time) *grant {
	s.lock()
	defer s.mu.Unlock()
	sess := s.browserSessionLocked(req.browser, u.Subject, now)
	if sess == nil {
		sess = &session{id: randomToken(16), subject: u.Subject}
		s.sessions[sess.id] = sess
		if req.browser != nil {
			req.browser.sid = sess.id
		}
	}
	if sess.authTime.IsZero() || needsAuthentication(req, sess, now) {
		sess.authTime = now
		sess.acr, sess.amr = authenticationContext(u, req)
	}
	sess.expires = now.Add(s.sessionLifetime())
	if !slices.Contains(sess.clients, req.clientID) {
		sess.clients = append(sess.clients, req.clientID)
	}
	if req.browser != nil {
		req.browser.signIns++
	}
	s.maybeSweepLocked(now)
	return &grant{
		clientID: req.clientID,
		user:     u,
		scope:    req.scope,
		authTime: sess.authTime,
		acr:      sess.acr,
		amr:      slices.Clone(sess.amr),
		sid:      sess.id,
	}
}

// canSignInSilently reports whether req can be answered without asking the user to sign in:
// its browser has a live session that satisfies req.
func (s *Server) canSignInSilently(req authorizationRequest, now time.Time) bool {
	if req.browser == nil {
		return false
	}
	s.lock()
	defer s.mu.Unlock()
	sess := s.browserSessionLocked(req.browser, req.browser.subject, now)
	return sess != nil && !needsAuthentication(req, sess, now)
}

// browserSessionLocked returns the live session of b for subject, or nil. s.mu must be held.
func (s *Server) browserSessionLocked(b *browser, subject string, now time.Time) *session {
	if b == nil {
		return nil
	}
	sess, ok := s.sessions[b.sid]
	if !ok || sess.subject != subject || now.After(sess.expires) {
		return nil
	}
	return sess
}

// needsAuthentication reports whether req demands a new authentication from a user signed in
// in sess: prompt=login, a max_age that has passed since sess's authentication (max_age=0
// always has; OpenID Connect Core section 3.1.2.1), or acr_values that sess's acr is not one
// of (a step-up, RFC 9470).
func needsAuthentication(req authorizationRequest, sess *session, now time.Time) bool {
	switch {
	case slices.Contains(req.prompt, "login"):
		return true
	case req.maxAge == 0:
		return true
	case req.maxAge > 0 && now.Unix()-sess.authTime.Unix() > req.maxAge:
		return true
	case len(req.acrValues) > 0 && !slices.Contains(req.acrValues, sess.acr):
		return true
	}
	return false
}
