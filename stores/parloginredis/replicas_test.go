package parloginredis_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/oidctest"
	"github.com/parlogin/parlogin/stores/parloginredis"
	"github.com/redis/go-redis/v9"
)

// The tests below run an app as it is deployed (DESIGN §5): three replicas, each a
// parlogin.Middleware of the same configuration with its own Redis client, behind a round-robin
// reverse proxy, so that consecutive requests of a browser hit different replicas; an oidctest
// provider; and a browser-like client with a cookie jar. They use parlogin's public API only.

// replicaTimeout bounds each call of the replicas to Redis.
const replicaTimeout = time.Second

// testClock is the clock of the provider and of the replicas: it starts at the real time and
// only moves forward, when a test says so. (Expiries in Redis follow Redis's clock: a clock
// ahead of it only makes them later.)
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// storeKind selects the replicas' session store.
type storeKind string

const (
	cookieStore storeKind = "CookieStore" // sessions in cookies, Shared in Redis
	redisStore  storeKind = "RedisStore"  // sessions and Shared in Redis
)

// cluster is three replicas of an app behind a round-robin proxy, signing users in at op.
type cluster struct {
	t        *testing.T
	redis    *redisServer
	clients  []*redis.Client // one per replica
	clock    *testClock
	op       *oidctest.Server
	replicas []*httptest.Server
	dead     [3]atomic.Bool // replicas killed: the proxy sends them nothing more
	proxy    *httptest.Server
	turn     atomic.Uint64
}

// newCluster starts a cluster whose replicas use a session store of kind; configure, if given,
// edits each replica's configuration.
func newCluster(t *testing.T, kind storeKind, configure ...func(*parlogin.Config)) *cluster {
	t.Helper()
	c := &cluster{t: t, redis: startRedis(t), clock: &testClock{now: time.Now()}}
	c.op = oidctest.NewServer()
	t.Cleanup(c.op.Close)
	c.op.SetClock(c.clock.Now)

	c.proxy = httptest.NewServer(&httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			i := (c.turn.Add(1) - 1) % uint64(len(c.replicas))
			for c.dead[i].Load() { // a load balancer's health check: the next live replica
				i = (c.turn.Add(1) - 1) % uint64(len(c.replicas))
			}
			target, _ := url.Parse(c.replicas[i].URL)
			pr.SetURL(target)
			pr.Out.Host = pr.In.Host // the app's public host, as behind a real load balancer
		},
	})
	t.Cleanup(c.proxy.Close)

	client := c.op.AddClient(oidctest.Client{
		RedirectURIs:           []string{c.proxy.URL + "/auth/callback"},
		PostLogoutRedirectURIs: []string{c.proxy.URL + "/bye"},
	})
	for i := range 3 {
		rdb := c.redis.Client()
		c.clients = append(c.clients, rdb)
		var store sessions.Store = sessions.NewCookieStore(hashKey, blockKey)
		if kind == redisStore {
			s := parloginredis.NewStore(rdb, hashKey, blockKey)
			s.Timeout = replicaTimeout
			store = s
		}
		cfg := parlogin.Config{
			Issuer:                c.op.Issuer,
			ClientID:              client.ID,
			ClientSecret:          client.Secret,
			RedirectURL:           c.proxy.URL + "/auth/callback",
			PostLogoutRedirectURL: c.proxy.URL + "/bye",
			Store:                 store,
			Shared:                parloginredis.New(rdb, parloginredis.WithTimeout(replicaTimeout)),
			SaveTokens:            true,
			Scopes:                []string{"offline_access"},
			Now:                   c.clock.Now,
			Logger:                slog.New(slog.DiscardHandler),
			ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
				// The cause in the body, for the test's messages.
				http.Error(w, err.Error(), parlogin.ErrorStatus(err))
			},
		}
		for _, f := range configure {
			f(&cfg)
		}
		auth, err := parlogin.New(context.Background(), cfg)
		if err != nil {
			t.Fatalf("replica %d: %v", i, err)
		}
		c.replicas = append(c.replicas, httptest.NewServer(replicaRoutes(i, auth)))
		t.Cleanup(c.replicas[i].Close)
	}
	return c
}

