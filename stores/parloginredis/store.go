package parloginredis

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/gob"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/redis/go-redis/v9"
)

// DefaultMaxLength is the default bound of a session's encoded values ([Store.MaxLength]).
const DefaultMaxLength = 64 << 10

// browserSessionTTL is how long a session saved with MaxAge 0 (a cookie that lasts while the
// browser runs) is kept in Redis: the browser does not say when it closes.
const browserSessionTTL = 24 * time.Hour

var (
	// ErrSessionGone is returned by [Store.Save] for a session loaded from Redis whose record has
	// been deleted (a logout on another replica) or has expired since: the record is not written
	// again, so that a save racing a logout cannot sign the user back in.
	ErrSessionGone = errors.New("parloginredis: the session's record is gone")
	// ErrTooLarge is returned by [Store.Save] for session values whose encoding is longer than
	// [Store.MaxLength].
	ErrTooLarge = errors.New("parloginredis: session values too large")
)

// Store is a [sessions.Store] that keeps sessions in Redis: the cookie holds only a random
// session ID (130 bits), signed and, with a block key, encrypted by [Store.Codecs]; the values
// live under KeyPrefix + "session:" + ID until the session's MaxAge. Create it with [NewStore]
// and set its fields before use. It is safe for concurrent use.
//
// Compared with gorilla's stores, and the Redis stores written for them, Store keeps three
// promises that parlogin relies on:
//
//   - Save never re-creates a record deleted since it was loaded (SET XX), and fails with
//     [ErrSessionGone] instead; a new session gets a fresh ID (SET NX). So a logout on one
//     replica is not undone by a token refresh saving the session on another.
//   - Get and New tell three cases apart: a cookie that does not decode (tampered, or made with
//     other keys) returns the codecs' [securecookie.Error], as gorilla's stores do; a cookie
//     naming no session returns a new session and no error; and a Redis that cannot be reached
//     returns an error that is not a securecookie.Error, so that parlogin answers 503 rather than
//     treating the user as signed out.
//   - It uses the app's go-redis v9 client (a server, Sentinel or Cluster) and key prefix.
//
// Values are encoded with encoding/gob, as gorilla's stores do, so that any value an app keeps in
// a gorilla session keeps its type (an int stays an int); register types of your own with
// [gob.Register]. parlogin keeps one string.
type Store struct {
	// Codecs encode the session ID into the cookie value, as [sessions.CookieStore]'s do; made
	// by NewStore from its key pairs, with no limit on the cookie's age (the record's expiry in
	// Redis ends the session).
	Codecs []securecookie.Codec

	// Options are the cookie options of new sessions, which Save also uses for the record's
	// expiry (MaxAge). NewStore sets Path "/", MaxAge 30 days (as gorilla's stores), HttpOnly and
	// SameSite=Lax; set Secure for an https app. parlogin sets its own on every save.
	Options *sessions.Options

	// KeyPrefix starts the name of every record; NewStore sets [DefaultKeyPrefix].
	KeyPrefix string

	// MaxLength bounds the encoded values of a session, in bytes; 0 for no bound. NewStore sets
	// [DefaultMaxLength].
	MaxLength int

	// Timeout bounds each call to Redis, in addition to the request's context; 0 for none.
	// NewStore sets [DefaultTimeout].
	Timeout time.Duration

	client redis.UniversalClient
}

var _ sessions.Store = (*Store)(nil)

// NewStore returns a [Store] in the Redis of client. keyPairs are the cookie keys, as for
// [sessions.NewCookieStore]: pairs of a hash key (32 or 64 random bytes) and a block key (16,
// 24 or 32 random bytes, for AES encryption), the first pair to encode and all to decode, for key
// rotation. Keep the keys secret and the same across restarts and replicas.
func NewStore(client redis.UniversalClient, keyPairs ...[]byte) *Store {
	codecs := securecookie.CodecsFromPairs(keyPairs...)
	for _, c := range codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxAge(0)
		}
	}
	return &Store{
		Codecs: codecs,
		Options: &sessions.Options{
			Path:     "/",
			MaxAge:   86400 * 30,
			HttpOnly: true,
			SameSite: http.SameSiteLaxMode,
		},
		KeyPrefix: DefaultKeyPrefix,
		MaxLength: DefaultMaxLength,
		Timeout:   DefaultTimeout,
		client:    client,
	}
}

func (s *Store) key(id string) string { return s.KeyPrefix + "session:" + id }

