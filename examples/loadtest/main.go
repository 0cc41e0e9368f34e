// Command loadtest measures parlogin end to end over loopback. It starts an oidctest provider and
// an app protected by parlogin in this process, lets virtual users log in through the provider,
// then has them request the same handler three ways, in turns: unprotected (/public), behind
// parlogin's Require (/private), and behind the session check an app would write with a gorilla
// cookie store (/gorilla). Every request carries the user's cookie, as a browser's would. It prints
// logins/s, requests/s, latency percentiles, errors and CPU time per operation, and each route's
// throughput over the unprotected one's.
//
//	go run ./examples/loadtest              # 32 users, 200 logins, 3 rounds of 1.5 s per route
//	go run ./examples/loadtest -users 64 -rounds 5 -duration 3s
//	go run ./examples/loadtest -wrk         # the requests made by wrk (if installed) instead
//	go run ./examples/loadtest -serve       # keep the app up for a load generator of your own
//	go run ./examples/loadtest -redis 127.0.0.1:6379 -sessions redis  # parlogin's sessions in Redis
//	go run ./examples/loadtest -redis 127.0.0.1:6379                  # cookie sessions, Shared in Redis
//	go run ./examples/loadtest -redis 127.0.0.1:6379 -sessions redis -uncached  # without the session cache
//	go run ./examples/loadtest -wrk -cpuprofile cpu.out  # then: go tool pprof -focus Require cpu.out
//
// Without -wrk, the load generator, the app and the provider share this process and its CPUs;
// with -wrk, the requests come from another process, and the CPU time per request is the app's
// alone. Ratios and medians of rounds are what to read, not absolute rates (BENCHMARKS.md).
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/oidctest"
	"github.com/parlogin/parlogin/stores/parloginredis"
	"github.com/redis/go-redis/v9"
)

// options bound a run in count and time.
type options struct {
	users    int           // concurrent virtual users
	logins   int           // logins in the login phase, all users together
	duration time.Duration // length of each request phase
	rounds   int           // rounds of request phases (public, private, gorilla)
	limit    time.Duration // bound of the whole run
	serve    string        // with -serve: the loopback address to serve on until interrupted
	wrk      bool          // request phases by wrk rather than by this process
	redis    string        // a Redis server's address: Config.Shared there (parloginredis)
	sessions string        // "cookie" (default) or "redis": where /private's sessions live
	uncached bool          // every request with a cookie value parlogin has not cached
	pool     int           // with uncached: how many cookie values; 0 for uncachedPool
	profile  string        // a file for a CPU profile of the request phases
}

func main() {
	var o options
	flag.IntVar(&o.users, "users", 32, "concurrent virtual users (and connections)")
	flag.IntVar(&o.logins, "logins", 200, "logins in the login phase, all users together (at least one per user)")
	flag.DurationVar(&o.duration, "duration", 1500*time.Millisecond, "length of each request phase")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds of request phases; each round runs every route once")
	flag.DurationVar(&o.limit, "limit", 2*time.Minute, "bound of the whole run")
	flag.BoolVar(&o.wrk, "wrk", false, "make the requests with wrk (on PATH), one thread, a connection per user")
	serve := flag.Bool("serve", false, "log one user in, print URLs and cookies for wrk, and serve until interrupted (or -limit)")
	addr := flag.String("addr", "127.0.0.1:0", "with -serve: loopback address of the app")
	flag.StringVar(&o.redis, "redis", "", "address of a Redis server (host:port or a unix socket path): parlogin's shared state there, as replicas have it")
	flag.StringVar(&o.sessions, "sessions", "cookie", `where parlogin's sessions live: "cookie", or "redis" (needs -redis)`)
	flag.BoolVar(&o.uncached, "uncached", false, "send each request with another encoding of a user's session cookie, which parlogin's session cache has not seen: every request reads the session from the store")
	flag.StringVar(&o.profile, "cpuprofile", "", "write a CPU profile of the request phases (the logins left out) to this file, for go tool pprof")
	flag.Parse()
	if *serve {
		o.serve = *addr
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, o, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "loadtest:", err)
		os.Exit(1)
	}
}