// kill stops replica i, as a crash would, and takes it out of the proxy's rotation.
func (c *cluster) kill(i int) {
	c.dead[i].Store(true)
	c.replicas[i].CloseClientConnections()
	c.replicas[i].Close()
}

// replicaRoutes are the routes of replica i, each answer saying which replica served it.
func replicaRoutes(i int, auth *parlogin.Middleware) http.Handler {
	mux := http.NewServeMux()
	whoami := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := parlogin.FromContext(r.Context())
		_ = json.NewEncoder(w).Encode(map[string]string{"sub": u.Subject})
	})
	mux.Handle("/private", auth.Require(whoami))
	mux.Handle("/api/me", auth.Require(whoami))
	mux.HandleFunc("/auth/callback", auth.Callback)
	mux.HandleFunc("/auth/login", auth.Login)
	mux.HandleFunc("POST /auth/logout", auth.Logout)
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		tok, err := auth.Token(w, r)
		if errors.Is(err, parlogin.ErrNoToken) {
			http.Error(w, err.Error(), http.StatusUnauthorized) // the app's choice: sign in again
			return
		}
		if err != nil {
			http.Error(w, err.Error(), parlogin.ErrorStatus(err))
			return
		}
		_, _ = io.WriteString(w, tok.AccessToken)
	})
	mux.HandleFunc("/bye", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "signed out") })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Replica", strconv.Itoa(i))
		mux.ServeHTTP(w, r)
	})
}

// answer is a response, read whole.
type answer struct {
	status   int
	replica  int // -1 when not served by a replica (the provider)
	location string
	cookies  []*http.Cookie
	body     string
	took     time.Duration
}

func (a answer) String() string {
	return fmt.Sprintf("%d from replica %d (Location %q): %s", a.status, a.replica, a.location, strings.TrimSpace(a.body))
}

// browser is a browser-like client: a cookie jar, redirects followed one at a time.
type browser struct {
	t    *testing.T
	c    *cluster
	jar  *cookiejar.Jar
	http *http.Client
}

func (c *cluster) newBrowser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: c.t, c: c, jar: jar, http: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) do(req *http.Request) answer {
	b.t.Helper()
	a, err := send(b.http, req)
	if err != nil {
		b.t.Fatal(err)
	}
	return a
}

// noRedirects is a client without a cookie jar that returns redirects.
var noRedirects = &http.Client{
	Timeout:       30 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// send sends req with client and reads the answer whole.
func send(client *http.Client, req *http.Request) (answer, error) {
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: %w", req.Method, req.URL, err)
	}
	a := answer{status: resp.StatusCode, replica: -1, location: resp.Header.Get("Location"), cookies: resp.Cookies(), body: string(body), took: time.Since(start)}
	if r := resp.Header.Get("X-Replica"); r != "" {
		a.replica, _ = strconv.Atoi(r)
	}
	return a, nil
}

// abs resolves target against the app's public URL.
func (b *browser) abs(target string) string {
	u, err := url.Parse(b.c.proxy.URL)
	if err != nil {
		b.t.Fatal(err)
	}
	ref, err := url.Parse(target)
	if err != nil {
		b.t.Fatal(err)
	}
	return u.ResolveReference(ref).String()
}

