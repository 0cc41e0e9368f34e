package parlogin

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin/oidctest"
)

func TestSessionExpires(t *testing.T) {
	clk := newClock()
	h := newHarness(t, harnessOptions{config: func(c *Config) { c.Now = clk.Now; c.SessionMaxAge = time.Hour }})
	h.login("/private")
	clk.Add(59 * time.Minute)
	if resp := h.api("/api/me"); resp.StatusCode != http.StatusOK {
		t.Fatalf("session within its lifetime: %d", resp.StatusCode)
	}
	clk.Add(2 * time.Minute)
	if resp := h.api("/api/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("session past its lifetime: %d, want 401", resp.StatusCode)
	}
}

// A cookie store's own limit on the age of its cookies (its MaxAge) ends the session, cached or
// not, whatever SessionMaxAge says.
func TestSessionExpiresWithCookieStore(t *testing.T) {
	clk := newClock()
	store := testStore()
	store.MaxAge(60)
	h := newHarness(t, harnessOptions{config: func(c *Config) { c.Now = clk.Now; c.Store = store }})
	h.login("/private")
	if resp := h.api("/api/me"); resp.StatusCode != http.StatusOK { // now cached
		t.Fatalf("a fresh session: %d", resp.StatusCode)
	}
	clk.Add(61 * time.Second)
	if resp := h.api("/api/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a cached session past the store's MaxAge: %d, want 401", resp.StatusCode)
	}
	restarted, err := New(context.Background(), h.cfg) // nothing cached
	if err != nil {
		t.Fatal(err)
	}
	h.use(restarted)
	if resp := h.api("/api/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a session past the store's MaxAge, decoded: %d, want 401", resp.StatusCode)
	}
}

// A session made for one provider, or one client, is no session for an app configured with
// another, even when both share the session store and its keys (and the cookie's name).
func TestSessionFromAnotherApp(t *testing.T) {
	store := testStore()
	h := newHarness(t, harnessOptions{config: func(c *Config) { c.Store = store }})
	h.login("/private")
	req, _ := http.NewRequest(http.MethodGet, h.app.URL+"/api/me", nil)
	for _, c := range h.jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	if _, ok := h.auth.User(req); !ok {
		t.Fatal("the app that made the session does not accept it")
	}

	other := oidctest.NewTLSServer()
	defer other.Close()
	otherIssuer := h.cfg
	client := other.AddClient(oidctest.Client{RedirectURIs: []string{h.cfg.RedirectURL}})
	otherIssuer.Issuer, otherIssuer.ClientID, otherIssuer.ClientSecret, otherIssuer.HTTPClient = other.Issuer, client.ID, client.Secret, other.Client()

	otherClient := h.cfg
	client = h.op.AddClient(oidctest.Client{RedirectURIs: []string{h.cfg.RedirectURL}})
	otherClient.ClientID, otherClient.ClientSecret = client.ID, client.Secret

	for name, cfg := range map[string]Config{"another issuer": otherIssuer, "another client": otherClient} {
		m, err := New(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := m.User(req); ok {
			t.Errorf("%s: the session was accepted", name)
		}
		// The user that the first app put in the request's context proves nothing either.
		served := false
		m.Require(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { served = true })).ServeHTTP(
			httptest.NewRecorder(), req.WithContext(NewContext(req.Context(), mustUser(t, h.auth, req))))
		if served {
			t.Errorf("%s: Require trusted a user signed in by another Middleware", name)
		}
		if _, ok := m.User(req.WithContext(NewContext(req.Context(), mustUser(t, h.auth, req)))); ok {
			t.Errorf("%s: User trusted a user signed in by another Middleware", name)
		}
	}
}

func mustUser(t *testing.T, m *Middleware, r *http.Request) *User {
	t.Helper()
	u, ok := m.User(r)
	if !ok {
		t.Fatal("no user")
	}
	return u
}

// The session cache serves a cookie value only when that very value decodes: a planted value that
// the store skips (Go's cookie parser drops values with \, " or bytes past 0x7e) must never become
// an alias of the valid session beside it.
func TestSessionCacheAliasing(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.login("/private")
	valid := h.cookie("__Host-parlogin").Value
	ask := func(cookieHeader string) int { return h.apiWithCookies("/api/me", cookieHeader) }
	for _, planted := range []string{`x\y`, `"x"y"`, "x\x80y"} {
		if got := ask("__Host-parlogin=" + planted + "; __Host-parlogin=" + valid); got != http.StatusOK {
			t.Fatalf("the valid session beside a planted value: %d", got)
		}
		if got := ask("__Host-parlogin=" + planted); got != http.StatusUnauthorized {
			t.Fatalf("the planted value %q alone, after it was sent beside a valid session: %d, want 401", planted, got)
		}
	}
}