// run does a whole load test, writing its table to out.
func run(ctx context.Context, o options, out io.Writer) error {
	if o.users < 1 || o.logins < 1 || o.rounds < 1 || o.duration <= 0 || o.limit <= 0 {
		return errors.New("users, logins and rounds must be at least 1, duration and limit positive")
	}
	o.logins = max(o.logins, o.users)
	ctx, cancel := context.WithTimeout(ctx, o.limit)
	defer cancel()

	addr := "127.0.0.1:0"
	if o.serve != "" {
		addr = o.serve
	}
	app, err := startApp(ctx, addr, o)
	if err != nil {
		return err
	}
	defer app.close()

	transport := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        2 * o.users,
		MaxIdleConnsPerHost: 2 * o.users, // one connection per user to each server, kept alive
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	defer transport.CloseIdleConnections()

	if o.serve != "" {
		return serve(ctx, app, transport, out)
	}

	generator := "load generator, app and provider share this process"
	if o.wrk {
		if _, err := exec.LookPath("wrk"); err != nil {
			return fmt.Errorf("-wrk: %w", err)
		}
		generator = "requests by wrk -t1 in another process; CPU per op is the app's"
	}
	fmt.Fprintf(out, "parlogin load test: %d users over loopback, GOMAXPROCS=%d, %d rounds of %v per route; %s\n",
		o.users, runtime.GOMAXPROCS(0), o.rounds, o.duration, generator)
	fmt.Fprintf(out, "sessions in %s, shared state in %s; %s\n\n", cmpOr(o.sessions, "cookie"), cmpOr(o.redis, "memory"),
		map[bool]string{false: "each user sends its session cookie (after its first request, the session cache serves it)",
			true: "each request sends a cookie value not seen before (-uncached): the store is read every time"}[o.uncached])
	users := make([]*user, o.users)
	for i := range users {
		users[i] = newUser(app, transport)
	}
	logins := app.measure(ctx, func() *phase { return loginPhase(ctx, users, o.logins) })
	if logins.count == 0 {
		return fmt.Errorf("no login succeeded: %w", logins.firstErr)
	}
	var ready []*user
	for _, u := range users {
		if u.session != "" {
			ready = append(ready, u)
		}
	}

	routes := []route{
		{name: "public", path: "/public", cookie: func(u *user) string { return u.session }},
		{name: "private", path: "/private", cookie: func(u *user) string { return u.session }},
		{name: "gorilla", path: "/gorilla", cookie: func(*user) string { return app.gorillaCookie }},
	}
	if o.uncached {
		// The same pool for /public and /private, so that both carry the same bytes; /gorilla's
		// check has no cache, and keeps its one cookie, sent the same way.
		pool, err := app.reencode(ready, cmpOrInt(o.pool, uncachedPool))
		if err != nil {
			return err
		}
		routes[0].pool, routes[1].pool, routes[2].pool = pool, pool, []string{app.gorillaCookie}
		if o.wrk {
			dir, err := os.MkdirTemp("", "parlogin-loadtest-")
			if err != nil {
				return err
			}
			defer os.RemoveAll(dir)
			for i := range routes {
				if routes[i].script, err = wrkScript(dir, routes[i].name, routes[i].pool); err != nil {
					return err
				}
			}
		}
	}
	measure := func(r route, d time.Duration) *phase {
		return app.measure(ctx, func() *phase {
			if o.wrk {
				return wrkPhase(ctx, app.url, r, ready, d)
			}
			return requestPhase(ctx, transport, ready, app.url, r, d)
		})
	}
	measure(routes[0], o.duration/5) // warm up: connections, caches
	if o.profile != "" {
		f, err := os.Create(o.profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile() // if cut short
	}
	rounds := make([][]*phase, len(routes))
	for round := range o.rounds {
		// Each round starts with another route, so that none always follows the same one.
		for k := range routes {
			i := (round + k) % len(routes)
			rounds[i] = append(rounds[i], measure(routes[i], o.duration))
		}
	}
	pprof.StopCPUProfile()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("run cut short: %w", err)
	}

	redisColumns := app.rdb != nil
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(tw, "phase\tcount\terrors\tper s\tp50\tp90\tp99\tCPU per op\t")
	if redisColumns {
		fmt.Fprint(tw, "Redis cmds/op\tRedis CPU/op\t")
	}
	fmt.Fprintln(tw, "vs public\tby CPU\t")
	logins.write(tw, redisColumns, "", "")
	errs, firstErr := logins.errors, logins.firstErr
	ratios := make([][]float64, len(routes))
	var publicCPU float64
	for i, r := range routes {
		for k, p := range rounds[i] {
			if base := rounds[0][k].rate(); base > 0 {
				ratios[i] = append(ratios[i], p.rate()/base)
			}
		}
		sum := summarize(r.name, rounds[i])
		byCPU := "-"
		if cpu := sum.cpuPerOp(true); cpu > 0 {
			if i == 0 {
				publicCPU = cpu
			}
			byCPU = fmt.Sprintf("%.2f", publicCPU/cpu)
		}
		sum.write(tw, redisColumns, fmt.Sprintf("%.2f", median(ratios[i])), byCPU)
		errs += sum.errors
		if firstErr == nil {
			firstErr = sum.firstErr
		}
	}
	tw.Flush()
	fmt.Fprintf(out, "\nper s, p50, p90, p99 and vs public are medians of the rounds; by CPU is public's CPU per op\n"+
		"over the route's (the throughput ratio when the CPUs are the bottleneck)")
	if redisColumns {
		fmt.Fprint(out, ", the Redis server's included;\nRedis cmds/op and Redis CPU/op are the commands the server processed, and its CPU time,\n"+
			"over the phase's requests (the server's own background work included)")
	}
	fmt.Fprint(out, "; vs public by round:")
	for i, r := range routes[1:] {
		fmt.Fprintf(out, "\n  %-8s", r.name)
		for _, x := range ratios[i+1] {
			fmt.Fprintf(out, " %.2f", x)
		}
	}
	fmt.Fprintln(out)
	if errs > 0 {
		return fmt.Errorf("%d errors (first: %w)", errs, firstErr)
	}
	return nil
}

