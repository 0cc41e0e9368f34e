package parloginredis_test

import (
	"context"
	"encoding/gob"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin/stores/parloginredis"
	"github.com/redis/go-redis/v9"
)

var (
	hashKey  = []byte("0123456789abcdef0123456789abcdef")
	blockKey = []byte("fedcba9876543210fedcba9876543210")
)

const cookieName = "parlogin"

// newStore returns a Store on r's server and the client it uses.
func newStore(r *redisServer) (*parloginredis.Store, *redis.Client) {
	c := r.Client()
	return parloginredis.NewStore(c, hashKey, blockKey), c
}

// request returns a request carrying the cookies that w set.
func request(w *httptest.ResponseRecorder) *http.Request {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range w.Result().Cookies() {
		if c.MaxAge >= 0 {
			r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
		}
	}
	return r
}

// saveNew saves a new session holding values and returns the response that carries its cookie.
func saveNew(t *testing.T, s *parloginredis.Store, values map[any]any) (*sessions.Session, *httptest.ResponseRecorder) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	sess, err := s.Get(r, cookieName)
	if err != nil || !sess.IsNew {
		t.Fatalf("Get without a cookie = IsNew %v, %v; want a new session", sess.IsNew, err)
	}
	for k, v := range values {
		sess.Values[k] = v
	}
	w := httptest.NewRecorder()
	if err := s.Save(r, w, sess); err != nil {
		t.Fatalf("Save new: %v", err)
	}
	return sess, w
}

// load loads the session named by the cookie of w, in a new request.
func load(t *testing.T, s *parloginredis.Store, w *httptest.ResponseRecorder) (*sessions.Session, *http.Request) {
	t.Helper()
	r := request(w)
	sess, err := s.Get(r, cookieName)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return sess, r
}

func TestStoreRoundTrip(t *testing.T) {
	srv := startRedis(t)
	s, c := newStore(srv)
	ctx := context.Background()

	sess, w := saveNew(t, s, map[any]any{"parlogin": `{"sub":"alice"}`, "n": 42})
	if len(sess.ID) < 26 {
		t.Fatalf("session ID %q: want at least 128 random bits", sess.ID)
	}
	cookie := w.Result().Cookies()[0]
	if strings.Contains(cookie.Value, sess.ID) || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.MaxAge != 86400*30 {
		t.Fatalf("cookie %+v: want the ID encrypted, HttpOnly, SameSite=Lax, 30 days", cookie)
	}
	key := "parlogin:session:" + sess.ID
	if ttl := c.PTTL(ctx, key).Val(); ttl < 29*24*time.Hour || ttl > 30*24*time.Hour {
		t.Fatalf("TTL of %s = %v, want the cookie's MaxAge", key, ttl)
	}

	got, r := load(t, s, w)
	if got.IsNew || got.ID != sess.ID || got.Values["parlogin"] != `{"sub":"alice"}` || got.Values["n"] != 42 {
		t.Fatalf("loaded IsNew %v, ID %q, values %v; want the saved session", got.IsNew, got.ID, got.Values)
	}
	if again, _ := s.Get(r, cookieName); again != got {
		t.Fatal("a second Get in the same request did not return the session of the first")
	}

	// An update keeps the ID and takes the new MaxAge.
	got.Values["parlogin"] = `{"sub":"alice","v":2}`
	got.Options.MaxAge = 3600
	w = httptest.NewRecorder()
	if err := s.Save(r, w, got); err != nil {
		t.Fatalf("Save loaded: %v", err)
	}
	if ttl := c.PTTL(ctx, key).Val(); ttl < 3590*time.Second || ttl > time.Hour {
		t.Fatalf("TTL after an update with MaxAge 3600 = %v", ttl)
	}
	if again, _ := load(t, s, w); again.ID != sess.ID || again.Values["parlogin"] != `{"sub":"alice","v":2}` {
		t.Fatalf("after the update: ID %q, values %v", again.ID, again.Values)
	}

	// MaxAge < 0 deletes the record and the cookie.
	got.Options.MaxAge = -1
	w = httptest.NewRecorder()
	if err := s.Save(r, w, got); err != nil {
		t.Fatalf("Save with MaxAge -1: %v", err)
	}
	if n := c.Exists(ctx, key).Val(); n != 0 {
		t.Fatal("the record outlived its deletion")
	}
	if cs := w.Result().Cookies(); len(cs) != 1 || cs[0].MaxAge >= 0 {
		t.Fatalf("cookies after deletion: %+v, want one expired cookie", cs)
	}
}

type point struct{ X, Y int }

