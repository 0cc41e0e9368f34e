package parlogin

import (
	"net/http"
	"runtime"
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
	reqs := h.op.Requests(oidctest.Token)
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