// uncachedPool is the number of cookie values that -uncached requests cycle through: more than
// the requests of one second here, so that a value comes back only once parlogin's cache of a
// server-side session has expired (after a second) and, with cookie sessions, once the cache,
// bounded to a few thousand such sessions, has long dropped it.
const uncachedPool = 1 << 16

func cmpOrInt(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// testApp is the app under load and its provider.
type testApp struct {
	rdb           *redis.Client        // with -redis
	codecs        []securecookie.Codec // the session cookies' keys, for -uncached
	url           string               // http://127.0.0.1:port
	auth          *parlogin.Middleware
	gorillaCookie string // name=value of a gorilla session, for /gorilla
	srv           *http.Server
	op            *oidctest.Server
}

// typicalUser has the claims a typical provider releases for the profile and email scopes.
var typicalUser = oidctest.User{
	Subject: "8d3f6c2a-7f5e-4b8a-9c1d-2e4f6a8b0c1d",
	Claims: map[string]any{
		"name":               "Alexandra Example-Martin",
		"given_name":         "Alexandra",
		"family_name":        "Example-Martin",
		"preferred_username": "alexandra.martin",
		"email":              "alexandra.martin@example.com",
		"email_verified":     true,
		"locale":             "en-GB",
	},
}

// hello is the handler of every route.
var hello = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.WriteString(w, "hello\n")
})

