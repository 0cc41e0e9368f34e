package parlogin

// Tests of defences that the mutation run (scripts/mutate) found unguarded: each fails when the
// defence it names in SECURITY.md is disabled.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin/oidctest"
)

// An ID token signed with an algorithm that the app does not accept (Config.IDTokenSigningAlgs)
// is refused, even with the provider's own key and an algorithm the provider publishes.
func TestIDTokenSigningAlgsEnforced(t *testing.T) {
	for _, tc := range []struct {
		algs []string
		ok   bool
	}{
		{[]string{"RS256"}, true},
		{[]string{"PS256", "ES256"}, false}, // oidctest signs with RS256
	} {
		t.Run(strings.Join(tc.algs, ","), func(t *testing.T) {
			h := newHarness(t, harnessOptions{config: func(c *Config) { c.IDTokenSigningAlgs = tc.algs }})
			resp := h.callback(h.authorize(h.toProvider("/private")))
			if tc.ok {
				if resp.StatusCode != http.StatusSeeOther {
					t.Fatalf("callback = %d, %v; want a login", resp.StatusCode, h.errs.last())
				}
				return
			}
			if resp.StatusCode != http.StatusBadGateway || !errors.Is(h.errs.last(), ErrInvalidIDToken) {
				t.Fatalf("an RS256 ID token with IDTokenSigningAlgs %v: %d, %v; want ErrInvalidIDToken", tc.algs, resp.StatusCode, h.errs.last())
			}
		})
	}
}

// New refuses a provider that lacks what the configuration depends on: FAPI 2.0's ID token
// algorithms and its promise of the iss parameter, and DPoP with ES256 for Config.DPoP.
func TestNewChecksProviderFeatures(t *testing.T) {
	keys := testKeys(t)
	fapi := func(c *Config) {
		c.ClientSecret = ""
		c.ClientKeys = []ClientKey{{ID: "k", Signer: keys["ES256"]}}
		c.Profile = FAPI2
	}
	dpop := func(m map[string]any) { m["dpop_signing_alg_values_supported"] = []string{"ES256"} }
	tests := []struct {
		name     string
		config   func(*Config)
		metadata func(map[string]any)
		want     string // "" for New to succeed
	}{
		{"FAPI2", fapi, func(m map[string]any) {
			dpop(m)
			m["id_token_signing_alg_values_supported"] = []string{"RS256", "PS256"}
		}, ""},
		{"FAPI2 with RS256 ID tokens only", fapi, func(m map[string]any) {
			dpop(m)
			m["id_token_signing_alg_values_supported"] = []string{"RS256"}
		}, "none of which FAPI 2.0 allows"},
		{"FAPI2 without the iss parameter", fapi, func(m map[string]any) {
			dpop(m)
			m["id_token_signing_alg_values_supported"] = []string{"PS256"}
			delete(m, "authorization_response_iss_parameter_supported")
		}, "does not promise the iss authorization response parameter"},
		{"DPoP", func(c *Config) { c.DPoP = true }, dpop, ""},
		{"DPoP without the provider's", func(c *Config) { c.DPoP = true }, func(m map[string]any) {
			delete(m, "dpop_signing_alg_values_supported")
		}, "does not publish DPoP with ES256"},
		{"DPoP without ES256", func(c *Config) { c.DPoP = true }, func(m map[string]any) {
			m["dpop_signing_alg_values_supported"] = []string{"PS256"}
		}, "does not publish DPoP with ES256"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op := oidctest.NewUnstartedServer()
			op.EditMetadata = tc.metadata
			op.StartTLS()
			defer op.Close()
			client := op.AddClient(oidctest.Client{RedirectURIs: []string{"https://app.example/auth/callback"}})
			c := validConfig()
			c.Issuer, c.ClientID, c.ClientSecret, c.HTTPClient = op.Issuer, client.ID, client.Secret, op.Client()
			tc.config(&c)
			_, err := New(context.Background(), c)
			if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New = %v, want %q", err, tc.want)
			}
		})
	}
}

