package parlogin

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/textproto"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"golang.org/x/oauth2"
)

// sessionData is what a session holds: the identity from the ID token and, with
// Config.SaveTokens, the tokens. It is stored as one compact JSON string, so that any
// gorilla/sessions store and codec can hold it without type registration.
type sessionData struct {
	ID       string          `json:"id"`  // random: names the session in revocations
	Issuer   string          `json:"iss"` // the provider, and
	Client   string          `json:"aud"` // the client it was made for: a session is good for one app only
	Subject  string          `json:"sub"`
	SID      string          `json:"sid,omitempty"` // the provider's session ("sid"), for back-channel logout
	Created  int64           `json:"ct"`            // Unix milliseconds
	AuthTime int64           `json:"at,omitempty"`
	ACR      string          `json:"acr,omitempty"`
	AMR      []string        `json:"amr,omitempty"`
	Expiry   int64           `json:"exp"`
	Claims   json.RawMessage `json:"c,omitempty"`

	IDToken      string `json:"idt,omitempty"`
	AccessToken  string `json:"act,omitempty"`
	TokenType    string `json:"tt,omitempty"`
	RefreshToken string `json:"rt,omitempty"`
	TokenExpiry  int64  `json:"te,omitempty"`
	DPoPKey      string `json:"dk,omitempty"` // the key the tokens are bound to (Config.DPoP)
}

// user returns the user of the session, with an AMR of its own, in amr's array when it fits: d
// may be cached and shared by concurrent requests, and a handler may sort or edit its user's AMR.
func (d *sessionData) user(expires time.Time, amr []string) User {
	u := User{Subject: d.Subject, Issuer: d.Issuer, ACR: d.ACR, Expiry: expires, claims: d.Claims, client: d.Client}
	if len(d.AMR) > 0 {
		u.AMR = append(amr[:0], d.AMR...)
	}
	if d.AuthTime != 0 {
		u.AuthTime = time.Unix(d.AuthTime, 0)
	}
	return u
}

func (d *sessionData) token() *oauth2.Token {
	t := &oauth2.Token{AccessToken: d.AccessToken, TokenType: d.TokenType, RefreshToken: d.RefreshToken}
	if d.TokenExpiry != 0 {
		t.Expiry = time.Unix(d.TokenExpiry, 0)
	}
	if d.IDToken != "" {
		t = t.WithExtra(map[string]any{"id_token": d.IDToken})
	}
	return t
}

func (d *sessionData) setToken(t *oauth2.Token) {
	d.AccessToken, d.TokenType = t.AccessToken, t.TokenType
	if t.RefreshToken != "" {
		d.RefreshToken = t.RefreshToken
	}
	d.TokenExpiry = 0
	if !t.Expiry.IsZero() {
		d.TokenExpiry = t.Expiry.Unix()
	}
	if idt, ok := t.Extra("id_token").(string); ok && idt != "" {
		d.IDToken = idt
	}
}

// revocationKeys are the keys under which a revocation of d is recorded (see revocation.key).
func (d *sessionData) revocationKeys() []string {
	keys := []string{revokeSession + "\x00" + d.ID, revokeSubject + "\x00" + d.Issuer + "\x00" + d.Subject}
	if d.SID != "" {
		keys = append(keys, revokeSID+"\x00"+d.Issuer+"\x00"+d.SID)
	}
	return keys
}

// session is a signed-in user's session, as read from a request. One served from the cache is
// shared by every request that sends its cookie: nothing modifies a session.
type session struct {
	data    *sessionData
	expires time.Time // the earlier of the session's expiry and the store's
	key     string    // the cookie value it was read from: its key in the cache
	rec     *record   // its record in the store; nil when served from the cache
}

func (s *session) user() *User {
	u := s.data.user(s.expires, nil)
	return &u
}

// withUser returns r with the user of s in its context, and that user.
func (s *session) withUser(r *http.Request) (*http.Request, *User) {
	sr := &signedInRequest{ctx: userContext{Context: r.Context()}}
	sr.ctx.user = s.data.user(s.expires, sr.ctx.amr[:])
	// WithContext is inlined and its copy of r only copied from, so it stays on the stack.
	sr.req = *r.WithContext(&sr.ctx)
	return &sr.req, &sr.ctx.user
}

// serverSideCacheTTL is how long a session read from a server-side store is served from memory
// without reading the store again: the bound on how long a record deleted there by something
// other than parlogin goes on being honoured. parlogin's own logouts reach every replica through
// the revocations, which are current within revocationsStale.
const serverSideCacheTTL = time.Second

// errSessionEnded means that a session ended while a request was using it, such as a logout
// during a refresh: it must not be saved again.
var errSessionEnded = errors.New("the session has ended")