// startApp starts the provider and the app on addr, a loopback address.
func startApp(ctx context.Context, addr string, o options) (*testApp, error) {
	if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
		return nil, fmt.Errorf("address %q: loopback addresses only", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	a := &testApp{url: "http://" + ln.Addr().String()}
	a.op = oidctest.NewUnstartedServer()
	a.op.SetUser(typicalUser)
	a.op.Start()
	client := a.op.AddClient(oidctest.Client{RedirectURIs: []string{a.url + "/auth/callback"}})

	// The README's store: cookies signed and encrypted, with keys that would survive restarts.
	hashKey, blockKey := make([]byte, 32), make([]byte, 32)
	_, _ = rand.Read(hashKey)
	_, _ = rand.Read(blockKey)
	store := sessions.NewCookieStore(hashKey, blockKey)
	a.codecs = securecookie.CodecsFromPairs(hashKey, blockKey)
	cfg := parlogin.Config{
		Issuer:       a.op.Issuer,
		ClientID:     client.ID,
		ClientSecret: client.Secret,
		RedirectURL:  a.url + "/auth/callback",
		Store:        store,
		Scopes:       []string{"profile", "email"},
		Logger:       slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	switch {
	case o.redis != "":
		network := "tcp"
		if strings.HasPrefix(o.redis, "/") {
			network = "unix"
		}
		rdb := redis.NewClient(&redis.Options{Network: network, Addr: o.redis, PoolSize: 4 * o.users})
		if err := rdb.Ping(ctx).Err(); err != nil {
			ln.Close()
			a.op.Close()
			return nil, fmt.Errorf("-redis %s: %w", o.redis, err)
		}
		a.rdb = rdb
		cfg.Shared = parloginredis.New(rdb)
		if o.sessions == "redis" {
			cfg.Store = parloginredis.NewStore(rdb, hashKey, blockKey)
		}
	case o.sessions != "cookie" && o.sessions != "":
		ln.Close()
		a.op.Close()
		return nil, errors.New(`-sessions redis needs -redis`)
	}
	a.auth, err = parlogin.New(ctx, cfg)
	if err != nil {
		ln.Close()
		a.op.Close()
		return nil, err
	}
	gorilla, err := newGorillaCheck(store)
	if err != nil {
		ln.Close()
		a.op.Close()
		return nil, err
	}
	a.gorillaCookie = gorilla.cookie

	mux := http.NewServeMux()
	mux.Handle("GET /public", hello)
	mux.Handle("GET /private", a.auth.Require(hello))
	mux.Handle("GET /gorilla", gorilla.require(hello))
	mux.Handle("/auth/", a.auth.Handler())
	a.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = a.srv.Serve(ln) }()
	return a, nil
}

func (a *testApp) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = a.srv.Shutdown(ctx)
	a.op.Close()
	if a.rdb != nil {
		_ = a.rdb.Close()
	}
}

// reencode returns n Cookie headers, each with the session cookie of one of users, in turn, as
// a store's codecs encode it anew: the same session (the same parlogin JSON in a cookie store,
// the same record ID with a Redis store), another cookie value, which parlogin's session cache
// has not seen.
func (a *testApp) reencode(users []*user, n int) ([]string, error) {
	values := make([]string, len(users))
	for i, u := range users {
		name, value, _ := strings.Cut(u.session, "=")
		if err := securecookie.DecodeMulti(name, value, &values[i], a.codecs...); err != nil {
			return nil, fmt.Errorf("-uncached: decoding the session cookie: %w", err)
		}
	}
	pool := make([]string, n)
	for i := range pool {
		name, _, _ := strings.Cut(users[i%len(users)].session, "=")
		encoded, err := securecookie.EncodeMulti(name, values[i%len(users)], a.codecs...)
		if err != nil {
			return nil, err
		}
		pool[i] = name + "=" + encoded
	}
	return pool, nil
}