// navigate is what a click or the address bar does.
func (b *browser) navigate(method, target string) answer {
	b.t.Helper()
	req, err := http.NewRequest(method, b.abs(target), nil)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// api is a script's request.
func (b *browser) api(target string) answer {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.abs(target), nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	return b.do(req)
}

// expect fails the test unless a has status.
func expect(t *testing.T, what string, a answer, status int) {
	t.Helper()
	if a.status != status {
		t.Fatalf("%s = %v, want %d", what, a, status)
	}
}

// cookieHeader returns the Cookie header the browser sends to the app now.
func (b *browser) cookieHeader() string {
	u, _ := url.Parse(b.c.proxy.URL)
	var parts []string
	for _, c := range b.jar.Cookies(u) {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// with sends req as a copy of the browser would, whose Cookie header is cookies: the browser's
// jar is neither read nor changed. It may be called from any goroutine.
func (b *browser) with(cookies string, req *http.Request) (answer, error) {
	req.Header.Set("Cookie", cookies)
	return send(noRedirects, req)
}

// apiWith makes an API request with the Cookie header cookies, as a copy of the browser would.
func (b *browser) apiWith(cookies, target string) answer {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.abs(target), nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	a, err := b.with(cookies, req)
	if err != nil {
		b.t.Fatal(err)
	}
	return a
}

// login signs in, starting at /private, and returns the replicas that served the start, the
// callback and the page after it.
func (b *browser) login() (start, callback, page int) {
	b.t.Helper()
	toOP := b.navigate(http.MethodGet, "/private")
	expect(b.t, "GET /private without a session", toOP, http.StatusSeeOther)
	fromOP := b.navigate(http.MethodGet, toOP.location)
	expect(b.t, "the provider's authorization endpoint", fromOP, http.StatusSeeOther)
	cb := b.navigate(http.MethodGet, fromOP.location)
	expect(b.t, "the callback", cb, http.StatusSeeOther)
	final := b.navigate(http.MethodGet, cb.location)
	expect(b.t, "the page after the login", final, http.StatusOK)
	if !strings.Contains(final.body, `"sub":"alice"`) {
		b.t.Fatalf("page after the login: %v", final)
	}
	return toOP.replica, cb.replica, final.replica
}

// onEveryReplica makes three consecutive requests, which the proxy sends to the three replicas,
// and checks that each got status.
func (b *browser) onEveryReplica(what string, status int, request func() answer) {
	b.t.Helper()
	seen := map[int]bool{}
	for range 3 {
		a := request()
		seen[a.replica] = true
		expect(b.t, fmt.Sprintf("%s on replica %d", what, a.replica), a, status)
	}
	if len(seen) != 3 {
		b.t.Fatalf("%s reached replicas %v, want all three", what, seen)
	}
}

// logout posts to the logout route of the next replica.
func (b *browser) logout() answer {
	b.t.Helper()
	out := b.navigate(http.MethodPost, "/auth/logout")
	expect(b.t, "POST /auth/logout", out, http.StatusSeeOther)
	return out
}

// forEachStore runs test with each kind of session store, in parallel: the clusters share
// nothing, and the tests with Redis down spend their time waiting for timeouts.
func forEachStore(t *testing.T, test func(t *testing.T, kind storeKind)) {
	for _, kind := range []storeKind{cookieStore, redisStore} {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			test(t, kind)
		})
	}
}

// A login whose callback lands on another replica than its start, and whose page after it on a
// third: the pending login travels in the flow cookie or in Redis, never in one process.
func TestReplicasLogin(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind storeKind) {
		c := newCluster(t, kind)
		b := c.newBrowser()
		start, callback, page := b.login()
		if start == callback || callback == page || start == page {
			t.Fatalf("login served by replicas %d, %d, %d: want three different ones", start, callback, page)
		}
		b.onEveryReplica("GET /api/me, signed in", http.StatusOK, func() answer { return b.api("/api/me") })
	})
}

// A replica killed between a login's start and its callback loses nothing: the callback lands on
// another replica, which finishes the login, as the pending login lives in the browser's cookie (or
// in Redis) and the state's single use in Redis.
func TestReplicasKilledMidLogin(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind storeKind) {
		c := newCluster(t, kind)
		b := c.newBrowser()
		toOP := b.navigate(http.MethodGet, "/private")
		expect(t, "GET /private without a session", toOP, http.StatusSeeOther)
		c.kill(toOP.replica)
		fromOP := b.navigate(http.MethodGet, toOP.location)
		expect(t, "the provider's authorization endpoint", fromOP, http.StatusSeeOther)
		cb := b.navigate(http.MethodGet, fromOP.location)
		expect(t, "the callback, after the replica that started the login died", cb, http.StatusSeeOther)
		if cb.replica == toOP.replica {
			t.Fatalf("the callback reached the dead replica %d", cb.replica)
		}
		final := b.navigate(http.MethodGet, cb.location)
		expect(t, "the page after the login", final, http.StatusOK)
		if !strings.Contains(final.body, `"sub":"alice"`) {
			t.Fatalf("page after the login: %v", final)
		}
	})
}

