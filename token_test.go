package parlogin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin/oidctest"
)

func TestTokenRefresh(t *testing.T) {
	clk := newClock()
	store := sessions.NewFilesystemStore(t.TempDir(), []byte(testSecret))
	store.MaxLength(0)
	h := newHarness(t, harnessOptions{config: func(c *Config) {
		c.SaveTokens = true
		c.Store = store
		c.Scopes = append(c.Scopes, "offline_access")
		c.Now = clk.Now
	}})
	h.op.SetClock(clk.Now)
	h.login("/private")
	first := readBody(h.navigate(http.MethodGet, "/token", nil))
	if again := readBody(h.navigate(http.MethodGet, "/token", nil)); again != first {
		t.Fatal("a valid access token was refreshed")
	}
	clk.Add(2 * time.Hour) // past the access token's expiry, within the session's
	refreshed := h.navigate(http.MethodGet, "/token", nil)
	if refreshed.StatusCode != http.StatusOK || readBody(refreshed) == first {
		t.Fatalf("expired access token: %d %s", refreshed.StatusCode, readBody(refreshed))
	}
	reqs := h.op.Requests(EndpointToken)
	last := reqs[len(reqs)-1]
	if last.Get("grant_type") != "refresh_token" || last.Get("client_assertion") == "" || last.Has("client_secret") {
		t.Errorf("refresh request = %v", last)
	}
	if got := readBody(h.navigate(http.MethodGet, "/token", nil)); got != readBody(refreshed) {
		t.Error("the refreshed token was not saved in the session")
	}
}

func TestRefreshGroupSharesOneCall(t *testing.T) {
	var g refreshGroup
	var calls atomic.Int32
	release := make(chan struct{})
	entered := make(chan struct{})
	var wg sync.WaitGroup
	results := make([]*sessionData, 8)
	wg.Go(func() {
		results[0], _ = g.do("rt-1", func() (*sessionData, error) {
			calls.Add(1)
			close(entered)
			<-release
			return &sessionData{AccessToken: "new"}, nil
		})
	})
	<-entered // the call is in flight: the others join it
	for i := 1; i < len(results); i++ {
		wg.Go(func() {
			results[i], _ = g.do("rt-1", func() (*sessionData, error) {
				calls.Add(1)
				return &sessionData{AccessToken: "another"}, nil
			})
		})
	}
	for g.waiting() < len(results)-1 {
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d refresh calls for one refresh token, want 1", n)
	}
	for i, r := range results {
		if r == nil || r.AccessToken != "new" {
			t.Fatalf("caller %d got %+v", i, r)
		}
	}
}

// A refresh that panics releases the requests waiting for it, and the next may try again.
func TestRefreshGroupPanic(t *testing.T) {
	var g refreshGroup
	func() {
		defer func() { _ = recover() }()
		_, _ = g.do("rt-1", func() (*sessionData, error) { panic("boom") })
	}()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if d, err := g.do("rt-1", func() (*sessionData, error) { return &sessionData{AccessToken: "new"}, nil }); err != nil || d.AccessToken != "new" {
			t.Errorf("after a panic: %+v, %v", d, err)
		}
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a refresh after a panicking one blocks")
	}
}

// refreshHarness is a signed-in user with tokens in a server-side store, and a clock past the
// access token's expiry: the next Token call refreshes.
func refreshHarness(t *testing.T, opts ...func(*Config)) (*harness, *clock) {
	t.Helper()
	clk := newClock()
	store := sessions.NewFilesystemStore(t.TempDir(), []byte(testSecret))
	store.MaxLength(0)
	h := newHarness(t, harnessOptions{config: func(c *Config) {
		c.SaveTokens, c.Store, c.Now = true, store, clk.Now
		c.Scopes = append(c.Scopes, "offline_access")
		for _, o := range opts {
			o(c)
		}
	}})
	h.op.SetClock(clk.Now)
	return h, clk
}

// The claims that came from UserInfo stay after a refresh, whose new ID token lacks them.
func TestRefreshKeepsUserInfoClaims(t *testing.T) {
	h, clk := refreshHarness(t)
	h.op.SetIDTokenHook(func(c map[string]any) { delete(c, "email"); delete(c, "name") })
	h.login("/private")
	if me := jsonBody(t, h.api("/api/me")); me["email"] != "alice@example.com" {
		t.Fatalf("before the refresh: %v", me)
	}
	clk.Add(2 * time.Hour)
	if resp := h.navigate(http.MethodGet, "/token", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh = %d %s", resp.StatusCode, readBody(resp))
	}
	clk.Add(serverSideCacheTTL) // past the cached copy from before the refresh
	if me := jsonBody(t, h.api("/api/me")); me["email"] != "alice@example.com" || me["name"] != "Alice Example" {
		t.Fatalf("after the refresh: %v, want the claims from UserInfo", me)
	}
}