// A session is served from the cache only to a request whose cookie r.Cookie reads as that very
// value: not when net/http reads an earlier part without "=" as the cookie, nor when it ignores
// every cookie of a request that carries too many.
func TestSessionCacheServesOnlyWhatRCookieReads(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.login("/private")
	valid := h.cookie("__Host-parlogin").Value
	ask := func(cookieHeader string) int { return h.apiWithCookies("/api/me", cookieHeader) }
	if got := ask("__Host-parlogin=" + valid); got != http.StatusOK { // now cached
		t.Fatalf("the session: %d", got)
	}
	for name, header := range map[string]string{
		"a part without =":                 "__Host-parlogin; __Host-parlogin=" + valid,
		"more than 3000 cookies":           "__Host-parlogin=" + valid + strings.Repeat(";", 3000),
		"more than 3000 cookies before it": strings.Repeat("a=b; ", 3000) + "__Host-parlogin=" + valid,
	} {
		if got := ask(header); got != http.StatusUnauthorized {
			t.Errorf("%s, which r.Cookie does not read as the session: %d, want 401", name, got)
		}
	}
	many := "__Host-parlogin=" + valid + strings.Repeat("; a=b", maxCookiesAsSent)
	if got := ask(many); got != http.StatusOK {
		t.Fatalf("the session among %d cookies: %d", maxCookiesAsSent+1, got)
	}
}

func TestSessionCacheBounds(t *testing.T) {
	c := newSessionCache()
	now := time.Now()
	d := &sessionData{ID: "S", Subject: "alice", Claims: []byte(`{"name":"` + strings.Repeat("a", 1000) + `"}`)}
	c.put(strings.Repeat("v", maxCachedValue+1), d, now.Add(time.Hour), now.Add(time.Hour))
	if c.len() != 0 {
		t.Fatal("a value longer than a browser sends was cached")
	}
	for i := 0; c.bytes <= maxCacheBytes && i < 2*maxCacheBytes/maxCachedValue; i++ {
		c.put(strings.Repeat("v", maxCachedValue-10)+string(rune('a'+i%26))+strings.Repeat("k", i%7)+time.Duration(i).String(), d, now.Add(time.Hour), now.Add(time.Hour))
	}
	if c.bytes > maxCacheBytes {
		t.Fatalf("cache holds %d bytes, more than %d", c.bytes, maxCacheBytes)
	}
	if c.len() < maxCacheBytes/(maxCachedValue+d.size()+cacheEntryOverhead)/2 {
		t.Fatalf("cache holds only %d entries", c.len())
	}
}

// Logout forgets the cache entry that served the request, and every copy of the session cookie is
// refused afterwards, whatever cache or store serves it.
func TestLogoutEndsCachedSession(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.login("/private")
	session := h.cookie("__Host-parlogin")
	if resp := h.api("/api/me"); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed in: %d", resp.StatusCode)
	}
	if _, ok := h.auth.sessions.cache.get(session.Value, time.Now()); !ok {
		t.Fatal("the session was not cached")
	}
	h.navigate(http.MethodPost, "/auth/logout", nil)
	if _, ok := h.auth.sessions.cache.get(session.Value, time.Now()); ok {
		t.Fatal("the session that served the logout is still cached")
	}
	h.setCookie(session.Name, session.Value) // a copy taken before logout
	if resp := h.api("/api/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a copy of the session cookie after logout: %d, want 401", resp.StatusCode)
	}
}

// With a server-side store, a record deleted by something other than parlogin stops serving its
// session within serverSideCacheTTL; parlogin's own logouts end it at once (TestLogoutRacesRefresh).
func TestServerSideSessionCache(t *testing.T) {
	clk := newClock()
	store := sessions.NewFilesystemStore(t.TempDir(), []byte(testSecret))
	h := newHarness(t, harnessOptions{config: func(c *Config) { c.Store = store; c.Now = clk.Now }})
	h.login("/private")
	if resp := h.api("/api/me"); resp.StatusCode != http.StatusOK {
		t.Fatalf("signed in: %d", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, h.app.URL, nil)
	for _, c := range h.jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	s, err := store.Get(req, "__Host-parlogin")
	if err != nil {
		t.Fatal(err)
	}
	s.Options.MaxAge = -1
	if err := store.Save(req, httptest.NewRecorder(), s); err != nil {
		t.Fatal(err)
	}
	clk.Add(serverSideCacheTTL)
	if resp := h.api("/api/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after the record was deleted: %d, want 401", resp.StatusCode)
	}
}