// sessionManager owns the sessions of signed-in users: it alone reads their cookie, once per
// request, and from that one value serves the session from its cache or decodes it from the store,
// checks its expiry (its own, and a cookie store's), its issuer and client, and whether it was
// ended early on any replica; and it writes sessions back, starts and ends them.
type sessionManager struct {
	name     string
	store    store
	cache    *sessionCache
	revoked  *revocations
	issuer   string
	clientID string
	secure   bool
	now      func() time.Time
	// cookieMaxAge is a CookieStore's own limit on the age of its cookies (its MaxAge), which its
	// codecs enforce when decoding; zero for no limit, or a server-side store.
	cookieMaxAge time.Duration
	serverSide   bool
}

func newSessionManager(c Config, st store, secure bool, revoked *revocations) *sessionManager {
	s := &sessionManager{
		name:     c.SessionName,
		store:    st,
		cache:    newSessionCache(),
		revoked:  revoked,
		issuer:   c.Issuer,
		clientID: c.ClientID,
		secure:   secure,
		now:      c.Now,
	}
	if cs, ok := c.Store.(*sessions.CookieStore); ok {
		if cs.Options != nil && cs.Options.MaxAge > 0 {
			s.cookieMaxAge = time.Duration(cs.Options.MaxAge) * time.Second
		}
	} else {
		s.serverSide = true
	}
	return s
}

// load returns the session of r, or nil when r has none that is live. An error means the store or
// the shared state failed: whether r has a session is unknown. With fresh, the store is read even
// when the session is cached, for its latest tokens.
func (s *sessionManager) load(r *http.Request, fresh bool) (*session, error) {
	raw, ok, few := cookieAsSent(r, s.name)
	if !ok {
		return nil, nil // no cookie, no session: spare the store a lookup
	}
	if err := s.revoked.current(r.Context()); err != nil {
		return nil, err
	}
	now := s.now()
	if !fresh && few {
		// The cookie as sent, not parsed: Go checks each byte of a parsed value (a quarter of a
		// signed-in request's time), and a raw value equal to a cache key, which came from
		// r.Cookie, is the value that r.Cookie returns.
		if e, ok := s.cache.get(raw, now); ok {
			if s.revoked.ends(e.data) {
				return nil, nil
			}
			return &e.session, nil
		}
	}
	cookie, err := r.Cookie(s.name)
	if err != nil {
		return nil, nil // no valid cookie of that name
	}
	value := cookie.Value // the one value that both the cache and the store see
	rec, ok, err := s.store.load(r, s.name, value)
	if err != nil {
		return nil, fmt.Errorf("%w: reading the session: %w", ErrSessionStore, err)
	}
	if !ok {
		return nil, nil
	}
	d, expires, ok := s.decode(rec, now)
	if !ok || s.revoked.ends(d) {
		return nil, nil
	}
	cacheUntil := expires
	if s.serverSide {
		cacheUntil = minTime(expires, now.Add(serverSideCacheTTL))
	}
	s.cache.put(value, d, expires, cacheUntil)
	return &session{data: d, expires: expires, key: value, rec: rec}, nil
}

// loadRecord returns the record of r's session cookie whatever it holds, for a logout: nil when r
// has no such cookie.
func (s *sessionManager) loadRecord(r *http.Request) (*record, *sessionData, error) {
	cookie, err := r.Cookie(s.name)
	if err != nil {
		return nil, nil, nil
	}
	rec, ok, err := s.store.load(r, s.name, cookie.Value)
	if err != nil {
		return rec, nil, fmt.Errorf("%w: reading the session: %w", ErrSessionStore, err)
	}
	if !ok {
		return rec, nil, nil
	}
	d, _, ok := s.decode(rec, s.now())
	if !ok {
		return rec, nil, nil
	}
	return rec, d, nil
}

// decode decodes the session data of rec and reports whether it is a live session of this app,
// and until when.
func (s *sessionManager) decode(rec *record, now time.Time) (*sessionData, time.Time, bool) {
	d, ok := decodeSession(rec.value, s.issuer, s.clientID)
	if !ok {
		return nil, time.Time{}, false
	}
	expires := time.Unix(d.Expiry, 0)
	if s.cookieMaxAge > 0 {
		// The codecs checked the cookie's age against the real time; parlogin's clock decides the
		// rest of the session's life, and so also this.
		expires = minTime(expires, rec.issued.Add(s.cookieMaxAge))
	}
	return d, expires, now.Before(expires)
}

// decodeSession decodes the data of a session and reports whether it is a session of this app:
// made for the issuer and the client.
func decodeSession(raw, issuer, clientID string) (*sessionData, bool) {
	var d sessionData
	if err := json.Unmarshal([]byte(raw), &d); err != nil ||
		d.ID == "" || d.Subject == "" || d.Issuer != issuer || d.Client != clientID {
		return nil, false
	}
	return &d, true
}