// Other values keep their Go types, as with gorilla's stores (gob); types other than the
// predeclared ones are registered with gob.Register.
func TestStoreValueTypes(t *testing.T) {
	gob.Register(point{})
	srv := startRedis(t)
	s, _ := newStore(srv)
	_, w := saveNew(t, s, map[any]any{"int": 7, 3: "int key", "point": point{1, 2}, "list": []string{"a", "b"}})
	got, _ := load(t, s, w)
	if got.Values["int"] != 7 || got.Values[3] != "int key" || got.Values["point"] != (point{1, 2}) || got.Values["list"].([]string)[1] != "b" {
		t.Fatalf("values = %#v", got.Values)
	}
	// A type gob does not know fails the save, and says so.
	sess, _ := load(t, s, w)
	sess.Values["unregistered"] = struct{ A int }{1}
	if err := s.Save(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder(), sess); err == nil || !strings.Contains(err.Error(), "not registered") {
		t.Fatalf("Save of an unregistered type = %v", err)
	}
}

// A session saved with MaxAge 0 (a browser-session cookie) still expires in Redis.
func TestStoreBrowserSession(t *testing.T) {
	srv := startRedis(t)
	s, c := newStore(srv)
	s.Options.MaxAge = 0
	sess, w := saveNew(t, s, map[any]any{"parlogin": "x"})
	if cs := w.Result().Cookies(); cs[0].MaxAge != 0 || !cs[0].Expires.IsZero() {
		t.Fatalf("cookie %+v: want no Max-Age nor Expires", cs[0])
	}
	if ttl := c.PTTL(context.Background(), "parlogin:session:"+sess.ID).Val(); ttl <= 23*time.Hour || ttl > 24*time.Hour {
		t.Fatalf("TTL = %v, want 24 h", ttl)
	}
}

// Saving a loaded session whose record was deleted meanwhile (a logout on another replica) never
// brings it back.
func TestStoreSaveNeverRecreates(t *testing.T) {
	srv := startRedis(t)
	s, c := newStore(srv)
	other := parloginredis.NewStore(srv.Client(), hashKey, blockKey) // another replica
	ctx := context.Background()

	sess, w := saveNew(t, s, map[any]any{"parlogin": "signed in"})
	loaded, r := load(t, s, w)

	// The other replica logs the user out.
	gone, r2 := load(t, other, w)
	gone.Options.MaxAge = -1
	if err := other.Save(r2, httptest.NewRecorder(), gone); err != nil {
		t.Fatal(err)
	}

	loaded.Values["parlogin"] = "refreshed"
	w = httptest.NewRecorder()
	err := s.Save(r, w, loaded)
	if !errors.Is(err, parloginredis.ErrSessionGone) {
		t.Fatalf("Save of a deleted session = %v, want ErrSessionGone", err)
	}
	if n := c.Exists(ctx, "parlogin:session:"+sess.ID).Val(); n != 0 {
		t.Fatal("the deleted session was written again")
	}
	if cs := w.Result().Cookies(); len(cs) != 0 {
		t.Fatalf("Save of a deleted session set cookies %+v", cs)
	}

	// The same when the record expired.
	sess, w = saveNew(t, s, map[any]any{"parlogin": "x"})
	loaded, r = load(t, s, w)
	c.Del(ctx, "parlogin:session:"+sess.ID)
	if err := s.Save(r, httptest.NewRecorder(), loaded); !errors.Is(err, parloginredis.ErrSessionGone) {
		t.Fatalf("Save of an expired session = %v, want ErrSessionGone", err)
	}
}

// A cookie that does not decode returns the codecs' decode error, as gorilla's stores do.
func TestStoreTamperedCookie(t *testing.T) {
	srv := startRedis(t)
	s, _ := newStore(srv)
	_, w := saveNew(t, s, map[any]any{"parlogin": "x"})
	value := w.Result().Cookies()[0].Value

	otherKeys := parloginredis.NewStore(srv.Client(), []byte("another hash key, 32 bytes long."), blockKey)
	tampered := []byte(value)
	tampered[len(tampered)/2] ^= 1
	for _, tc := range []struct {
		name  string
		store *parloginredis.Store
		value string
	}{
		{"flipped bit", s, string(tampered)},
		{"garbage", s, "not-a-cookie"},
		{"other keys", otherKeys, value},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			r.AddCookie(&http.Cookie{Name: cookieName, Value: tc.value})
			sess, err := tc.store.Get(r, cookieName)
			var scErr securecookie.Error
			if !errors.As(err, &scErr) || !scErr.IsDecode() {
				t.Fatalf("Get = %v, want a securecookie decode error", err)
			}
			if sess == nil || !sess.IsNew || sess.ID != "" {
				t.Fatalf("session = %+v, want a new one", sess)
			}
		})
	}
}

// A cookie naming a session that does not exist (expired, deleted, or lost by Redis) is no
// session: a new one, no error. Saving it makes a new ID, never the cookie's.
func TestStoreUnknownID(t *testing.T) {
	srv := startRedis(t)
	s, c := newStore(srv)
	unknown := "AAAAAAAAAAAAAAAAAAAAAAAAAA"
	value, err := securecookie.EncodeMulti(cookieName, unknown, s.Codecs...)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.AddCookie(&http.Cookie{Name: cookieName, Value: value})
	sess, err := s.Get(r, cookieName)
	if err != nil || !sess.IsNew || sess.ID != "" {
		t.Fatalf("Get = IsNew %v, ID %q, %v; want a new session and no error", sess.IsNew, sess.ID, err)
	}
	sess.Values["parlogin"] = "x"
	if err := s.Save(r, httptest.NewRecorder(), sess); err != nil {
		t.Fatal(err)
	}
	if sess.ID == unknown || c.Exists(context.Background(), "parlogin:session:"+unknown).Val() != 0 {
		t.Fatal("saving took the cookie's ID")
	}
}