// redisStat is what the Redis server has done since it started.
type redisStat struct {
	commands int64
	cpu      time.Duration // user and system, all threads
}

// redisStats reads the Redis server's counters, when there is one.
func (a *testApp) redisStats(ctx context.Context) (redisStat, bool) {
	if a.rdb == nil {
		return redisStat{}, false
	}
	info, err := a.rdb.Info(ctx, "stats", "cpu").Result()
	if err != nil {
		return redisStat{}, false
	}
	var st redisStat
	for line := range strings.Lines(info) {
		name, value, _ := strings.Cut(strings.TrimSpace(line), ":")
		switch name {
		case "total_commands_processed":
			st.commands, _ = strconv.ParseInt(value, 10, 64)
		case "used_cpu_user", "used_cpu_sys":
			secs, _ := strconv.ParseFloat(value, 64)
			st.cpu += time.Duration(secs * float64(time.Second))
		}
	}
	return st, true
}

// measure runs a phase and adds to it what the Redis server did meanwhile, when there is one.
func (a *testApp) measure(ctx context.Context, run func() *phase) *phase {
	before, ok := a.redisStats(ctx)
	p := run()
	if after, ok2 := a.redisStats(ctx); ok && ok2 {
		p.redis = true
		p.redisCommands = after.commands - before.commands - 1 // the first INFO counts
		p.redisCPU = after.cpu - before.cpu
	}
	return p
}

// gorillaCheck is the session check an app would write itself with a gorilla cookie store (default
// gob codec), for the session many apps keep: sub, email, name, expiry and the ID token.
type gorillaCheck struct {
	store  *sessions.CookieStore
	cookie string // name=value
}

func newGorillaCheck(store *sessions.CookieStore) (*gorillaCheck, error) {
	s := sessions.NewSession(store, "session")
	s.Values["sub"] = typicalUser.Subject
	s.Values["email"] = typicalUser.Claims["email"]
	s.Values["name"] = typicalUser.Claims["name"]
	s.Values["exp"] = time.Now().Add(8 * time.Hour).Unix()
	s.Values["id_token"] = strings.Repeat("x", 915) // the size of a typical RS256 ID token
	rec := &headerRecorder{header: http.Header{}}
	if err := store.Save(&http.Request{}, rec, s); err != nil {
		return nil, err
	}
	c, err := http.ParseSetCookie(rec.header.Get("Set-Cookie"))
	if err != nil {
		return nil, err
	}
	return &gorillaCheck{store: store, cookie: c.Name + "=" + c.Value}, nil
}