// tokenAnswers watches the provider's token answers on the way to parlogin: it records the tokens
// they carry, and edit, when set, changes them.
type tokenAnswers struct {
	base http.RoundTripper
	edit func(answer map[string]any)

	mu     sync.Mutex
	tokens []string
}

func (t *tokenAnswers) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	var answer map[string]any
	if json.Unmarshal(body, &answer) == nil && answer["access_token"] != nil {
		t.mu.Lock()
		for _, name := range []string{"access_token", "refresh_token", "id_token"} {
			if token, ok := answer[name].(string); ok && token != "" {
				t.tokens = append(t.tokens, token)
			}
		}
		t.mu.Unlock()
		if t.edit != nil {
			t.edit(answer)
			body, _ = json.Marshal(answer)
			resp.Header.Del("Content-Length")
			resp.ContentLength = int64(len(body))
		}
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// With Config.DPoP, tokens that the provider did not bind to the login's key are refused: a
// Bearer token is worth as much to whoever steals it (RFC 9449 §5), and the app asked for more.
func TestDPoPBoundTokensRequired(t *testing.T) {
	h := newHarness(t, harnessOptions{
		op: func(s *oidctest.Server) {
			s.EditMetadata = func(m map[string]any) { m["dpop_signing_alg_values_supported"] = []string{"ES256"} }
		},
		config: func(c *Config) {
			c.DPoP = true
			// A provider, or anything on the way, that ignores the token request's DPoP proof.
			c.HTTPClient = &http.Client{Transport: &tokenAnswers{base: c.HTTPClient.Transport,
				edit: func(answer map[string]any) { answer["token_type"] = "Bearer" }}}
		},
	})
	resp := h.callback(h.authorize(h.toProvider("/private")))
	var pe *ProviderError
	if resp.StatusCode != http.StatusBadGateway || !errors.As(h.errs.last(), &pe) || pe.Endpoint != EndpointToken {
		t.Fatalf("a Bearer token for a DPoP login: %d, %v; want the token endpoint's answer refused", resp.StatusCode, h.errs.last())
	}
	if h.cookie("__Host-parlogin") != nil {
		t.Fatal("a session with a token that is not DPoP-bound")
	}
}

// A session made for another provider is no session here, even for a client of the same ID, and
// nor is a user that another provider's Middleware put in the request's context.
func TestSessionFromAnotherIssuerSameClient(t *testing.T) {
	store := testStore()
	h := newHarness(t, harnessOptions{config: func(c *Config) { c.Store = store }})
	h.login("/private")
	req, _ := http.NewRequest(http.MethodGet, h.app.URL+"/api/me", nil)
	for _, c := range h.jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	other := oidctest.NewTLSServer()
	defer other.Close()
	client := other.AddClient(oidctest.Client{ID: h.client.ID, RedirectURIs: []string{h.cfg.RedirectURL}})
	cfg := h.cfg
	cfg.Issuer, cfg.ClientSecret, cfg.HTTPClient = other.Issuer, client.Secret, other.Client()
	m, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := m.User(req); ok {
		t.Error("a session of another issuer was accepted for a client of the same ID")
	}
	if _, ok := m.User(req.WithContext(NewContext(req.Context(), mustUser(t, h.auth, req)))); ok {
		t.Error("a user that another issuer's Middleware signed in was trusted for a client of the same ID")
	}
}

// The result of a refresh that replicas share holds no token in clear: whoever reads the shared
// store (Redis) learns nothing without the refresh token it was sealed with.
func TestRefreshResultSealed(t *testing.T) {
	shared := newMemoryShared(time.Now)
	h, clk := refreshHarness(t, func(c *Config) { c.Shared = shared })
	h.login("/private")
	clk.Add(2 * time.Hour)
	refreshed := h.navigate(http.MethodGet, "/token", nil)
	if refreshed.StatusCode != http.StatusOK {
		t.Fatalf("refresh = %d %s", refreshed.StatusCode, readBody(refreshed))
	}
	req, _ := http.NewRequest(http.MethodGet, h.app.URL, nil)
	for _, c := range h.jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	s, err := h.auth.sessions.load(req, true)
	if err != nil || s == nil {
		t.Fatalf("the refreshed session: %v", err)
	}
	secrets := []string{readBody(refreshed), s.data.RefreshToken, s.data.IDToken}
	for _, r := range h.op.Requests(EndpointToken) {
		if rt := r.Get("refresh_token"); rt != "" {
			secrets = append(secrets, rt)
		}
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	results := 0
	for key, v := range shared.values {
		if strings.HasPrefix(key, "refresh/") {
			results++
		}
		for _, secret := range secrets {
			if secret != "" && bytes.Contains(v.value, []byte(secret)) {
				t.Errorf("the shared value of %s holds a token in clear", key)
			}
		}
	}
	if results != 1 {
		t.Fatalf("%d refresh results shared, want 1", results)
	}
}

// flakyShared is a Shared whose log cannot be read while down is set: the read fails with err,
// or a plain error when err is nil.
type flakyShared struct {
	Shared
	down atomic.Bool
	err  error
}

func (f *flakyShared) Read(ctx context.Context, cursor string) ([][]byte, string, error) {
	if f.down.Load() {
		if f.err != nil {
			return nil, "", f.err
		}
		return nil, "", errors.New("the shared state is down")
	}
	return f.Shared.Read(ctx, cursor)
}

// When the sessions ended on other replicas cannot be known (the shared state is down and the
// view is too old), a request with a session fails with 503 rather than serve a session that may
// have been ended, and rather than start a login.
func TestSharedDownFailsClosed(t *testing.T) {
	clk := newClock()
	shared := &flakyShared{Shared: newMemoryShared(clk.Now)}
	h := newHarness(t, harnessOptions{config: func(c *Config) { c.Shared = shared; c.Now = clk.Now }})
	h.login("/private")
	shared.down.Store(true)
	clk.Add(revocationsStale)
	if resp := h.api("/api/me"); resp.StatusCode != http.StatusServiceUnavailable || !errors.Is(h.errs.last(), ErrSessionStore) {
		t.Fatalf("an API call while the shared state is down: %d, %v; want 503 ErrSessionStore", resp.StatusCode, h.errs.last())
	}
	if resp := h.navigate(http.MethodGet, "/private", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a page while the shared state is down: %d, want 503", resp.StatusCode)
	}
	shared.down.Store(false)
	if resp := h.api("/api/me"); resp.StatusCode != http.StatusOK {
		t.Fatalf("once the shared state is back: %d", resp.StatusCode)
	}
}

// gatedShared is a Shared whose next log read, once held, waits until released.
type gatedShared struct {
	Shared
	mu      sync.Mutex
	gate    chan struct{} // closed to release the held read; nil when none is held
	entered chan struct{} // closed when the held read waits at the gate
}

// hold makes the next read wait for release; entered is closed when it does.
func (g *gatedShared) hold() (entered chan struct{}, release func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	gate := make(chan struct{})
	g.gate, g.entered = gate, make(chan struct{})
	return g.entered, func() { close(gate) }
}

func (g *gatedShared) Read(ctx context.Context, cursor string) ([][]byte, string, error) {
	g.mu.Lock()
	gate, entered := g.gate, g.entered
	g.gate, g.entered = nil, nil
	g.mu.Unlock()
	if gate != nil {
		close(entered)
		<-gate
	}
	return g.Shared.Read(ctx, cursor)
}

// A client that hangs up while its request waits for the shared state is not a failing store:
// the failure is logged at Debug, not as an error that an operator would chase.
func TestClientGoneIsNotAStoreFailure(t *testing.T) {
	clk := newClock()
	shared := &gatedShared{Shared: newMemoryShared(clk.Now)}
	h := newHarness(t, harnessOptions{config: func(c *Config) { c.Shared = shared; c.Now = clk.Now }})
	h.login("/private")
	clk.Add(revocationsStale) // the request must wait for a read of the log
	entered, release := shared.hold()
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequestWithContext(ctx, http.MethodGet, h.abs("/api/me"), nil)
	req.AddCookie(h.cookie("__Host-parlogin"))
	go func() { // the client hangs up while the read is held
		<-entered
		cancel()
	}()
	h.handler.Load().(http.Handler).ServeHTTP(httptest.NewRecorder(), req)
	if !errors.Is(h.errs.last(), ErrSessionStore) || !errors.Is(h.errs.last(), context.Canceled) {
		t.Fatalf("error = %v, want ErrSessionStore caused by the cancellation", h.errs.last())
	}
	logs := h.logs.String()
	if strings.Contains(logs, "level=ERROR") || !strings.Contains(logs, `level=DEBUG msg="parlogin: request failed"`) {
		t.Fatalf("a client that went away was logged as an error:\n%s", logs)
	}
}

// A store that fails with a cancellation of its own, while the client still waits, is a failing
// store: logged as an error, not passed over as a client that went away.
func TestStoreCancellationIsAFailure(t *testing.T) {
	clk := newClock()
	// A cancellation of the store's own, such as a client library whose pool was closed.
	shared := &flakyShared{Shared: newMemoryShared(clk.Now), err: fmt.Errorf("pool closed: %w", context.Canceled)}
	h := newHarness(t, harnessOptions{config: func(c *Config) { c.Shared = shared; c.Now = clk.Now }})
	h.login("/private")
	shared.down.Store(true)
	clk.Add(revocationsStale) // the request must read the log
	if resp := h.api("/api/me"); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("status = %d, want 503", resp.StatusCode)
	}
	if logs := h.logs.String(); !strings.Contains(logs, `level=ERROR msg="parlogin: request failed"`) {
		t.Fatalf("a store failing with a cancellation of its own was not logged as an error:\n%s", logs)
	}
}

// A replica whose view of the sessions ended elsewhere is a second old reads the log before it
// serves a session: a logout on another replica ends a copy of the cookie there within a second.
func TestRevocationsReadBeforeServing(t *testing.T) {
	clk := newClock()
	shared := &gatedShared{Shared: newMemoryShared(clk.Now)}
	h := newHarness(t, harnessOptions{config: func(c *Config) { c.Shared = shared; c.Now = clk.Now }})
	h.login("/private")
	first := h.auth
	replica, err := New(context.Background(), h.auth.cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.use(replica)
	if !h.signedIn() { // the replica reads the log
		t.Fatal("the other replica does not accept the session")
	}
	stolen := h.cookie("__Host-parlogin")
	h.use(first)
	if resp := h.navigate(http.MethodPost, "/auth/logout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout = %d", resp.StatusCode)
	}
	h.use(replica)
	clk.Add(revocationsStale)
	entered, release := shared.hold()
	req, _ := http.NewRequest(http.MethodGet, h.app.URL+"/api/me", nil)
	req.Header.Set("Sec-Fetch-Mode", "cors")
	req.AddCookie(&http.Cookie{Name: stolen.Name, Value: stolen.Value})
	answered := make(chan int, 1)
	go func() {
		resp, err := h.app.Client().Do(req)
		if err != nil {
			answered <- 0
			return
		}
		resp.Body.Close()
		answered <- resp.StatusCode
	}()
	select {
	case <-entered:
	case status := <-answered:
		t.Fatalf("the copy of the cookie was answered %d without reading the log", status)
	}
	select {
	case status := <-answered:
		t.Fatalf("the copy of the cookie was answered %d before the log was read", status)
	case <-time.After(100 * time.Millisecond):
	}
	release()
	if status := <-answered; status != http.StatusUnauthorized {
		t.Fatalf("a copy of the cookie a second after the logout on another replica: %d, want 401", status)
	}
}

// Full of live keys, the memory Shared forgets them rather than grow without bound.
func TestMemorySharedFull(t *testing.T) {
	clk := &clock{now: time.Unix(1_800_000_000, 0)}
	s := newMemoryShared(clk.Now)
	ctx := context.Background()
	for i := range maxMemoryKeys + 1 {
		_, _ = s.Claim(ctx, strconv.Itoa(i), clk.Now().Add(time.Hour))
	}
	if n := s.len(); n > maxMemoryKeys {
		t.Fatalf("%d live keys kept, more than %d", n, maxMemoryKeys)
	}
}

// A back-channel logout request larger than maxLogoutRequest is refused as such, before its
// token is looked at: the endpoint reads at most 64 KB of anyone's request.
func TestBackchannelLogoutBodyBounded(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	for _, tc := range []struct {
		size int
		want string
	}{
		{maxLogoutRequest - 100, "invalid logout token"},
		{maxLogoutRequest + 1, "malformed request body"},
		{4 << 20, "malformed request body"},
	} {
		resp := h.post("/auth/backchannel-logout", url.Values{"logout_token": {strings.Repeat("a", tc.size)}})
		var answer map[string]string
		if err := json.Unmarshal([]byte(readBody(resp)), &answer); err != nil || resp.StatusCode != http.StatusBadRequest ||
			answer["error_description"] != tc.want {
			t.Errorf("a request of %d bytes: %d %s; want 400 %q", tc.size, resp.StatusCode, readBody(resp), tc.want)
		}
	}
}

// The session cache never makes a planted cookie value an alias of the valid session beside it,
// also when that session is not cached yet: the first request that decodes it carries both.
func TestSessionCacheAliasingUncached(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.login("/private")
	valid := h.cookie("__Host-parlogin").Value
	ask := func(cookieHeader string) int { return h.apiWithCookies("/api/me", cookieHeader) }
	for _, planted := range []string{`x\y`, `"x"y"`, "x\x80y"} {
		restarted, err := New(context.Background(), h.cfg)
		if err != nil {
			t.Fatal(err)
		}
		h.use(restarted) // nothing cached
		if got := ask("__Host-parlogin=" + planted + "; __Host-parlogin=" + valid); got != http.StatusOK {
			t.Fatalf("the valid session beside a planted value: %d", got)
		}
		if got := ask("__Host-parlogin=" + planted); got != http.StatusUnauthorized {
			t.Fatalf("the planted value %q alone, after it came beside a valid session that was not cached: %d, want 401", planted, got)
		}
	}
}

// However many sessions it is given, the session cache holds at most maxCacheBytes.
func TestSessionCacheByteBound(t *testing.T) {
	c := newSessionCache()
	now := time.Now()
	d := &sessionData{ID: "S", Subject: "alice", Claims: []byte(`{"name":"` + strings.Repeat("a", 1000) + `"}`)}
	entry := maxCachedValue + d.size() + cacheEntryOverhead
	for i := range 2 * maxCacheBytes / entry {
		c.put(fmt.Sprintf("%08d", i)+strings.Repeat("v", maxCachedValue-8), d, now.Add(time.Hour), now.Add(time.Hour))
		if c.bytes > maxCacheBytes {
			t.Fatalf("after %d sessions the cache holds %d bytes, more than %d", i+1, c.bytes, maxCacheBytes)
		}
	}
	if c.len() < maxCacheBytes/entry/2 {
		t.Fatalf("the cache holds only %d sessions", c.len())
	}
}

// refusingStore is a FilesystemStore that, like the Redis store of parloginredis (SET XX), refuses
// to save a session whose record is gone, rather than create it again.
type refusingStore struct {
	*sessions.FilesystemStore
	dir string
}

func (s refusingStore) Save(r *http.Request, w http.ResponseWriter, session *sessions.Session) error {
	if session.ID != "" && session.Options != nil && session.Options.MaxAge >= 0 {
		if _, err := os.Stat(filepath.Join(s.dir, "session_"+session.ID)); errors.Is(err, fs.ErrNotExist) {
			return errors.New("the record is gone")
		}
	}
	return s.FilesystemStore.Save(r, w, session)
}

// A refresh on one replica that finishes after a logout on another, which it has not heard of
// yet, does not sign the user in again: the store refuses to re-create the record, no token is
// returned, the refresh answers 401 as for any ended session (not 503: the store is well), and
// the session stays ended on both replicas.
func TestLogoutOnAnotherReplicaRacesRefresh(t *testing.T) {
	clk := newClock()
	dir := t.TempDir()
	files := sessions.NewFilesystemStore(dir, []byte(testSecret))
	files.MaxLength(0)
	h := newHarness(t, harnessOptions{config: func(c *Config) {
		c.SaveTokens, c.Store, c.Now, c.Shared = true, refusingStore{files, dir}, clk.Now, newMemoryShared(clk.Now)
		c.Scopes = append(c.Scopes, "offline_access")
	}})
	h.op.SetClock(clk.Now)
	h.login("/private")
	first := h.auth
	replica, err := New(context.Background(), h.auth.cfg)
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(2 * time.Hour) // the access token has expired

	var once sync.Once
	entered, release := make(chan struct{}), make(chan struct{})
	h.op.SetIDTokenHook(func(map[string]any) { // the provider is answering the refresh
		once.Do(func() {
			close(entered)
			<-release
		})
	})
	h.use(replica)
	var refresh *http.Response
	var wg sync.WaitGroup
	wg.Go(func() { refresh = h.navigate(http.MethodGet, "/token", nil) })
	<-entered
	h.use(first)
	if resp := h.navigate(http.MethodPost, "/auth/logout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout = %d", resp.StatusCode)
	}
	close(release)
	wg.Wait()
	if refresh.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the refresh that finished after the logout on another replica = %d, want 401: %s", refresh.StatusCode, readBody(refresh))
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "session_*")); len(files) != 0 {
		t.Fatalf("the store holds %v after logout", files)
	}
	clk.Add(revocationsStale)
	for _, m := range []*Middleware{first, replica} {
		h.use(m)
		if h.signedIn() {
			t.Fatal("signed in after the logout")
		}
	}
}