func TestStoreMaxLength(t *testing.T) {
	srv := startRedis(t)
	s, c := newStore(srv)
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	sess, _ := s.Get(r, cookieName)
	sess.Values["parlogin"] = strings.Repeat("x", parloginredis.DefaultMaxLength)
	w := httptest.NewRecorder()
	if err := s.Save(r, w, sess); !errors.Is(err, parloginredis.ErrTooLarge) {
		t.Fatalf("Save of %d bytes = %v, want ErrTooLarge", parloginredis.DefaultMaxLength, err)
	}
	if n := c.DBSize(context.Background()).Val(); n != 0 || len(w.Result().Cookies()) != 0 {
		t.Fatalf("%d keys, cookies %v after a refused save", n, w.Result().Cookies())
	}
	s.MaxLength = 0 // no bound
	if err := s.Save(r, w, sess); err != nil {
		t.Fatalf("Save without a bound: %v", err)
	}
}

func TestStoreKeyPrefix(t *testing.T) {
	srv := startRedis(t)
	s, c := newStore(srv)
	s.KeyPrefix = "app1:"
	sess, _ := saveNew(t, s, map[any]any{"parlogin": "x"})
	if c.Exists(context.Background(), "app1:session:"+sess.ID).Val() != 1 {
		t.Fatalf("keys %v, want app1:session:%s", c.Keys(context.Background(), "*").Val(), sess.ID)
	}
}

// isCookieError reports whether err is one that parlogin takes for "no session".
func isCookieError(err error) bool {
	var scErr securecookie.Error
	return errors.As(err, &scErr) && !scErr.IsInternal()
}

// While Redis is down, Get, New and Save fail at once with an error that is not a cookie error,
// so that parlogin answers 503 and does not send the user to log in again; once Redis is back,
// the store works again with the same client.
func TestStoreRedisDown(t *testing.T) {
	srv := startRedis(t)
	s, c := newStore(srv)
	_, w := saveNew(t, s, map[any]any{"parlogin": "x"})

	srv.Stop()
	// Each call fails within the timeout; how much sooner depends on the client's own retries
	// (go-redis dials five times and retries a command three times by default).
	timed := func(what string, f func() error) error {
		t.Helper()
		start := time.Now()
		err := f()
		if d := time.Since(start); d > s.Timeout+time.Second {
			t.Fatalf("%s took %v with a timeout of %v", what, d, s.Timeout)
		}
		return err
	}
	r := request(w)
	var sess *sessions.Session
	err := timed("Get", func() (err error) { sess, err = s.Get(r, cookieName); return err })
	if err == nil || isCookieError(err) || sess == nil {
		t.Fatalf("Get with Redis down = %v, %v; want a session and a Redis error", sess, err)
	}
	if !strings.Contains(err.Error(), "parloginredis: reading a session") {
		t.Fatalf("error %q does not say what failed", err)
	}
	fresh, _ := s.New(httptest.NewRequest(http.MethodGet, "/", nil), cookieName)
	err = timed("Save", func() error { return s.Save(r, httptest.NewRecorder(), fresh) })
	if err == nil || isCookieError(err) {
		t.Fatalf("Save with Redis down = %v", err)
	}
	t.Logf("with Redis down: %v", err)

	srv.Start()
	srv.WaitReady(c)
	// Redis lost the session (no persistence): the cookie names nothing, the user signs in again.
	sess, err = s.Get(request(w), cookieName)
	if err != nil || !sess.IsNew {
		t.Fatalf("Get after the restart = IsNew %v, %v; want a new session", sess.IsNew, err)
	}
	saveNew(t, s, map[any]any{"parlogin": "y"})
}

// A Redis that does not answer (hung, or the network lost) fails the call within the store's
// Timeout, or the request's context if it ends first, however long the client would wait.
func TestStoreRedisHung(t *testing.T) {
	srv := startRedis(t)
	s, _ := newStore(srv)
	s.Timeout = 200 * time.Millisecond
	_, w := saveNew(t, s, map[any]any{"parlogin": "x"})

	srv.Freeze()
	start := time.Now()
	_, err := s.Get(request(w), cookieName)
	if !errors.Is(err, context.DeadlineExceeded) || isCookieError(err) {
		t.Fatalf("Get with Redis hung = %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 5*s.Timeout {
		t.Fatalf("Get took %v with a timeout of %v", d, s.Timeout)
	}

	s.Timeout = time.Hour
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = s.Get(request(w).WithContext(ctx), cookieName)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get with Redis hung = %v, want the request's deadline", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Get took %v with a request deadline of 200ms", d)
	}
}