// A refresh in flight when the user logs out must not sign them in again, nor re-create the
// deleted record of a server-side store.
func TestLogoutRacesRefresh(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	store := sessions.NewFilesystemStore(dir, []byte(testSecret))
	store.MaxLength(0)
	h := newHarness(t, harnessOptions{config: func(c *Config) {
		c.SaveTokens, c.Store, c.Now = true, store, clk.Now
		c.Scopes = append(c.Scopes, "offline_access")
	}})
	h.op.SetClock(clk.Now)
	h.login("/private")
	clk.Add(2 * time.Hour) // the access token has expired

	entered, release := make(chan struct{}), make(chan struct{})
	h.op.SetIDTokenHook(func(map[string]any) { // the provider is answering the refresh
		close(entered)
		<-release
	})
	var refresh *http.Response
	var wg sync.WaitGroup
	wg.Go(func() { refresh = h.navigate(http.MethodGet, "/token", nil) })
	<-entered
	if resp := h.navigate(http.MethodPost, "/auth/logout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout = %d", resp.StatusCode)
	}
	close(release)
	wg.Wait()
	if refresh.StatusCode == http.StatusOK {
		t.Fatalf("the refresh that finished after the logout returned a token: %s", readBody(refresh))
	}
	if resp := h.api("/api/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("after logout and the refresh: %d, want 401", resp.StatusCode)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "session_*")); len(files) != 0 {
		t.Fatalf("the store holds %v after logout: the refresh re-created the record", files)
	}
}

// Every variable-length field of a session counts in the session cache's estimate of its memory,
// which bounds the cache: a field left out (the DPoP key was) lets the cache outgrow its bound.
func TestSessionDataSizeCountsEveryField(t *testing.T) {
	var d sessionData
	v := reflect.ValueOf(&d).Elem()
	for i := range v.NumField() {
		before := d.size()
		switch f := v.Field(i); {
		case f.Kind() == reflect.String:
			f.SetString("four")
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.Uint8:
			f.SetBytes([]byte("four"))
		case f.Kind() == reflect.Slice && f.Type().Elem().Kind() == reflect.String:
			f.Set(reflect.ValueOf([]string{"four"}))
		default:
			continue
		}
		if d.size() < before+4 {
			t.Errorf("sessionData.size leaves out %s", v.Type().Field(i).Name)
		}
	}
}

// A user's AMR is the request's own: a handler that appends to it, sorts it or edits it changes
// nothing in the session, which a cache may share with concurrent requests.
func TestUserAMRIsTheRequestsOwn(t *testing.T) {
	for _, methods := range [][]string{{"pwd", "otp"}, {"pwd", "otp", "hwk"}} {
		amr := make([]string, len(methods), len(methods)+2)
		copy(amr, methods)
		sess := &session{data: &sessionData{Subject: "alice", AMR: amr}}
		_, fromContext := sess.withUser(httptest.NewRequest(http.MethodGet, "/", nil))
		for _, u := range []*User{sess.user(), fromContext} {
			u.AMR[0] = "edited"
			slices.Reverse(u.AMR)
			u.AMR = append(u.AMR, "planted")
		}
		if !slices.Equal(amr, methods) || amr[:cap(amr)][len(methods)] != "" {
			t.Fatalf("a handler's edits of its user's AMR reached the session: %q", amr[:cap(amr)])
		}
	}
}

// Printing a signed-in request's context, as some loggers do, does not print the user's claims.
func TestUserContextPrintsNoClaims(t *testing.T) {
	sess := &session{data: &sessionData{Subject: "alice", Claims: []byte(`{"email":"alice@example.com"}`)}}
	r, _ := sess.withUser(httptest.NewRequest(http.MethodGet, "/", nil))
	ctx := r.Context()
	if s := fmt.Sprint(ctx); strings.Contains(s, "alice") || !strings.Contains(s, "context.Background.WithValue(") {
		t.Fatalf("the context prints as %q", s)
	}
}

// socketGoneStore is a server-side store whose server, once down is set, cannot be dialled: its
// unix socket is gone while it restarts, and the dial fails with ENOENT.
type socketGoneStore struct {
	*sessions.FilesystemStore
	down *atomic.Bool
}

func (s socketGoneStore) New(r *http.Request, name string) (*sessions.Session, error) {
	if s.down.Load() {
		return nil, &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.ENOENT)}
	}
	return s.FilesystemStore.New(r, name)
}

// A store that cannot reach its server is a failing store whatever its error, ENOENT included:
// a signed-in request gets 503, not 401 as if signed out, and so does a logout, which must not
// answer as if it had ended a session that it could not even read.
func TestStoreUnreachableIsNotSignedOut(t *testing.T) {
	clk := newClock()
	down := new(atomic.Bool)
	files := sessions.NewFilesystemStore(t.TempDir(), []byte(testSecret))
	h := newHarness(t, harnessOptions{config: func(c *Config) { c.Store, c.Now = socketGoneStore{files, down}, clk.Now }})
	h.login("/private")
	down.Store(true)
	clk.Add(serverSideCacheTTL) // read from the store, not from memory
	if resp := h.api("/api/me"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a signed-in request: %d, want 503", resp.StatusCode)
	}
	if resp := h.navigate(http.MethodPost, "/auth/logout", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a logout: %d, want 503", resp.StatusCode)
	}
	down.Store(false)
	if !h.signedIn() {
		t.Fatal("the session is lost once the store is back")
	}
}