// start replaces the session of r by a fresh one holding d: a session identifier planted before
// login is never promoted to an authenticated one (session fixation).
func (s *sessionManager) start(w http.ResponseWriter, r *http.Request, d *sessionData) error {
	if cookie, err := r.Cookie(s.name); err == nil {
		s.cache.forget(cookie.Value)
		if old, _, _ := s.store.load(r, s.name, cookie.Value); old != nil && old.session != nil && old.session.ID != "" {
			// A server-side store: delete the old record too, not only the cookie.
			_ = s.store.remove(w, r, old, s.options(-1))
		}
	}
	d.ID = rand.Text()
	d.Client = s.clientID
	d.Created = s.now().UnixMilli()
	return s.write(w, r, &record{name: s.name}, d)
}

// save writes d, an update of the session sess, unless the session ended meanwhile on any
// replica: a refresh finishing after a logout must not sign the user in again.
func (s *sessionManager) save(ctx context.Context, w http.ResponseWriter, r *http.Request, sess *session, d *sessionData) error {
	if err := s.revoked.current(ctx); err != nil {
		return err
	}
	if s.revoked.ends(d) {
		return errSessionEnded
	}
	s.cache.forget(sess.key)
	err := s.write(w, r, sess.rec, d)
	if err != nil && s.serverSide {
		// A store that refuses to update a record deleted meanwhile (a logout on another replica,
		// which this one has not read of yet) must not be taken for one that failed.
		if _, ok, loadErr := s.store.load(r, s.name, sess.key); loadErr == nil && !ok {
			return errSessionEnded
		}
	}
	return err
}

func (s *sessionManager) write(w http.ResponseWriter, r *http.Request, rec *record, d *sessionData) error {
	b, err := json.Marshal(d) //nolint:gosec // G117: sessions keep tokens by design (SaveTokens), encrypted or server-side
	if err != nil {
		return err
	}
	rec.value = string(b)
	opts := s.options(max(1, int(time.Unix(d.Expiry, 0).Sub(s.now())/time.Second)))
	if _, err := s.store.save(w, r, rec, opts); err != nil {
		hint := ""
		if d.AccessToken != "" && !s.serverSide {
			hint = " (tokens may not fit in a cookie store: use a server-side store or turn off SaveTokens)"
		}
		return fmt.Errorf("%w: saving the session%s: %w", ErrSessionStore, hint, err)
	}
	return nil
}

// end ends the session of rec (d, if it could be read): on every replica, and in the store.
func (s *sessionManager) end(ctx context.Context, w http.ResponseWriter, r *http.Request, key string, rec *record, d *sessionData) error {
	s.cache.forget(key)
	var err error
	if d != nil {
		err = s.revoked.publish(ctx, revocation{
			Kind:   revokeSession,
			Value:  d.ID,
			Before: time.Unix(d.Expiry, 0).UnixMilli(),
			Until:  d.Expiry,
		})
	}
	if rec != nil {
		if rmErr := s.store.remove(w, r, rec, s.options(-1)); rmErr != nil && err == nil {
			err = fmt.Errorf("%w: deleting the session: %w", ErrSessionStore, rmErr)
		}
	}
	return err
}

func (s *sessionManager) options(maxAge int) *sessions.Options {
	return &sessions.Options{Path: "/", MaxAge: maxAge, Secure: s.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// cookieAsSent returns the value of the first cookie called name in r's Cookie headers, as sent,
// split as net/http splits them (a part without "=" is a cookie with an empty value), whether
// there is one, and whether the headers hold at most maxCookiesAsSent cookies, counted as
// net/http counts them.
func cookieAsSent(r *http.Request, name string) (value string, found, few bool) {
	count := 0
	for _, line := range r.Header["Cookie"] {
		count++ // net/http counts the semicolons of each line, plus one
		if found {
			count += strings.Count(line, ";")
			continue
		}
		for line != "" {
			var part string
			var more bool
			part, line, more = strings.Cut(line, ";")
			if more {
				count++
			}
			n, v, _ := strings.Cut(textproto.TrimString(part), "=")
			if textproto.TrimString(n) == name {
				value, found = v, true
				count += strings.Count(line, ";")
				break
			}
		}
	}
	return value, found, count <= maxCookiesAsSent
}

// maxCookiesAsSent bounds the cookies of a request whose session cookie is looked up as sent. It
// is far below the number beyond which net/http ignores every cookie of a request (3000 unless
// GODEBUG httpcookiemaxnum says otherwise), so that a request whose cookies r.Cookie ignores is
// never served from the cache; a request with more cookies is served through r.Cookie.
const maxCookiesAsSent = 100
