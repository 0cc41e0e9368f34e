package parlogin

import (
	"errors"
	"net/http"
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
	now := time.Now()
	var wg sync.WaitGroup
	results := make([]*sessionData, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], _ = g.do("rt-1", now, func() (*sessionData, error) {
				calls.Add(1)
				<-release
				return &sessionData{AccessToken: "new"}, nil
			})
		}()
	}
	// Whether the others join the call in flight or find its result afterwards, the provider
	// must see one refresh.
	close(release)
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("%d refresh calls for one refresh token, want 1", n)
	}
	// A request that still carries the old refresh token shortly after gets the same result.
	late, _ := g.do("rt-1", now.Add(time.Second), func() (*sessionData, error) {
		calls.Add(1)
		return nil, errors.New("refresh token already used")
	})
	if late == nil || late.AccessToken != "new" || calls.Load() != 1 {
		t.Fatalf("late request: %v, %d calls", late, calls.Load())
	}
}