// Get returns the session called name of r, from the request's registry of sessions (see
// [sessions.GetRegistry]) or else from [Store.New].
func (s *Store) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New returns the session called name of r, read from Redis: the session whose ID r's cookie
// carries, with IsNew false; or a new, empty session, with IsNew true, when r has no such cookie
// or its session does not exist (any more). It never returns a nil session. It returns an error
// with the new session when the cookie does not decode (a [securecookie.Error]) or when Redis
// cannot be read (any other error: the session may well exist).
func (s *Store) New(r *http.Request, name string) (*sessions.Session, error) {
	session := sessions.NewSession(s, name)
	opts := *s.Options
	session.Options = &opts
	session.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return session, nil
	}
	var id string
	if err := securecookie.DecodeMulti(name, c.Value, &id, s.Codecs...); err != nil {
		return session, err
	}
	if !isSessionID(id) {
		return session, nil
	}
	type record struct {
		data  []byte
		found bool
	}
	rec, err := call(r.Context(), s.Timeout, "reading a session", func(ctx context.Context) (record, error) {
		data, err := s.client.Get(ctx, s.key(id)).Bytes()
		if errors.Is(err, redis.Nil) {
			return record{}, nil
		}
		return record{data, err == nil}, err
	})
	if err != nil || !rec.found {
		return session, err
	}
	values, err := decodeValues(rec.data)
	if err != nil {
		// Not a record this store wrote: as good as none. A new session gets another ID.
		return session, nil
	}
	session.ID, session.Values, session.IsNew = id, values, false
	return session, nil
}

// Save writes session to Redis and its cookie to w, with the session's Options (the store's
// when nil):
//
//   - MaxAge < 0 deletes the record, if any, and the cookie.
//   - A session without an ID (new) is stored under a fresh random ID with SET NX.
//   - A session with an ID (loaded) is stored with SET XX: when its record has been deleted or
//     has expired since it was loaded, Save writes nothing and returns [ErrSessionGone].
//
// The record expires after MaxAge seconds, or after 24 hours when MaxAge is 0 (a cookie that
// lasts while the browser runs). Values longer than MaxLength once encoded fail with
// [ErrTooLarge]. When Redis cannot be reached, Save fails and sets no cookie.
func (s *Store) Save(r *http.Request, w http.ResponseWriter, session *sessions.Session) error {
	if session.Options == nil {
		opts := *s.Options
		session.Options = &opts
	}
	opts := session.Options
	if opts.MaxAge < 0 {
		if session.ID != "" {
			_, err := call(r.Context(), s.Timeout, "deleting a session", func(ctx context.Context) (struct{}, error) {
				return struct{}{}, s.client.Del(ctx, s.key(session.ID)).Err()
			})
			if err != nil {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(session.Name(), "", opts))
		return nil
	}
	data, err := encodeValues(session.Values)
	if err != nil {
		return fmt.Errorf("parloginredis: encoding the session's values: %w", err)
	}
	if s.MaxLength > 0 && len(data) > s.MaxLength {
		return fmt.Errorf("%w: %d bytes, more than MaxLength (%d)", ErrTooLarge, len(data), s.MaxLength)
	}
	ttl := time.Duration(opts.MaxAge) * time.Second
	if ttl == 0 {
		ttl = browserSessionTTL
	}
	if session.ID == "" {
		return s.create(r.Context(), w, session, data, ttl)
	}
	encoded, err := securecookie.EncodeMulti(session.Name(), session.ID, s.Codecs...)
	if err != nil {
		return err
	}
	stored, err := call(r.Context(), s.Timeout, "saving a session", func(ctx context.Context) (bool, error) {
		err := s.client.SetArgs(ctx, s.key(session.ID), data, redis.SetArgs{Mode: "XX", TTL: ttl}).Err()
		if errors.Is(err, redis.Nil) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return err
	}
	if !stored {
		return fmt.Errorf("%w: deleted or expired since it was loaded", ErrSessionGone)
	}
	http.SetCookie(w, sessions.NewCookie(session.Name(), encoded, opts))
	return nil
}

// create stores a new session under a fresh ID and sets its cookie.
func (s *Store) create(ctx context.Context, w http.ResponseWriter, session *sessions.Session, data []byte, ttl time.Duration) error {
	for range 3 { // 130 random bits: a taken ID means a broken random source
		id := rand.Text()
		encoded, err := securecookie.EncodeMulti(session.Name(), id, s.Codecs...)
		if err != nil {
			return err
		}
		created, err := call(ctx, s.Timeout, "creating a session", func(ctx context.Context) (bool, error) {
			err := s.client.SetArgs(ctx, s.key(id), data, redis.SetArgs{Mode: "NX", TTL: ttl}).Err()
			if errors.Is(err, redis.Nil) {
				return false, nil
			}
			return err == nil, err
		})
		if err != nil {
			return err
		}
		if created {
			session.ID = id
			http.SetCookie(w, sessions.NewCookie(session.Name(), encoded, session.Options))
			return nil
		}
	}
	return errors.New("parloginredis: creating a session: the random session IDs drawn were taken")
}

// isSessionID reports whether id has the form of the IDs that Save makes (rand.Text: 26
// characters of base32).
func isSessionID(id string) bool {
	if len(id) != 26 {
		return false
	}
	for _, c := range []byte(id) {
		if (c < 'A' || c > 'Z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

func encodeValues(values map[any]any) ([]byte, error) {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(values); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func decodeValues(data []byte) (map[any]any, error) {
	values := make(map[any]any)
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&values); err != nil {
		return nil, err
	}
	return values, nil
}