// No token that the provider issued (ID, access and refresh tokens, those of the login and of the
// refresh) appears in a log line, an error or an event of a run with a login, a refresh and a
// logout.
func TestNoIssuedTokenInLogs(t *testing.T) {
	var events eventLog
	answers := &tokenAnswers{}
	h, clk := refreshHarness(t, func(c *Config) {
		c.OnEvent = events.add
		answers.base = c.HTTPClient.Transport
		c.HTTPClient = &http.Client{Transport: answers}
	})
	h.login("/private")
	clk.Add(2 * time.Hour)
	if resp := h.navigate(http.MethodGet, "/token", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh = %d", resp.StatusCode)
	}
	if resp := h.navigate(http.MethodPost, "/auth/logout", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout = %d", resp.StatusCode)
	}
	answers.mu.Lock()
	tokens := slices.Clone(answers.tokens)
	answers.mu.Unlock()
	if len(tokens) < 5 {
		t.Fatalf("%d tokens issued: the run did not log in and refresh", len(tokens))
	}
	texts := []string{h.logs.String()}
	for _, err := range h.errs.errs {
		texts = append(texts, err.Error())
	}
	events.mu.Lock()
	for _, e := range events.events {
		texts = append(texts, fmt.Sprintf("%#v", e))
	}
	events.mu.Unlock()
	for _, text := range texts {
		for _, token := range tokens {
			if strings.Contains(text, token) {
				t.Errorf("a token the provider issued (%d bytes) appears in %q", len(token), text)
			}
		}
	}
}
