package parlogin

import (
	"net/http"
	"strings"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
)

// storeValueKey is the key of parlogin's value among a gorilla session's values.
const storeValueKey = "parlogin"

// record is one of parlogin's sessions (a signed-in user, or a pending login) in Config.Store: a
// name and a value, which is JSON text.
type record struct {
	name  string
	value string
	// session is the gorilla session behind the record, with a store other than a cookie store;
	// nil for a record not saved yet.
	session *sessions.Session
}

// store keeps parlogin's records in Config.Store.
type store interface {
	// load returns the record that r's cookie called name points to, and whether its value could
	// be read. The record is nil only when r has no such cookie.
	load(r *http.Request, name string) (*record, bool)
	// save writes rec, as a new record when it was not loaded, with the cookie options opts, and
	// returns the size of its cookie.
	save(w http.ResponseWriter, r *http.Request, rec *record, opts *sessions.Options) (int, error)
	// remove deletes rec: its cookie, and what the store keeps elsewhere. opts.MaxAge is negative.
	remove(w http.ResponseWriter, r *http.Request, rec *record, opts *sessions.Options) error
}

// newStore returns parlogin's access to s.
func newStore(s sessions.Store) store {
	if cs, ok := s.(*sessions.CookieStore); ok {
		return cookieStore{codecs: cs.Codecs}
	}
	return gorillaStore{s}
}

// cookieStore writes parlogin's value straight into the cookie with the codecs of a gorilla
// CookieStore (its keys: the MAC, and the encryption with a block key), instead of a gob-encoded
// map of session values: decoding is about five times faster, with six times fewer allocations,
// and the cookie is smaller.
type cookieStore struct {
	codecs []securecookie.Codec
}

func (c cookieStore) load(r *http.Request, name string) (*record, bool) {
	cookie, err := r.Cookie(name)
	if err != nil {
		return nil, false
	}
	rec := &record{name: name}
	return rec, securecookie.DecodeMulti(name, cookie.Value, &rec.value, c.codecs...) == nil
}

func (c cookieStore) save(w http.ResponseWriter, _ *http.Request, rec *record, opts *sessions.Options) (int, error) {
	encoded, err := securecookie.EncodeMulti(rec.name, rec.value, c.codecs...)
	if err != nil {
		return 0, err
	}
	http.SetCookie(w, sessions.NewCookie(rec.name, encoded, opts))
	return len(rec.name) + len(encoded), nil
}

func (c cookieStore) remove(w http.ResponseWriter, _ *http.Request, rec *record, opts *sessions.Options) error {
	http.SetCookie(w, sessions.NewCookie(rec.name, "", opts))
	return nil
}

// gorillaStore keeps parlogin's value as a session value of any gorilla store, such as a Redis or
// file store, whose cookie holds only the record's identifier.
type gorillaStore struct {
	sessions.Store
}

func (g gorillaStore) load(r *http.Request, name string) (*record, bool) {
	if _, err := r.Cookie(name); err != nil {
		return nil, false
	}
	s, err := g.Get(r, name)
	if s == nil {
		s = sessions.NewSession(g, name)
	}
	value, ok := s.Values[storeValueKey].(string)
	return &record{name: name, value: value, session: s}, err == nil && !s.IsNew && ok
}

func (g gorillaStore) save(w http.ResponseWriter, r *http.Request, rec *record, opts *sessions.Options) (int, error) {
	if rec.session == nil {
		rec.session = sessions.NewSession(g, rec.name)
	}
	rec.session.Values[storeValueKey] = rec.value
	rec.session.Options = opts
	if err := g.Save(r, w, rec.session); err != nil {
		return 0, err
	}
	return setCookieSize(w, rec.name), nil
}

func (g gorillaStore) remove(w http.ResponseWriter, r *http.Request, rec *record, opts *sessions.Options) error {
	if rec.session == nil {
		rec.session = sessions.NewSession(g, rec.name)
	}
	rec.session.Options = opts
	return g.Save(r, w, rec.session)
}

// setCookieSize returns the size of the last cookie called name set on w.
func setCookieSize(w http.ResponseWriter, name string) int {
	set := w.Header()["Set-Cookie"]
	for i := len(set) - 1; i >= 0; i-- {
		if value, ok := strings.CutPrefix(set[i], name+"="); ok {
			value, _, _ = strings.Cut(value, ";")
			return len(name) + len(value)
		}
	}
	return 0
}