// A callback replayed with the same state and cookies, on another replica than the one that
// accepted it, is refused: the state is used up for every replica.
func TestReplicasReplayedCallback(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind storeKind) {
		c := newCluster(t, kind)
		b := c.newBrowser()
		toOP := b.navigate(http.MethodGet, "/private")
		expect(t, "GET /private", toOP, http.StatusSeeOther)
		fromOP := b.navigate(http.MethodGet, toOP.location)
		expect(t, "authorization", fromOP, http.StatusSeeOther)
		captured := b.cookieHeader() // the flow cookie of the pending login, as an attacker would copy it

		cb := b.navigate(http.MethodGet, fromOP.location)
		expect(t, "the callback", cb, http.StatusSeeOther)
		req, _ := http.NewRequest(http.MethodGet, b.abs(fromOP.location), nil)
		req.Header.Set("Accept", "text/html")
		req.Header.Set("Sec-Fetch-Mode", "navigate")
		replay, err := b.with(captured, req)
		if err != nil {
			t.Fatal(err)
		}
		if replay.replica == cb.replica {
			t.Fatalf("the replay reached the replica of the callback, %d", cb.replica)
		}
		expect(t, "the replayed callback", replay, http.StatusBadRequest)
		if !strings.Contains(replay.body, parlogin.ErrInvalidState.Error()) {
			t.Fatalf("replay refused for another reason: %v", replay)
		}
		for _, ck := range replay.cookies {
			if ck.Name == "parlogin" && ck.MaxAge >= 0 {
				t.Fatalf("the replay was given a session cookie: %v", ck)
			}
		}
		// The browser that logged in is signed in all the same.
		b.onEveryReplica("GET /api/me", http.StatusOK, func() answer { return b.api("/api/me") })
	})
}

// A logout on one replica ends the session on all: a copy of the session cookie taken before
// the logout is refused everywhere, at once on the replica that logged out, and within a second
// of the clock on the others: the logout reaches them through the log of Shared, which each
// reads at least every second (parlogin's revocationsStale). With the sessions in Redis too: each
// replica serves a session it read from Redis from its memory for up to a second, the price of a
// signed-in request that costs no round trip to Redis (BENCHMARKS.md).
func TestReplicasLogout(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind storeKind) {
		c := newCluster(t, kind)
		b := c.newBrowser()
		b.login()
		// Every replica has served, and remembers, the session.
		b.onEveryReplica("GET /api/me", http.StatusOK, func() answer { return b.api("/api/me") })
		stolen := b.cookieHeader()

		out := b.logout()
		c.turn.Add(2) // the next request goes to the replica that logged out
		same := b.apiWith(stolen, "/api/me")
		if same.replica != out.replica {
			t.Fatalf("the request meant for the replica of the logout, %d, reached %d", out.replica, same.replica)
		}
		expect(t, "the stolen cookie on the replica of the logout", same, http.StatusUnauthorized)

		c.clock.Add(time.Second + time.Millisecond)
		b.onEveryReplica("the stolen cookie, a second later", http.StatusUnauthorized, func() answer { return b.apiWith(stolen, "/api/me") })
	})
}

// Concurrent requests needing the token of one session whose access token has expired, one on
// each replica, make exactly one refresh at the provider (a rotating refresh token is redeemed
// once), and all of them get the new access token.
func TestReplicasConcurrentRefresh(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind storeKind) {
		c := newCluster(t, kind)
		b := c.newBrowser()
		b.login()
		before := b.api("/token")
		expect(t, "GET /token", before, http.StatusOK)

		c.clock.Add(time.Hour + time.Minute) // oidctest's access tokens last an hour
		cookies := b.cookieHeader()
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			answers = make([]answer, 3)
			errs    = make([]error, 3)
		)
		for i := range answers {
			req, _ := http.NewRequest(http.MethodGet, b.abs("/token"), nil)
			wg.Go(func() {
				<-start
				answers[i], errs[i] = b.with(cookies, req)
			})
		}
		close(start)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}

		seen := map[int]bool{}
		for _, a := range answers {
			seen[a.replica] = true
			expect(t, fmt.Sprintf("GET /token on replica %d", a.replica), a, http.StatusOK)
			if a.body == before.body || a.body != answers[0].body {
				t.Fatalf("tokens: before %q, after %q, %q, %q; want one new token for all", before.body, answers[0].body, answers[1].body, answers[2].body)
			}
		}
		if len(seen) != 3 {
			t.Fatalf("the refreshes reached replicas %v, want all three", seen)
		}
		refreshes := 0
		for _, req := range c.op.Requests(parlogin.EndpointToken) {
			if req.Get("grant_type") == "refresh_token" {
				refreshes++
			}
		}
		if refreshes != 1 {
			t.Fatalf("%d refresh requests at the provider, want 1", refreshes)
		}
	})
}