// A refresh the provider refuses, or whose ID token is not the session's, ends the session; one
// the provider cannot answer keeps it.
func TestRefreshFailures(t *testing.T) {
	tests := []struct {
		name       string
		setup      func(h *harness)
		status     int
		sessionEnd bool
	}{
		{"invalid_grant", func(h *harness) {
			h.op.Inject(EndpointToken, oidctest.Fault{Error: "invalid_grant", Status: http.StatusBadRequest})
		}, http.StatusBadGateway, true},
		{"id token for another subject", func(h *harness) {
			h.op.SetIDTokenHook(func(c map[string]any) { c["sub"] = "mallory" })
		}, http.StatusBadGateway, true},
		{"id token from another issuer", func(h *harness) {
			h.op.SetIDTokenHook(func(c map[string]any) { c["iss"] = "https://evil.example" })
		}, http.StatusBadGateway, true},
		{"provider down", func(h *harness) {
			h.op.Inject(EndpointToken, oidctest.Fault{Status: http.StatusServiceUnavailable, Body: "down"})
		}, http.StatusBadGateway, false},
		{"provider slow", func(h *harness) {
			h.op.Inject(EndpointToken, oidctest.Fault{Delay: time.Minute})
		}, http.StatusGatewayTimeout, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, clk := refreshHarness(t, func(c *Config) { withTimeout(c, time.Second) })
			h.login("/private")
			clk.Add(2 * time.Hour)
			tc.setup(h)
			if resp := h.navigate(http.MethodGet, "/token", nil); resp.StatusCode != tc.status {
				t.Fatalf("refresh = %d %s, want %d", resp.StatusCode, readBody(resp), tc.status)
			}
			h.op.ClearFaults()
			h.op.SetIDTokenHook(nil)
			me := h.api("/api/me")
			if ended := me.StatusCode == http.StatusUnauthorized; ended != tc.sessionEnd {
				t.Fatalf("after the failed refresh /api/me = %d; want the session ended: %v", me.StatusCode, tc.sessionEnd)
			}
			if !tc.sessionEnd {
				if resp := h.navigate(http.MethodGet, "/token", nil); resp.StatusCode != http.StatusOK {
					t.Fatalf("a refresh once the provider is back = %d %s", resp.StatusCode, readBody(resp))
				}
			}
		})
	}
}

// deadlineShared records the deadline of the claim of a refresh and of the sharing of its result.
type deadlineShared struct {
	Shared
	mu         sync.Mutex
	claim, set time.Time
}

func (d *deadlineShared) Claim(ctx context.Context, key string, exp time.Time) (bool, error) {
	if dl, ok := ctx.Deadline(); ok && strings.HasPrefix(key, "refreshing/") {
		d.mu.Lock()
		d.claim = dl
		d.mu.Unlock()
	}
	return d.Shared.Claim(ctx, key, exp)
}

func (d *deadlineShared) Set(ctx context.Context, key string, value []byte, exp time.Time) error {
	if dl, ok := ctx.Deadline(); ok && strings.HasPrefix(key, "refresh/") {
		d.mu.Lock()
		d.set = dl
		d.mu.Unlock()
	}
	return d.Shared.Set(ctx, key, value, exp)
}

// A refresh's result is shared within a time of its own, not within what the provider's answer
// left of the refresh's: a provider that answers at the end of its time would otherwise leave no
// time to share the result, and a replica waiting for it would redeem the same refresh token.
func TestRefreshResultSharedInTimeOfItsOwn(t *testing.T) {
	shared := &deadlineShared{Shared: newMemoryShared(time.Now)}
	h, clk := refreshHarness(t, func(c *Config) { c.Shared = shared })
	h.login("/private")
	clk.Add(2 * time.Hour)
	if resp := h.api("/token"); resp.StatusCode != http.StatusOK {
		t.Fatalf("refresh: %d", resp.StatusCode)
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.claim.IsZero() || !shared.set.After(shared.claim) {
		t.Fatalf("the result was shared with a deadline of %v, the refresh's own being %v", shared.set, shared.claim)
	}
}

// Two replicas sharing their state redeem one refresh token once, whether their refreshes overlap
// or follow each other.
func TestRefreshAcrossReplicas(t *testing.T) {
	shared := newMemoryShared(time.Now)
	h, clk := refreshHarness(t, func(c *Config) { c.Shared = shared })
	h.login("/private")
	other, err := New(context.Background(), h.auth.cfg)
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(2 * time.Hour)
	req, _ := http.NewRequest(http.MethodGet, h.app.URL+"/token", nil)
	for _, c := range h.jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	var wg sync.WaitGroup
	tokens := make([]string, 4)
	for i := range tokens {
		replica := h.auth
		if i%2 == 1 {
			replica = other
		}
		wg.Go(func() {
			tok, err := replica.Token(httptest.NewRecorder(), req.Clone(context.Background()))
			if err != nil {
				t.Errorf("replica %d: %v", i%2, err)
				return
			}
			tokens[i] = tok.AccessToken
		})
	}
	wg.Wait()
	refreshes := 0
	for _, r := range h.op.Requests(EndpointToken) {
		if r.Get("grant_type") == "refresh_token" {
			refreshes++
		}
	}
	if refreshes != 1 {
		t.Fatalf("%d refreshes of one refresh token by two replicas, want 1", refreshes)
	}
	for _, tok := range tokens[1:] {
		if tok != tokens[0] {
			t.Fatalf("the replicas returned different tokens: %q", tokens)
		}
	}
}
