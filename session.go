package parlogin

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"golang.org/x/oauth2"
)

// sessionData is what a session holds: the identity from the ID token and, with
// Config.SaveTokens, the tokens. It is stored as one compact JSON string, so that any
// gorilla/sessions store and codec can hold it without type registration.
type sessionData struct {
	Subject      string          `json:"sub"`
	Issuer       string          `json:"iss"`
	AuthTime     int64           `json:"at,omitempty"`
	Expiry       int64           `json:"exp"`
	Claims       json.RawMessage `json:"c,omitempty"`
	IDToken      string          `json:"idt,omitempty"`
	AccessToken  string          `json:"act,omitempty"`
	TokenType    string          `json:"tt,omitempty"`
	RefreshToken string          `json:"rt,omitempty"`
	TokenExpiry  int64           `json:"te,omitempty"`
}

func (d *sessionData) user() *User {
	u := &User{Subject: d.Subject, Issuer: d.Issuer, Expiry: time.Unix(d.Expiry, 0), claims: d.Claims}
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

// sessionOf returns the data of r's session when it holds a live login of this issuer. It is the
// authenticated path of every protected request: with a cookie store, a cookie seen before is
// served from the session cache.
func (m *Middleware) sessionOf(r *http.Request) (*sessionData, bool) {
	value, ok := cookieValue(r, m.cfg.SessionName)
	if !ok {
		return nil, false // no cookie, no session: spare the store a lookup
	}
	if d, ok := m.cache.get(value, m.cfg.Now()); ok {
		return d, true
	}
	_, d, ok := m.loadSession(r)
	if ok {
		m.cache.put(value, d)
	}
	return d, ok
}

// cookieValue returns the raw value of the first cookie called name in r's Cookie headers. Unlike
// r.Cookie it neither validates nor allocates: the value only serves as a key of the session cache,
// which holds values the store decoded before; anything else goes to the store, which checks it.
func cookieValue(r *http.Request, name string) (string, bool) {
	for _, line := range r.Header["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok && k == name {
				return v, true
			}
		}
	}
	return "", false
}

// loadSession returns the record of r's session, and its data when it holds a live login of this
// issuer. The record is nil only when r has no session cookie.
func (m *Middleware) loadSession(r *http.Request) (*record, *sessionData, bool) {
	rec, ok := m.store.load(r, m.cfg.SessionName)
	if !ok {
		return rec, nil, false
	}
	d, ok := decodeSession(rec.value, m.cfg.Issuer, m.cfg.Now())
	return rec, d, ok
}

// decodeSession decodes the data of a session and reports whether it holds a live login of issuer.
func decodeSession(raw, issuer string, now time.Time) (*sessionData, bool) {
	var d sessionData
	if err := json.Unmarshal([]byte(raw), &d); err != nil ||
		d.Subject == "" || d.Issuer != issuer || !now.Before(time.Unix(d.Expiry, 0)) {
		return nil, false
	}
	return &d, true
}

// startSession replaces the session of r by a fresh one holding d: a session identifier planted
// before login is never promoted to an authenticated one (session fixation).
func (m *Middleware) startSession(w http.ResponseWriter, r *http.Request, d *sessionData) error {
	if old, _ := m.store.load(r, m.cfg.SessionName); old != nil && old.session != nil && old.session.ID != "" {
		// A server-side store: delete the old record too, not only the cookie.
		m.endSession(w, r, old)
	}
	return m.saveSession(w, r, &record{name: m.cfg.SessionName}, d)
}

// saveSession writes d as the value of rec.
func (m *Middleware) saveSession(w http.ResponseWriter, r *http.Request, rec *record, d *sessionData) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	rec.value = string(b)
	opts := m.sessionOptions(max(1, int(time.Unix(d.Expiry, 0).Sub(m.cfg.Now())/time.Second)))
	if _, err := m.store.save(w, r, rec, opts); err != nil {
		hint := ""
		if d.AccessToken != "" {
			hint = " (tokens may not fit in a cookie store: use a server-side store or turn off SaveTokens)"
		}
		return fmt.Errorf("%w: saving the session%s: %w", ErrSessionStore, hint, err)
	}
	return nil
}

// endSession deletes rec: its cookie, and its record in a server-side store.
func (m *Middleware) endSession(w http.ResponseWriter, r *http.Request, rec *record) {
	if err := m.store.remove(w, r, rec, m.sessionOptions(-1)); err != nil {
		m.cfg.Logger.Warn("parlogin: deleting a session failed", "error", err)
	}
}

func (m *Middleware) sessionOptions(maxAge int) *sessions.Options {
	return &sessions.Options{Path: "/", MaxAge: maxAge, Secure: m.secure, HttpOnly: true, SameSite: http.SameSiteLaxMode}
}