// While Redis is down, a signed-in user's requests get 503: not 401, not a login redirect,
// which would send a signed-in user to the provider for nothing, and not their page, since
// whether their session was ended is unknown. No request waits longer than the timeout. Once
// Redis is back, everything works again.
func TestReplicasRedisDown(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind storeKind) {
		c := newCluster(t, kind)
		b := c.newBrowser()
		b.login()
		c.redis.Stop()
		// Past the replicas' caches: a session read within the last second, and the view of the
		// log, are served from memory without Redis (parlogin's serverSideCacheTTL and
		// revocationsStale).
		c.clock.Add(time.Second + time.Millisecond)
		checkUnavailable(t, c, b, kind)

		c.redis.Start()
		for _, rdb := range c.clients {
			c.redis.WaitReady(rdb)
		}
		checkBackAfterRestart(t, c, b, kind)
	})
}

// A Redis that hangs (no answers, connections open) is no different, within the timeout.
func TestReplicasRedisHung(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind storeKind) {
		c := newCluster(t, kind)
		b := c.newBrowser()
		b.login()
		c.redis.Freeze()
		c.clock.Add(time.Second + time.Millisecond)
		checkUnavailable(t, c, b, kind)
		c.redis.Thaw()
		b.onEveryReplica("GET /api/me after Redis resumed", http.StatusOK, func() answer { return b.api("/api/me") })
	})
}

// checkUnavailable checks what the replicas answer while Redis cannot be reached.
func checkUnavailable(t *testing.T, c *cluster, b *browser, kind storeKind) {
	t.Helper()
	bounded := func(a answer) answer {
		t.Helper()
		// parloginredis's own bound; go-redis's would be longer (its retries with a killed
		// Redis, and the clients' one-minute read timeout with a hung one).
		if a.took > replicaTimeout+2*time.Second {
			t.Fatalf("a request took %v while Redis was down; timeout %v: %v", a.took, replicaTimeout, a)
		}
		return a
	}
	b.onEveryReplica("GET /api/me, signed in, Redis down", http.StatusServiceUnavailable, func() answer { return bounded(b.api("/api/me")) })
	b.onEveryReplica("GET /private, signed in, Redis down", http.StatusServiceUnavailable, func() answer { return bounded(b.navigate(http.MethodGet, "/private")) })

	// A login: its start needs Redis only where the pending login is kept there. With a cookie
	// store it works (PAR at the provider, the flow in a cookie), and the callback then fails,
	// since the state must be claimed in Redis so that it is used once on every replica.
	anon := c.newBrowser()
	start := bounded(anon.navigate(http.MethodGet, "/private"))
	if kind == redisStore {
		expect(t, "a login start with the pending login in Redis, Redis down", start, http.StatusServiceUnavailable)
		return
	}
	expect(t, "a login start with a cookie store, Redis down", start, http.StatusSeeOther)
	fromOP := anon.navigate(http.MethodGet, start.location)
	expect(t, "authorization", fromOP, http.StatusSeeOther)
	expect(t, "the callback, Redis down", bounded(anon.navigate(http.MethodGet, fromOP.location)), http.StatusServiceUnavailable)
}

// checkBackAfterRestart checks that the replicas work again after Redis restarted, empty.
func checkBackAfterRestart(t *testing.T, c *cluster, b *browser, kind storeKind) {
	t.Helper()
	c.clock.Add(time.Second + time.Millisecond)
	if kind == redisStore {
		// The sessions were in the Redis that lost its data: signed out, not failing.
		b.onEveryReplica("GET /api/me, session lost with Redis", http.StatusUnauthorized, func() answer { return b.api("/api/me") })
	} else {
		b.onEveryReplica("GET /api/me after the restart", http.StatusOK, func() answer { return b.api("/api/me") })
	}
	// A new login works, across replicas, and so does a logout reaching every replica through
	// the new log (the replicas' cursors are of the lost one).
	b = c.newBrowser()
	b.login()
	b.onEveryReplica("GET /api/me after a new login", http.StatusOK, func() answer { return b.api("/api/me") })
	stolen := b.cookieHeader()
	b.logout()
	c.clock.Add(time.Second + time.Millisecond)
	b.onEveryReplica("a stolen cookie after a logout", http.StatusUnauthorized, func() answer { return b.apiWith(stolen, "/api/me") })
}