func (g *gorillaCheck) require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := g.store.Get(r, "session")
		exp, _ := s.Values["exp"].(int64)
		if err != nil || s.IsNew || time.Now().Unix() >= exp {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// headerRecorder is the least http.ResponseWriter, to capture a Set-Cookie header.
type headerRecorder struct{ header http.Header }

func (h *headerRecorder) Header() http.Header         { return h.header }
func (h *headerRecorder) Write(b []byte) (int, error) { return len(b), nil }
func (h *headerRecorder) WriteHeader(int)             {}

// user is a virtual user: a browser for logins, then a session cookie.
type user struct {
	app     *testApp
	browser *http.Client
	session string // name=value of the session cookie, after a login
}

func newUser(app *testApp, transport http.RoundTripper) *user {
	return &user{app: app, browser: &http.Client{Transport: transport, Timeout: 10 * time.Second}}
}

// login opens the private page as a browser without cookies would and follows the redirects
// through the provider and the callback back to it; it keeps the session cookie.
func (u *user) login(ctx context.Context) error {
	u.browser.Jar, _ = cookiejar.New(nil) // a browser without a session, or this would be no login
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.app.url+"/private", nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	resp, err := u.browser.Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != "hello\n" || resp.Request.URL.Path != "/private" ||
		resp.Request.Response == nil { // not redirected: no login
		return fmt.Errorf("login ended at %s with %d", resp.Request.URL, resp.StatusCode)
	}
	appURL, _ := url.Parse(u.app.url)
	for _, c := range u.browser.Jar.Cookies(appURL) {
		if c.Name == "parlogin" {
			u.session = c.Name + "=" + c.Value
			return nil
		}
	}
	return errors.New("no session cookie after login")
}

// phase is the outcome of a phase, or with summarize of several rounds of one.
type phase struct {
	name          string
	count, errors int
	firstErr      error
	elapsed       time.Duration
	cpu           time.Duration // this process's CPU time, when known
	redis         bool          // with -redis: what the Redis server did during the phase
	redisCommands int64
	redisCPU      time.Duration
	p50, p90, p99 time.Duration
	perSecond     float64 // set by summarize: the median of the rounds' rates
}

func (p *phase) rate() float64 {
	if p.perSecond > 0 || p.elapsed <= 0 {
		return p.perSecond
	}
	return float64(p.count) / p.elapsed.Seconds()
}

// summarize sums the counts of rounds and takes the medians of their rates and percentiles.
func summarize(name string, rounds []*phase) *phase {
	sum := &phase{name: name}
	var rates, p50, p90, p99 []float64
	for _, p := range rounds {
		sum.count += p.count
		sum.errors += p.errors
		sum.elapsed += p.elapsed
		sum.cpu += p.cpu
		sum.redis = p.redis
		sum.redisCommands += p.redisCommands
		sum.redisCPU += p.redisCPU
		if sum.firstErr == nil {
			sum.firstErr = p.firstErr
		}
		rates = append(rates, p.rate())
		p50 = append(p50, float64(p.p50))
		p90 = append(p90, float64(p.p90))
		p99 = append(p99, float64(p.p99))
	}
	sum.perSecond = median(rates)
	sum.p50, sum.p90, sum.p99 = time.Duration(median(p50)), time.Duration(median(p90)), time.Duration(median(p99))
	return sum
}

// cpuPerOp is the CPU time per operation in nanoseconds, this process's and with withRedis the
// Redis server's, or 0 when not known.
func (p *phase) cpuPerOp(withRedis bool) float64 {
	if p.cpu <= 0 || p.count == 0 {
		return 0
	}
	cpu := p.cpu
	if withRedis {
		cpu += p.redisCPU
	}
	return float64(cpu) / float64(p.count)
}

func (p *phase) write(w io.Writer, redisColumns bool, ratio, byCPU string) {
	cpu := "-"
	if c := p.cpuPerOp(false); c > 0 {
		cpu = round(time.Duration(c)).String()
	}
	fmt.Fprintf(w, "%s\t%d\t%d\t%.0f\t%v\t%v\t%v\t%s\t", p.name, p.count, p.errors, p.rate(),
		round(p.p50), round(p.p90), round(p.p99), cpu)
	if redisColumns {
		if p.redis && p.count > 0 {
			fmt.Fprintf(w, "%.3f\t%v\t", float64(p.redisCommands)/float64(p.count), round(p.redisCPU/time.Duration(p.count)))
		} else {
			fmt.Fprint(w, "-\t-\t")
		}
	}
	fmt.Fprintf(w, "%s\t%s\t\n", ratio, byCPU)
}

// worker runs op from each of n goroutines until it returns false, and collects the phase.
func worker(name string, n int, op func(i int) (time.Duration, bool, error)) *phase {
	p := &phase{name: name}
	var latencies []time.Duration
	var mu sync.Mutex
	var wg sync.WaitGroup
	cpu0, cpuOK := processCPU()
	start := time.Now()
	for i := range n {
		wg.Go(func() {
			var mine []time.Duration
			var errs int
			var firstErr error
			for {
				d, more, err := op(i)
				if !more {
					break
				}
				if err != nil {
					errs++
					if firstErr == nil {
						firstErr = err
					}
					continue
				}
				mine = append(mine, d)
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			p.errors += errs
			if p.firstErr == nil {
				p.firstErr = firstErr
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	p.elapsed = time.Since(start)
	if cpu1, ok := processCPU(); ok && cpuOK {
		p.cpu = cpu1 - cpu0
	}
	slices.Sort(latencies)
	p.count = len(latencies)
	p.p50, p.p90, p.p99 = percentile(latencies, 50), percentile(latencies, 90), percentile(latencies, 99)
	return p
}

// loginPhase has every user log in, until n logins are done.
func loginPhase(ctx context.Context, users []*user, n int) *phase {
	var next atomic.Int64
	return worker("login", len(users), func(i int) (time.Duration, bool, error) {
		if next.Add(1) > int64(n) || ctx.Err() != nil {
			return 0, false, nil
		}
		start := time.Now()
		err := users[i].login(ctx)
		return time.Since(start), true, err
	})
}

// route is a route of the request phases.
type route struct {
	name, path string
	cookie     func(*user) string // the Cookie header a user sends
	// pool, with -uncached, holds the Cookie headers that the requests send instead, each request
	// the next one; script is the wrk script that does the same.
	pool   []string
	script string
}

// requestPhase has every user request r for d, each on its own kept-alive connection, and
// measures each request from its start to the end of its body.
func requestPhase(ctx context.Context, transport http.RoundTripper, users []*user, base string, r route, d time.Duration) *phase {
	reqs := make([]*http.Request, len(users))
	for i, u := range users {
		reqs[i], _ = http.NewRequestWithContext(ctx, http.MethodGet, base+r.path, nil)
		reqs[i].Header.Set("Accept", "application/json")
		reqs[i].Header.Set("Cookie", r.cookie(u))
	}
	var next atomic.Uint64
	end := time.Now().Add(d)
	return worker(r.name, len(users), func(i int) (time.Duration, bool, error) {
		start := time.Now()
		if !start.Before(end) || ctx.Err() != nil {
			return 0, false, nil
		}
		if len(r.pool) > 0 {
			reqs[i].Header["Cookie"][0] = r.pool[(next.Add(1)-1)%uint64(len(r.pool))]
		}
		// The request is sent again only once its response body is closed, as RoundTrip allows.
		resp, err := transport.RoundTrip(reqs[i])
		if err != nil {
			return 0, true, err
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode != http.StatusOK {
			err = fmt.Errorf("GET %s: %d", r.path, resp.StatusCode)
		}
		return time.Since(start), true, err
	})
}

// serve logs one user in and keeps the app up for an external load generator.
func serve(ctx context.Context, app *testApp, transport http.RoundTripper, out io.Writer) error {
	u := newUser(app, transport)
	if err := u.login(ctx); err != nil {
		return err
	}
	fmt.Fprintf(out, "serving until interrupted (or -limit); the same handler on three routes:\n"+
		"  unprotected:    %[1]s/public\n"+
		"  parlogin:       %[1]s/private  with  Cookie: %[2]s\n"+
		"  gorilla (gob):  %[1]s/gorilla  with  Cookie: %[3]s\n\n"+
		"for example:\n"+
		"  wrk -t1 -c32 -d10s %[1]s/public\n"+
		"  wrk -t1 -c32 -d10s -H 'Cookie: %[2]s' %[1]s/private\n"+
		"  wrk -t1 -c32 -d10s -H 'Cookie: %[3]s' %[1]s/gorilla\n",
		app.url, u.session, app.gorillaCookie)
	<-ctx.Done()
	return nil
}

func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, len(sorted)*p/100)]
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// round keeps three significant digits of d, for the table.
func round(d time.Duration) time.Duration {
	for unit := time.Nanosecond; unit < time.Second; unit *= 10 {
		if d < 1000*unit {
			return d.Round(unit)
		}
	}
	return d.Round(time.Millisecond)
}

// wrkPhase has wrk request r for d, one thread and a connection per user, all with the first
// user's cookie, or with -uncached each request with the next cookie of r's pool (r.script).
func wrkPhase(ctx context.Context, base string, r route, users []*user, d time.Duration) *phase {
	p := &phase{name: r.name}
	args := []string{"-t1", "-c" + strconv.Itoa(len(users)),
		"-d" + strconv.Itoa(max(1, int(d.Round(time.Second)/time.Second))) + "s", "--latency"}
	if r.script != "" {
		args = append(args, "-s", r.script)
	} else {
		args = append(args, "-H", "Cookie: "+r.cookie(users[0]))
	}
	cmd := exec.CommandContext(ctx, "wrk", append(args, base+r.path)...)
	cpu0, cpuOK := processCPU()
	start := time.Now()
	out, err := cmd.Output()
	p.elapsed = time.Since(start)
	if cpu1, ok := processCPU(); ok && cpuOK {
		p.cpu = cpu1 - cpu0
	}
	if err != nil {
		p.errors, p.firstErr = 1, fmt.Errorf("wrk: %w", err)
		return p
	}
	if err := parseWrk(string(out), p); err != nil {
		p.errors, p.firstErr = 1, err
	}
	return p
}

// wrkScript writes, in dir, the Cookie headers of pool and a wrk script that sends each request
// with the next of them, and returns the script's path.
func wrkScript(dir, name string, pool []string) (string, error) {
	cookies := filepath.Join(dir, name+".cookies")
	if err := os.WriteFile(cookies, []byte(strings.Join(pool, "\n")+"\n"), 0o600); err != nil {
		return "", err
	}
	script := filepath.Join(dir, name+".lua")
	lua := fmt.Sprintf(`local cookies = {}
for line in io.lines(%q) do cookies[#cookies + 1] = line end
local i = 0
local headers = {}
request = function()
	i = i %% #cookies + 1
	headers["Cookie"] = cookies[i]
	return wrk.format(nil, nil, headers)
end
`, cookies)
	return script, os.WriteFile(script, []byte(lua), 0o600)
}

var (
	wrkCount     = regexp.MustCompile(`(?m)^\s*(\d+) requests in ([0-9.]+)(us|ms|s|m)`)
	wrkPercent   = regexp.MustCompile(`(?m)^\s*(50|90|99)%\s+([0-9.]+)(us|ms|s)`)
	wrkErrors    = regexp.MustCompile(`(?m)^\s*Non-2xx or 3xx responses: (\d+)`)
	wrkSocket    = regexp.MustCompile(`(?m)^\s*Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
	wrkDurations = map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second, "m": time.Minute}
)

// parseWrk reads the count, duration, percentiles and errors of wrk's report into p.
func parseWrk(out string, p *phase) error {
	m := wrkCount.FindStringSubmatch(out)
	if m == nil {
		return fmt.Errorf("wrk: no request count in %q", out)
	}
	p.count, _ = strconv.Atoi(m[1])
	secs, _ := strconv.ParseFloat(m[2], 64)
	p.elapsed = time.Duration(math.Round(secs * float64(wrkDurations[m[3]])))
	for _, m := range wrkPercent.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		d := time.Duration(math.Round(v * float64(wrkDurations[m[3]])))
		switch m[1] {
		case "50":
			p.p50 = d
		case "90":
			p.p90 = d
		case "99":
			p.p99 = d
		}
	}
	if m := wrkErrors.FindStringSubmatch(out); m != nil {
		p.errors, _ = strconv.Atoi(m[1])
	}
	if m := wrkSocket.FindStringSubmatch(out); m != nil {
		for _, n := range m[1:] {
			k, _ := strconv.Atoi(n)
			p.errors += k
		}
	}
	if p.errors > 0 {
		p.firstErr = fmt.Errorf("wrk reported %d errors on %s", p.errors, p.name)
	}
	return nil
}