// refreshGate holds the refreshes that the replicas send to the provider until released, so that
// a test can act while one is in flight.
type refreshGate struct {
	arrived chan struct{} // closed when the first refresh reaches the gate
	release chan struct{} // closed by the test to let the refreshes through
	once    sync.Once
}

func (g *refreshGate) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && req.Body != nil {
		body, err := io.ReadAll(req.Body)
		_ = req.Body.Close()
		if err != nil {
			return nil, err
		}
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(body))
		if form, _ := url.ParseQuery(string(body)); form.Get("grant_type") == "refresh_token" {
			g.once.Do(func() { close(g.arrived) })
			select {
			case <-g.release:
			case <-req.Context().Done():
				return nil, req.Context().Err()
			}
		}
	}
	return http.DefaultTransport.RoundTrip(req)
}

// A refresh that finishes after a logout on another replica does not sign the user back in:
// the session saved with the new tokens is not written again (Store: SET XX finds no record;
// cookie store: the session's ID is revoked), and neither the old cookie nor the one the refresh
// answered lets anyone in.
func TestReplicasRefreshRacingLogout(t *testing.T) {
	forEachStore(t, func(t *testing.T, kind storeKind) {
		gate := &refreshGate{arrived: make(chan struct{}), release: make(chan struct{})}
		c := newCluster(t, kind, func(cfg *parlogin.Config) { cfg.HTTPClient = &http.Client{Transport: gate} })
		b := c.newBrowser()
		b.login()
		c.clock.Add(time.Hour + time.Minute) // the access token has expired
		stolen := b.cookieHeader()

		type result struct {
			a   answer
			err error
		}
		refreshed := make(chan result, 1)
		req, _ := http.NewRequest(http.MethodGet, b.abs("/token"), nil)
		go func() {
			a, err := b.with(stolen, req)
			refreshed <- result{a, err}
		}()
		select { // a replica is redeeming the refresh token
		case <-gate.arrived:
		case <-time.After(30 * time.Second):
			t.Fatal("no refresh reached the provider")
		}
		b.logout() // on the next replica
		close(gate.release)
		r := <-refreshed
		if r.err != nil {
			t.Fatal(r.err)
		}
		res := r.a
		t.Logf("the refresh after the logout: %v", res)
		if res.status == http.StatusOK && kind == redisStore {
			t.Fatalf("the refresh saved a session deleted by the logout: %v", res)
		}
		if kind == redisStore {
			if keys := c.clients[0].Keys(context.Background(), "parlogin:session:*").Val(); len(keys) != 0 {
				t.Fatalf("session records after the logout: %v", keys)
			}
		}
		// Whatever cookie the refresh answered is as dead as the old one, on every replica.
		fresh := stolen
		for _, ck := range res.cookies {
			if ck.Name == "parlogin" && ck.MaxAge >= 0 {
				fresh = ck.Name + "=" + ck.Value
			}
		}
		c.clock.Add(time.Second + time.Millisecond)
		b.onEveryReplica("the old cookie after the logout", http.StatusUnauthorized, func() answer { return b.apiWith(stolen, "/api/me") })
		b.onEveryReplica("the refresh's cookie after the logout", http.StatusUnauthorized, func() answer { return b.apiWith(fresh, "/api/me") })

		t.Run("the refresh says the session ended", func(t *testing.T) {
			// Either parlogin finds the session ended before saving it (ErrNoToken, which the app
			// answers 401), or the provider already refused the refresh token that the logout
			// revoked (RFC 7009), an invalid_grant that ends the session too.
			if res.status != http.StatusUnauthorized && (res.status != http.StatusBadGateway || !strings.Contains(res.body, "invalid_grant")) {
				t.Errorf("GET /token racing a logout = %v, want 401, or 502 with invalid_grant", res)
			}
		})
	})
}
