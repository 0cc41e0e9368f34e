//go:build unix

// The benchmarks measure CPU time with getrusage(2), hence unix only.

package parlogin

import (
	"bufio"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin/oidctest"
	"golang.org/x/oauth2"
)

// Every benchmark here carries its baseline in the same run and reports its ratio to it with
// b.ReportMetric: the machines that run them are shared and noisy, so only ratios and medians of
// several runs mean anything. BENCHMARKS.md has the commands and explains each number.

// typicalUser has the claims a typical provider releases for the profile and email scopes.
var typicalUser = oidctest.User{
	Subject: "8d3f6c2a-7f5e-4b8a-9c1d-2e4f6a8b0c1d", // PingOne's user IDs are UUIDs
	Claims: map[string]any{
		"name":               "Alexandra Example-Martin",
		"given_name":         "Alexandra",
		"family_name":        "Example-Martin",
		"preferred_username": "alexandra.martin",
		"email":              "alexandra.martin@example.com",
		"email_verified":     true,
		"locale":             "en-GB",
		"updated_at":         1767225600,
	},
}

// benchStore is a cookie store configured as the README's quick start configures it: cookies
// signed (HMAC-SHA256) and encrypted (AES-256).
func benchStore() *sessions.CookieStore {
	return testStore()
}

// benchHarness is the test harness with user and the README's cookie store; client and config,
// when set, edit the client's registration and parlogin's configuration further.
func benchHarness(b *testing.B, user oidctest.User, client func(*oidctest.Client), config func(*Config)) *harness {
	return newHarness(b, harnessOptions{
		op:     func(s *oidctest.Server) { s.SetUser(user) },
		client: client,
		config: func(c *Config) {
			c.Store = benchStore()
			if config != nil {
				config(c)
			}
		},
	})
}

// authenticatedRequest logs in through h and returns a request to path that carries the session
// cookie, as a browser would send it.
func authenticatedRequest(b *testing.B, h *harness, path string) *http.Request {
	b.Helper()
	h.login("/private")
	req := httptest.NewRequest(http.MethodGet, h.app.URL+path, nil)
	req.Header.Set("Accept", "application/json")
	for _, c := range h.jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	return req
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.WriteString(w, "ok")
})

// fresh returns a shallow copy of req, as a server hands each request to its handler as a value
// of its own: gorilla's stores attach a registry of decoded sessions to the request they read,
// which must not carry over from one iteration to the next.
func fresh(req *http.Request) *http.Request {
	r := *req
	return &r
}

// cookieSize is what a cookie costs in every request's Cookie header: name=value.
func cookieSize(c *http.Cookie) int {
	return len(c.Name) + 1 + len(c.Value)
}

// benchACR is the acr that the provider asserts for the typical user in
// BenchmarkAuthenticatedRequest, as PingOne asserts the name of the sign-on policy it applied.
const benchACR = "urn:example:mfa"

// BenchmarkAuthenticatedRequest measures what parlogin adds to every request of a signed-in user.
// Each iteration serves one request to a handler that writes "ok":
//
//   - bare: the handler alone, the floor;
//   - require: behind Require, with the session cache (a cookie seen before);
//   - policy_zero: behind RequirePolicy(Policy{}), the zero policy, which is Require;
//   - policy_met: behind RequirePolicy with a policy that the session meets (its acr among two,
//     and an authentication less than an hour old): a step-up route, when no step-up is needed;
//   - require_tokens: behind Require, the session of an app with Config.SaveTokens, which holds
//     the ID, access and refresh tokens (a larger cookie and cache entry);
//   - require_dpop: the same with Config.DPoP: the tokens are DPoP-bound, and the session holds
//     the key they are bound to besides them (without SaveTokens, a DPoP session holds no key
//     and is require's);
//   - require_uncached, require_dpop_uncached: the same two without the cache (a cookie never
//     seen: HMAC check, AES decryption, gob and JSON decoding of the session);
//   - gorilla_gob: what an app pays to read the same identity from a gorilla CookieStore itself
//     (default gob codec, signed and encrypted), then call the handler;
//   - gorilla_gob_idtoken: the same with the session many apps keep (sub, email, name, expiry and
//     a 915-byte ID token);
//   - policy_check_zero, policy_check_met: the policy check that every request behind Require or
//     RequirePolicy makes, against the provider's time (clock offset), alone: what step-up and
//     the clock offset add to a signed-in request (client secret rotation adds nothing: it
//     concerns the calls to the provider only);
//   - store_load: the decoding of parlogin's session cookie alone (MAC, AES, value), what a
//     request without the cache pays before parlogin's checks.
//
// x-bare is the case's time per request over the bare handler's, measured apart from ns/op in ten
// alternating blocks of each (see xBare), so that every run's ratio has a baseline of its own
// taken at the same moment; allocs-over-bare is the extra allocations per request, cookie-B the
// bytes of the session cookie in each request, cache-B the memory the session cache counts for
// the session.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	user := typicalUser
	user.ACR = benchACR
	h := benchHarness(b, user, nil, nil)
	req := authenticatedRequest(b, h, "/api/me")
	session := req.Cookies()[0]
	s, err := h.auth.sessions.load(req, false)
	if err != nil || s == nil {
		b.Fatal("no session after login", err)
	}
	data := s.data
	if data.ACR != benchACR || data.AuthTime == 0 {
		b.Fatalf("session with acr %q and auth_time %d, want %q and a time", data.ACR, data.AuthTime, benchACR)
	}

	ht := benchHarness(b, user, nil, func(c *Config) { c.SaveTokens = true })
	reqTokens := authenticatedRequest(b, ht, "/api/me")
	sessionTokens := reqTokens.Cookies()[0]
	hd := benchHarness(b, user, func(c *oidctest.Client) { c.DPoPBoundAccessTokens = true },
		func(c *Config) { c.DPoP, c.SaveTokens = true, true })
	reqDPoP := authenticatedRequest(b, hd, "/api/me")
	sessionDPoP := reqDPoP.Cookies()[0]
	if s, err := hd.auth.sessions.load(reqDPoP, false); err != nil || s == nil || s.data.DPoPKey == "" || !isDPoPToken(s.data.TokenType) {
		b.Fatal("no DPoP-bound session after login", err)
	}

	// As with a cache miss: every request decodes the cookie.
	uncached := func(h *harness, cookie *http.Cookie) http.Handler {
		m, err := New(context.Background(), h.cfg)
		if err != nil {
			b.Fatal(err)
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			m.Require(okHandler).ServeHTTP(w, r)
			m.sessions.cache.forget(cookie.Value)
		})
	}
	cacheSize := func(h *harness, cookie *http.Cookie) int {
		c := h.auth.sessions.cache
		c.mu.RLock()
		defer c.mu.RUnlock()
		if e, ok := c.entries[cookie.Value]; ok {
			return e.size
		}
		return 0
	}
	met := Policy{ACR: []string{"urn:example:hwk", benchACR}, MaxAge: time.Hour}

	gob := newGorillaSession(b, data, false)
	gobIDToken := newGorillaSession(b, data, true)
	cases := []struct {
		name    string
		handler http.Handler
		req     *http.Request
		cookie  int
		cache   func() int // the session's cache entry, counted after the run
	}{
		{"bare", okHandler, req, 0, nil},
		{"require", h.auth.Require(okHandler), req, cookieSize(session), func() int { return cacheSize(h, session) }},
		{"policy_zero", h.auth.RequirePolicy(Policy{})(okHandler), req, cookieSize(session), nil},
		{"policy_met", h.auth.RequirePolicy(met)(okHandler), req, cookieSize(session), nil},
		{"require_tokens", ht.auth.Require(okHandler), reqTokens, cookieSize(sessionTokens), func() int { return cacheSize(ht, sessionTokens) }},
		{"require_dpop", hd.auth.Require(okHandler), reqDPoP, cookieSize(sessionDPoP), func() int { return cacheSize(hd, sessionDPoP) }},
		{"require_uncached", uncached(h, session), req, cookieSize(session), nil},
		{"require_dpop_uncached", uncached(hd, sessionDPoP), reqDPoP, cookieSize(sessionDPoP), nil},
		{"gorilla_gob", gob.handler, gob.req, gob.cookie, nil},
		{"gorilla_gob_idtoken", gobIDToken.handler, gobIDToken.req, gobIDToken.cookie, nil},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				tc.handler.ServeHTTP(rec, fresh(tc.req))
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
			if tc.name == "bare" {
				return
			}
			b.ReportMetric(xBare(tc.handler, tc.req, b.N), "x-bare")
			allocs := testing.AllocsPerRun(100, func() { tc.handler.ServeHTTP(httptest.NewRecorder(), fresh(tc.req)) })
			bareAllocs := testing.AllocsPerRun(100, func() { okHandler.ServeHTTP(httptest.NewRecorder(), fresh(tc.req)) })
			b.ReportMetric(allocs-bareAllocs, "allocs-over-bare")
			b.ReportMetric(float64(tc.cookie), "cookie-B")
			if tc.cache != nil {
				b.ReportMetric(float64(tc.cache()), "cache-B")
			}
		})
	}
	// What step-up and the clock offset add to every signed-in request when no route uses them:
	// the policy check of Authenticate, against the provider's time (the app's clock plus the
	// measured offset, zero here).
	u := s.user()
	for _, pc := range []struct {
		name   string
		policy Policy
	}{{"policy_check_zero", Policy{}}, {"policy_check_met", met}} {
		b.Run(pc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if why := pc.policy.check(u, h.auth.clock.providerNow, h.auth.cfg.ClockSkew); why != "" {
					b.Fatalf("policy not met: %s", why)
				}
			}
		})
	}
	b.Run("store_load", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok, _ := h.auth.store.load(req, h.auth.cfg.SessionName, session.Value); !ok {
				b.Fatal("the session cookie does not decode")
			}
		}
	})
}

// xBare returns the time per request of h over the bare handler's (okHandler), both serving req,
// from ten alternating blocks of n/10 requests of each: whatever else the machine does meanwhile,
// both see it alike.
func xBare(h http.Handler, req *http.Request, n int) float64 {
	block := max(1, n/10)
	serve := func(h http.Handler) time.Duration {
		start := time.Now()
		for range block {
			h.ServeHTTP(httptest.NewRecorder(), fresh(req))
		}
		return time.Since(start)
	}
	var bare, measured time.Duration
	for range 10 {
		bare += serve(okHandler)
		measured += serve(h)
	}
	return float64(measured) / float64(bare)
}

// gorillaSession is a session read by an app from a gorilla CookieStore directly.
type gorillaSession struct {
	handler http.Handler // checks the session, then calls okHandler
	req     *http.Request
	cookie  int // bytes of the cookie
}

// newGorillaSession stores, in a gorilla CookieStore with its default gob codec, the identity of
// d (sub, iss, expiry, auth_time and every claim); with idToken, rather the session many apps keep:
// sub, email, name, expiry and a 915-byte ID token.
func newGorillaSession(b *testing.B, d *sessionData, idToken bool) gorillaSession {
	b.Helper()
	store := benchStore()
	s := sessions.NewSession(store, "session")
	if idToken {
		s.Values["sub"] = d.Subject
		s.Values["email"] = typicalUser.Claims["email"]
		s.Values["name"] = typicalUser.Claims["name"]
		s.Values["exp"] = d.Expiry
		s.Values["id_token"] = strings.Repeat("x", 915)
	} else {
		var claims map[string]any
		if err := json.Unmarshal(d.Claims, &claims); err != nil {
			b.Fatal(err)
		}
		for k, v := range claims {
			s.Values[k] = v
		}
		s.Values["sub"], s.Values["iss"], s.Values["exp"], s.Values["auth_time"] = d.Subject, d.Issuer, d.Expiry, d.AuthTime
	}
	rec := httptest.NewRecorder()
	if err := store.Save(httptest.NewRequest(http.MethodGet, "/", nil), rec, s); err != nil {
		b.Fatal(err)
	}
	cookie := rec.Result().Cookies()[0]
	req := httptest.NewRequest(http.MethodGet, "https://app.example/api/me", nil)
	req.Header.Set("Accept", "application/json")
	req.AddCookie(cookie)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := store.Get(r, "session")
		exp, _ := s.Values["exp"].(int64)
		if err != nil || s.IsNew || time.Now().Unix() >= exp {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		okHandler.ServeHTTP(w, r)
	})
	return gorillaSession{handler: handler, req: req, cookie: cookieSize(cookie)}
}

// BenchmarkCookies reports the sizes of parlogin's cookies with the README's cookie store, as a
// browser keeps them and sends them back (name=value), for the claims of a typical provider:
//
//   - session: the session cookie after login (cookie-B), and its whole Set-Cookie header
//     (set-cookie-B); the time is that of writing it;
//   - flows_typical: a browser starts six logins in a row (tabs) to typical pages: the cookies of
//     pending logins it then holds (cookies, at most five), their total (cookies-B) and the
//     largest (max-cookie-B); the time is that of the six saves;
//   - flows_longest: the same with the longest return targets parlogin keeps (512 bytes), where
//     the byte budget of pending logins rather than their count bounds them;
//   - flows_worst: the sequence of return targets, found by search, that leaves the most bytes of
//     pending logins in the browser.
func BenchmarkCookies(b *testing.B) {
	h := benchHarness(b, typicalUser, nil, nil)
	req := authenticatedRequest(b, h, "/private")
	s, err := h.auth.sessions.load(req, false)
	if err != nil || s == nil {
		b.Fatal("no session after login", err)
	}
	d := s.data
	b.Run("session", func(b *testing.B) {
		var set string
		for b.Loop() {
			rec := httptest.NewRecorder()
			if err := h.auth.sessions.write(rec, fresh(req), &record{name: h.auth.cfg.SessionName}, d); err != nil {
				b.Fatal(err)
			}
			set = rec.Header().Get("Set-Cookie")
		}
		cookie, err := http.ParseSetCookie(set)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(cookieSize(cookie)), "cookie-B")
		b.ReportMetric(float64(len(set)), "set-cookie-B")
	})

	target := func(n int) string { return "/" + strings.Repeat("a", n-1) }
	longest := target(maxReturnTo)
	for _, tc := range []struct {
		name    string
		targets func() []string
	}{
		{"flows_typical", func() []string {
			return []string{"/private", "/orders/20417?tab=items", "/settings/profile",
				"/reports/2026/q3?format=pdf&region=eu", "/app/dashboard", "/inbox?folder=archive"}
		}},
		{"flows_longest", func() []string { return []string{longest, longest, longest, longest, longest, longest} }},
		{"flows_worst", func() []string {
			// A long target, then the longest one that still fits the budget beside it, then
			// another long one: the budget bounds the kept logins, not the one being added.
			var worst []string
			most := 0
			for n := 1; n <= maxReturnTo; n += 8 {
				targets := []string{longest, target(n), longest}
				if total, _ := cookieBytes(pendingLogins(b, h, targets)); total > most {
					worst, most = targets, total
				}
			}
			return worst
		}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			targets := tc.targets()
			var jar []*http.Cookie
			for b.Loop() {
				jar = pendingLogins(b, h, targets)
			}
			total, largest := cookieBytes(jar)
			b.ReportMetric(float64(len(jar)), "cookies")
			b.ReportMetric(float64(total), "cookies-B")
			b.ReportMetric(float64(largest), "max-cookie-B")
		})
	}
}

// cookieBytes returns the total and the largest size of cookies.
func cookieBytes(cookies []*http.Cookie) (total, largest int) {
	for _, c := range cookies {
		total += cookieSize(c)
		largest = max(largest, cookieSize(c))
	}
	return total, largest
}

// pendingLogins starts a login for each target in one browser, one after the other, and returns
// the cookies of pending logins the browser holds at the end, oldest first, as a browser sends them.
func pendingLogins(b *testing.B, h *harness, targets []string) []*http.Cookie {
	var jar []*http.Cookie
	for _, target := range targets {
		req := httptest.NewRequest(http.MethodGet, h.app.URL+target, nil)
		for _, c := range jar {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		if err := h.auth.flows.save(rec, req, newAttempt(target, nil, h.auth.cfg.Now())); err != nil {
			b.Fatal(err)
		}
		for _, c := range rec.Result().Cookies() {
			jar = slices.DeleteFunc(jar, func(old *http.Cookie) bool { return old.Name == c.Name })
			if c.MaxAge >= 0 {
				jar = append(jar, c)
			}
		}
	}
	return jar
}

// processCPU returns the CPU time this process has used, user and system, all threads.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// meter adds up the CPU time of this process, and the wall time, between its start and stop
// calls. A nil meter measures nothing.
type meter struct {
	cpu, wall time.Duration
	cpu0      time.Duration
	wall0     time.Time
}

func (m *meter) start() {
	if m == nil {
		return
	}
	m.wall0 = time.Now()
	m.cpu0 = processCPU()
}

func (m *meter) stop() {
	if m == nil {
		return
	}
	m.cpu += processCPU() - m.cpu0
	m.wall += time.Since(m.wall0)
}

// perOp returns d per iteration of b, in nanoseconds.
func perOp(b *testing.B, d time.Duration) float64 {
	return float64(d.Nanoseconds()) / float64(b.N)
}

// providerProcessEnv turns the test binary into the provider process of the login benchmarks:
// see TestProviderProcess.
const providerProcessEnv = "PARLOGIN_BENCH_PROVIDER"

// providerKeyEnv passes the public key of the FAPI client to the provider process: PKIX, base64.
const providerKeyEnv = "PARLOGIN_BENCH_CLIENT_KEY"

// benchKeyID is the key ID (kid) of the FAPI client's key.
const benchKeyID = "bench-es256"

// providerInfo is what the provider process tells the benchmarks.
type providerInfo struct {
	Issuer       string `json:"issuer"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	// FAPIClientID is a client with private_key_jwt, DPoP-bound tokens and ES256 ID tokens,
	// when the benchmark passed a key.
	FAPIClientID string `json:"fapi_client_id,omitempty"`
}

// TestProviderProcess is not a test: run by startProviderProcess with providerProcessEnv set to
// a redirect URL, it is an oidctest provider in a process of its own, so that the CPU time the
// login benchmarks measure in theirs is the app's alone. It writes its issuer and a registered
// client as one JSON line, then serves until its standard input closes. With providerKeyEnv set,
// it also registers a client as FAPI 2.0 has them: private_key_jwt with that key (ES256, kid
// benchKeyID), DPoP-bound tokens, ID tokens signed with ES256 (FAPI 2.0 forbids RS256); without
// DPoP nonces, which would add a round trip to both sides of the ratio.
func TestProviderProcess(t *testing.T) {
	redirectURL := os.Getenv(providerProcessEnv)
	if redirectURL == "" {
		t.Skip("the provider process of the login benchmarks; they start it")
	}
	op := oidctest.NewUnstartedServer()
	op.SetUser(typicalUser)
	op.Start()
	defer op.Close()
	c := op.AddClient(oidctest.Client{RedirectURIs: []string{redirectURL}})
	info := providerInfo{Issuer: op.Issuer, ClientID: c.ID, ClientSecret: c.Secret}
	if encoded := os.Getenv(providerKeyEnv); encoded != "" {
		der, err := base64.StdEncoding.DecodeString(encoded)
		if err != nil {
			t.Fatal(err)
		}
		key, err := x509.ParsePKIXPublicKey(der)
		if err != nil {
			t.Fatal(err)
		}
		info.FAPIClientID = op.AddClient(oidctest.Client{
			RedirectURIs:          []string{redirectURL},
			AuthMethod:            "private_key_jwt",
			Keys:                  []oidctest.ClientKey{{ID: benchKeyID, Key: key}},
			DPoPBoundAccessTokens: true,
			IDTokenAlg:            "ES256",
		}).ID
	}
	if err := json.NewEncoder(os.Stdout).Encode(info); err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// startProviderProcess starts TestProviderProcess in a child process, stopped when tb ends; with
// a clientKey, the provider registers the FAPI client with its public key.
func startProviderProcess(tb testing.TB, redirectURL string, clientKey crypto.PublicKey) providerInfo {
	tb.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestProviderProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), providerProcessEnv+"="+redirectURL)
	if clientKey != nil {
		der, err := x509.MarshalPKIXPublicKey(clientKey)
		if err != nil {
			tb.Fatal(err)
		}
		cmd.Env = append(cmd.Env, providerKeyEnv+"="+base64.StdEncoding.EncodeToString(der))
	}
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	info := make(chan providerInfo, 1)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			var p providerInfo
			if json.Unmarshal(lines.Bytes(), &p) == nil && p.Issuer != "" {
				info <- p
				break
			}
		}
		_, _ = io.Copy(io.Discard, stdout) // until the process ends
	}()
	tb.Cleanup(func() {
		stdin.Close()
		select {
		case <-readDone:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-readDone
		}
		_ = cmd.Wait()
	})
	select {
	case p := <-info:
		return p
	case <-readDone:
		tb.Fatal("the provider process ended without starting")
	case <-time.After(30 * time.Second):
		tb.Fatal("the provider process did not start within 30 s")
	}
	return providerInfo{}
}

// providerTransport returns a keep-alive transport to the provider and the count of the
// connections it opens.
func providerTransport() (*http.Transport, *atomic.Int64) {
	dials := new(atomic.Int64)
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials.Add(1)
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        100,
		MaxIdleConnsPerHost: 32,
		IdleConnTimeout:     90 * time.Second,
	}, dials
}

// requestCounter counts the requests sent through it, by path.
type requestCounter struct {
	next http.RoundTripper

	mu    sync.Mutex
	paths map[string]int
}

func (c *requestCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.paths[req.URL.Path]++
	c.mu.Unlock()
	return c.next.RoundTrip(req)
}

func (c *requestCounter) count(path string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.paths[path]
}

// benchAppURL is the origin of the app in the login benchmarks, whose handlers they call directly.
const benchAppURL = "https://app.example"

// benchApp is an app protected by parlogin as the login benchmarks drive it: its handlers are
// called in this process, the provider runs in another, and a browser is played by plain requests.
type benchApp struct {
	auth      *Middleware
	protected http.Handler
	transport *http.Transport // parlogin's connections to the provider
	dials     *atomic.Int64   // … and how many it opened
	requests  *requestCounter // with countRequests: parlogin's requests to the provider
	browser   *http.Client    // the browser's visits to the authorization endpoint
}

type benchAppOptions struct {
	userInfo      bool // call the UserInfo endpoint after login (parlogin's default)
	countRequests bool // count parlogin's requests to the provider by path
	// fapi makes the app the provider's FAPI client: private_key_jwt with this key
	// (Config.ClientKeys) and DPoP-bound tokens (Config.DPoP).
	fapi *ecdsa.PrivateKey
}

func newBenchApp(tb testing.TB, p providerInfo, o benchAppOptions) *benchApp {
	tb.Helper()
	a := &benchApp{}
	a.transport, a.dials = providerTransport()
	browser, _ := providerTransport()
	a.browser = &http.Client{
		Transport:     browser,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	tb.Cleanup(a.transport.CloseIdleConnections)
	tb.Cleanup(browser.CloseIdleConnections)
	// An http.Client without Timeout, as an app would pass one: parlogin sets its own.
	client := &http.Client{Transport: a.transport}
	if o.countRequests {
		a.requests = &requestCounter{next: a.transport, paths: make(map[string]int)}
		client.Transport = a.requests
	}
	cfg := Config{
		Issuer:       p.Issuer,
		ClientID:     p.ClientID,
		ClientSecret: p.ClientSecret,
		RedirectURL:  benchAppURL + "/auth/callback",
		Store:        benchStore(),
		Scopes:       []string{"profile", "email"},
		SkipUserInfo: !o.userInfo,
		HTTPClient:   client,
		Logger:       slog.New(slog.DiscardHandler),
	}
	if o.fapi != nil {
		if p.FAPIClientID == "" {
			tb.Fatal("the provider process registered no FAPI client")
		}
		cfg.ClientID, cfg.ClientSecret = p.FAPIClientID, ""
		cfg.ClientKeys = []ClientKey{{ID: benchKeyID, Signer: o.fapi}}
		cfg.DPoP = true
	}
	auth, err := New(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	a.auth, a.protected = auth, auth.Require(okHandler)
	return a
}

func (a *benchApp) closeIdle() {
	a.transport.CloseIdleConnections()
	a.browser.CloseIdleConnections()
}

// navigation is a browser's request for a protected page, without a session.
func navigation() *http.Request {
	req := httptest.NewRequest(http.MethodGet, benchAppURL+"/private", nil)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	return req
}

// toCallback plays the browser between parlogin's answer to a navigation (rec) and the callback:
// it follows the redirect to the provider, which signs the user in at once, and returns the
// request the browser then makes to the callback, with the pending login's cookie.
func (a *benchApp) toCallback(rec *httptest.ResponseRecorder) (*http.Request, error) {
	if rec.Code != http.StatusSeeOther {
		return nil, fmt.Errorf("login start: %d, want 303", rec.Code)
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 {
		return nil, fmt.Errorf("login start set %d cookies, want 1", len(cookies))
	}
	callbackURL, err := a.authorize(rec.Header().Get("Location"))
	if err != nil {
		return nil, err
	}
	req := httptest.NewRequest(http.MethodGet, callbackURL, nil)
	req.Header.Set("Accept", "text/html")
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	req.AddCookie(cookies[0])
	return req, nil
}

// authorize visits the authorization endpoint and returns where the provider redirects.
func (a *benchApp) authorize(target string) (string, error) {
	resp, err := a.browser.Get(target)
	if err != nil {
		return "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("authorization endpoint: %d, want 303", resp.StatusCode)
	}
	return resp.Header.Get("Location"), nil
}

// login logs in once, measuring parlogin's two halves with start and callback (when not nil), and
// returns the session cookie.
func (a *benchApp) login(start, callback *meter) (*http.Cookie, error) {
	req := navigation()
	rec := httptest.NewRecorder()
	start.start()
	a.protected.ServeHTTP(rec, req)
	start.stop()
	req, err := a.toCallback(rec)
	if err != nil {
		return nil, err
	}
	rec = httptest.NewRecorder()
	callback.start()
	a.auth.Callback(rec, req)
	callback.stop()
	if rec.Code != http.StatusSeeOther {
		return nil, fmt.Errorf("callback: %d, want 303", rec.Code)
	}
	for _, c := range rec.Result().Cookies() {
		if c.Name == a.auth.cfg.SessionName && c.MaxAge > 0 {
			return c, nil
		}
	}
	return nil, errors.New("callback set no session cookie")
}

// floorClient is the least a client can do for a login like parlogin's, the floor of
// BenchmarkLogin: a plain http.Client on a keep-alive transport, parlogin's assertion signer, and
// go-jose for the ID token's signature; no cookies, no session, no check beyond the signature.
// For an app with DPoP (the FAPI client), it also sends dpop_jkt with the PAR and a DPoP proof
// (parlogin's proof code) with the token request, all logins with one key, made beforehand: a
// client need not make a key per login, as parlogin does so that each session has its own.
type floorClient struct {
	client    *http.Client
	signer    *assertionSigner
	authorize func(target string) (string, error) // the browser's visit
	key       *jose.JSONWebKey                    // the provider's signing key, from its JWKS
	alg       jose.SignatureAlgorithm             // of the ID tokens: RS256, or ES256 for the FAPI client
	dpop      *dpopKey                            // with DPoP: the key of every login
	jkt       string                              // … and its thumbprint

	clientID, redirectURL, scope           string
	parURL, authURL, tokenURL, userInfoURL string
	userInfo                               bool

	par, token meter // the two halves of a login, like parlogin's start and callback
	lastToken  *oauth2.Token
}

func newFloorClient(tb testing.TB, a *benchApp, userInfo bool) *floorClient {
	tb.Helper()
	op, err := a.auth.provider(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	transport, _ := providerTransport()
	tb.Cleanup(transport.CloseIdleConnections)
	f := &floorClient{
		client:      &http.Client{Transport: transport},
		signer:      a.auth.signer,
		authorize:   a.authorize,
		clientID:    a.auth.cfg.ClientID,
		redirectURL: a.auth.cfg.RedirectURL,
		scope:       a.auth.scope,
		parURL:      op.parURL,
		authURL:     op.authURL.String(),
		tokenURL:    op.tokenURL,
		userInfoURL: op.userInfoURL,
		userInfo:    userInfo,
		alg:         jose.RS256,
	}
	if a.auth.cfg.DPoP {
		if userInfo {
			tb.Fatal("the floor calls UserInfo without DPoP")
		}
		if f.dpop, err = newDPoPKey(); err != nil {
			tb.Fatal(err)
		}
		f.jkt, f.alg = f.dpop.thumbprint(), jose.ES256
	}
	var meta struct {
		JWKSURI string `json:"jwks_uri"`
	}
	if err := f.getJSON(a.auth.cfg.Issuer+"/.well-known/openid-configuration", "", &meta); err != nil {
		tb.Fatal(err)
	}
	var keys jose.JSONWebKeySet
	if err := f.getJSON(meta.JWKSURI, "", &keys); err != nil || len(keys.Keys) == 0 {
		tb.Fatalf("JWKS: %v", err)
	}
	for i, k := range keys.Keys {
		if k.Algorithm == string(f.alg) {
			f.key = &keys.Keys[i]
		}
	}
	if f.key == nil {
		tb.Fatalf("no %s key in the provider's JWKS", f.alg)
	}
	return f
}

func (f *floorClient) getJSON(target, bearer string, v any) error {
	req, err := http.NewRequest(http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d", target, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// postJSON posts form to target, with a DPoP proof when dpop is not empty.
func (f *floorClient) postJSON(target string, form url.Values, dpop string, want int, v any) error {
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if dpop != "" {
		req.Header.Set("DPoP", dpop)
	}
	resp, err := f.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		body, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("POST %s: %d %s", target, resp.StatusCode, body)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// login does one login: PAR with a fresh assertion, the browser's visit to the authorization
// endpoint (not measured), the code exchange with a fresh assertion, the ID token's signature,
// and with userInfo, the UserInfo request; with DPoP, dpop_jkt with the PAR and a proof with the
// code exchange.
func (f *floorClient) login() error {
	f.par.start()
	verifier := oauth2.GenerateVerifier()
	assertion, err := f.signer.assertion(f.signer.keys(time.Now())[0], f.parURL)
	if err != nil {
		return err
	}
	var pushed struct {
		RequestURI string `json:"request_uri"`
	}
	form := url.Values{
		"response_type":         {"code"},
		"client_id":             {f.clientID},
		"redirect_uri":          {f.redirectURL},
		"scope":                 {f.scope},
		"state":                 {rand.Text()},
		"nonce":                 {rand.Text()},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(verifier)},
		"code_challenge_method": {"S256"},
		"client_assertion_type": {clientAssertionType},
		"client_assertion":      {assertion},
	}
	if f.dpop != nil {
		form.Set("dpop_jkt", f.jkt)
	}
	err = f.postJSON(f.parURL, form, "", http.StatusCreated, &pushed)
	f.par.stop()
	if err != nil {
		return err
	}

	callback, err := f.authorize(f.authURL + "?" + url.Values{"client_id": {f.clientID}, "request_uri": {pushed.RequestURI}}.Encode())
	if err != nil {
		return err
	}
	u, err := url.Parse(callback)
	if err != nil {
		return err
	}
	code := u.Query().Get("code")

	f.token.start()
	defer f.token.stop()
	if assertion, err = f.signer.assertion(f.signer.keys(time.Now())[0], f.tokenURL); err != nil {
		return err
	}
	var proof string
	if f.dpop != nil {
		if proof, err = f.dpop.proof(http.MethodPost, f.tokenURL, "", "", time.Now()); err != nil {
			return err
		}
	}
	var token struct {
		IDToken     string `json:"id_token"`
		AccessToken string `json:"access_token"`
	}
	err = f.postJSON(f.tokenURL, url.Values{
		"grant_type":            {"authorization_code"},
		"code":                  {code},
		"redirect_uri":          {f.redirectURL},
		"code_verifier":         {verifier},
		"client_id":             {f.clientID},
		"client_assertion_type": {clientAssertionType},
		"client_assertion":      {assertion},
	}, proof, http.StatusOK, &token)
	if err != nil {
		return err
	}
	if _, err := verifyJWS(token.IDToken, f.key, f.alg); err != nil {
		return err
	}
	f.lastToken = (&oauth2.Token{AccessToken: token.AccessToken}).WithExtra(map[string]any{"id_token": token.IDToken})
	if !f.userInfo {
		return nil
	}
	var claims map[string]any
	return f.getJSON(f.userInfoURL, token.AccessToken, &claims)
}

// verifyJWS verifies the signature (alg) of a compact JWS with key and returns its payload.
func verifyJWS(raw string, key *jose.JSONWebKey, alg jose.SignatureAlgorithm) ([]byte, error) {
	jws, err := jose.ParseSigned(raw, []jose.SignatureAlgorithm{alg})
	if err != nil {
		return nil, err
	}
	return jws.Verify(key)
}

// BenchmarkLogin measures the client side of a login, the provider running in another process
// (TestProviderProcess) so that this process's CPU time (getrusage) is the client's alone.
//
//   - assertion: one client assertion (HS256), as parlogin signs it;
//   - rs256_verify: one RS256 signature verification of an ID token (go-jose);
//   - idtoken_verify: parlogin's verification of the same ID token (go-oidc's checks with the
//     signature, then parlogin's: azp, iat, at_hash, the claims kept in the session), keys cached;
//   - floor: the parts of a login and nothing else (floorClient): two assertions, the PAR round
//     trip, the token round trip, one RS256 verification;
//   - parlogin: a login through parlogin's handlers, with Config.SkipUserInfo so as to do the same
//     work as the floor: Require on a navigation without a session (PAR, the pending login's
//     cookie, the redirect), then Callback (state, code exchange, ID token verification, session);
//   - floor_userinfo and parlogin_userinfo: the same with the UserInfo request that parlogin
//     makes by default;
//   - es256_assertion, es256_verify, idtoken_verify_es256, dpop_proof, dpop_key: the parts of a
//     FAPI 2.0 login: one private_key_jwt assertion (ES256, with kid) as parlogin signs it, one
//     ES256 signature check of an ID token (go-jose), parlogin's verification of that ID token,
//     one DPoP proof, and the key parlogin makes for each login (generated, its thumbprint, kept
//     in the pending login's cookie and read back at the callback);
//   - floor_fapi, parlogin_fapi, paired_fapi: logins of the FAPI client (private_key_jwt, DPoP,
//     ES256 ID tokens; see TestProviderProcess), parlogin with Config.ClientKeys and Config.DPoP.
//
// ns/op is a whole login's wall time, the browser's visit to the authorization endpoint and the
// provider's work (an RSA or ECDSA signature) included. The other metrics leave the browser's visit out,
// as it is not the app's work: cpu-ns/op is this process's CPU time per login, split into the two
// halves (par-… and token-… for the floor, start-… and callback-… for parlogin); new-conns counts
// the connections parlogin opened to the provider during the run. paired and paired_userinfo
// alternate a floor login and a parlogin login, and report cpu-x-floor and wall-x-floor:
// parlogin's CPU and wall time over the floor's, from logins made side by side.
func BenchmarkLogin(b *testing.B) {
	clientKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	p := startProviderProcess(b, benchAppURL+"/auth/callback", clientKey.Public())
	app := newBenchApp(b, p, benchAppOptions{})
	appUserInfo := newBenchApp(b, p, benchAppOptions{userInfo: true})
	appFAPI := newBenchApp(b, p, benchAppOptions{fapi: clientKey})
	floor := newFloorClient(b, app, false)
	floorUserInfo := newFloorClient(b, app, true)
	floorFAPI := newFloorClient(b, appFAPI, false)
	for _, f := range []*floorClient{floor, floorFAPI} {
		if err := f.login(); err != nil { // an ID token to verify
			b.Fatal(err)
		}
	}

	b.Run("assertion", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := app.auth.signer.assertion(app.auth.signer.keys(time.Now())[0], floor.parURL); err != nil {
				b.Fatal(err)
			}
		}
	})
	idToken := floor.lastToken.Extra("id_token").(string)
	b.Run("rs256_verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := verifyJWS(idToken, floor.key, jose.RS256); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("idtoken_verify", func(b *testing.B) {
		op, err := app.auth.provider(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := app.auth.verifyIDToken(context.Background(), op, floor.lastToken, nil); err != nil {
				b.Fatal(err)
			}
		}
	})

	runFloor := func(f *floorClient) func(b *testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			if err := f.login(); err != nil { // warm: connections
				b.Fatal(err)
			}
			f.par, f.token = meter{}, meter{}
			for b.Loop() {
				if err := f.login(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(perOp(b, f.par.cpu+f.token.cpu), "cpu-ns/op")
			b.ReportMetric(perOp(b, f.par.cpu), "par-cpu-ns/op")
			b.ReportMetric(perOp(b, f.token.cpu), "token-cpu-ns/op")
		}
	}
	runParlogin := func(a *benchApp) func(b *testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			if _, err := a.login(nil, nil); err != nil { // warm: connections, JWKS
				b.Fatal(err)
			}
			dials := a.dials.Load()
			var start, callback meter
			for b.Loop() {
				if _, err := a.login(&start, &callback); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(perOp(b, start.cpu+callback.cpu), "cpu-ns/op")
			b.ReportMetric(perOp(b, start.cpu), "start-cpu-ns/op")
			b.ReportMetric(perOp(b, callback.cpu), "callback-cpu-ns/op")
			b.ReportMetric(float64(a.dials.Load()-dials), "new-conns")
		}
	}
	// A pair is a floor login then a parlogin login: the ratios come from logins made side by
	// side, whatever else the machine is doing meanwhile.
	runPairs := func(f *floorClient, a *benchApp) func(b *testing.B) {
		return func(b *testing.B) {
			f.par, f.token = meter{}, meter{}
			var start, callback meter
			for b.Loop() {
				if err := f.login(); err != nil {
					b.Fatal(err)
				}
				if _, err := a.login(&start, &callback); err != nil {
					b.Fatal(err)
				}
			}
			floorCPU, floorWall := f.par.cpu+f.token.cpu, f.par.wall+f.token.wall
			b.ReportMetric(perOp(b, floorCPU), "floor-cpu-ns/op")
			b.ReportMetric(perOp(b, start.cpu+callback.cpu), "parlogin-cpu-ns/op")
			b.ReportMetric(float64(start.cpu+callback.cpu)/float64(floorCPU), "cpu-x-floor")
			b.ReportMetric(float64(start.wall+callback.wall)/float64(floorWall), "wall-x-floor")
		}
	}
	b.Run("floor", runFloor(floor))
	b.Run("parlogin", runParlogin(app))
	b.Run("paired", runPairs(floor, app))
	b.Run("floor_userinfo", runFloor(floorUserInfo))
	b.Run("parlogin_userinfo", runParlogin(appUserInfo))
	b.Run("paired_userinfo", runPairs(floorUserInfo, appUserInfo))

	b.Run("es256_assertion", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := appFAPI.auth.signer.assertion(appFAPI.auth.signer.keys(time.Now())[0], floorFAPI.parURL); err != nil {
				b.Fatal(err)
			}
		}
	})
	idTokenES256 := floorFAPI.lastToken.Extra("id_token").(string)
	b.Run("es256_verify", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := verifyJWS(idTokenES256, floorFAPI.key, jose.ES256); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("idtoken_verify_es256", func(b *testing.B) {
		op, err := appFAPI.auth.provider(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := appFAPI.auth.verifyIDToken(context.Background(), op, floorFAPI.lastToken, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("dpop_proof", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := floorFAPI.dpop.proof(http.MethodPost, floorFAPI.tokenURL, "", "", time.Now()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("dpop_key", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			key, err := newDPoPKey()
			if err != nil {
				b.Fatal(err)
			}
			_ = key.thumbprint()
			if _, err := decodeDPoPKey(key.encode()); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("floor_fapi", runFloor(floorFAPI))
	b.Run("parlogin_fapi", runParlogin(appFAPI))
	b.Run("paired_fapi", runPairs(floorFAPI, appFAPI))
}

// TestManyLogins logs in many times through parlogin, four at a time, the provider running in
// another process, each login followed by one authenticated request, and checks that nothing
// accumulates: goroutines return to their number before the logins once idle connections are
// closed; the heap returns to its size before them once parlogin's two bounded memories (the
// session cache and the consumed states) are emptied; discovery and the JWKS are fetched once; and
// connections to the provider are reused. PARLOGIN_LOGINS sets the number of logins (default 200;
// BENCHMARKS.md runs 10,000).
func TestManyLogins(t *testing.T) {
	n := 200
	if v := os.Getenv("PARLOGIN_LOGINS"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil || n < 1 {
			t.Fatalf("PARLOGIN_LOGINS=%q: want a positive number", v)
		}
	}
	const workers = 4
	p := startProviderProcess(t, benchAppURL+"/auth/callback", nil)
	app := newBenchApp(t, p, benchAppOptions{userInfo: true, countRequests: true})
	if err := app.logins(2*workers, workers); err != nil { // warm: connections, JWKS, pools
		t.Fatal(err)
	}
	goroutinesBefore, heapBefore, _, _ := app.settle(t)

	start := time.Now()
	if err := app.logins(n, workers); err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	cached, consumed := app.auth.sessions.cache.len(), app.auth.shared.(*memoryShared).len()
	goroutines, heap, cache, states := app.settle(t)

	t.Logf("%d logins in %v (%.0f/s, %d at a time); goroutines %d -> %d; heap %d KB -> %d KB, "+
		"besides the session cache (%d entries, %d KB) and the consumed states (%d, %d KB); "+
		"%d connections to the provider",
		n, elapsed.Round(time.Millisecond), float64(n)/elapsed.Seconds(), workers,
		goroutinesBefore, goroutines, heapBefore>>10, heap>>10, cached, cache>>10, consumed, states>>10,
		app.dials.Load())
	if goroutines > goroutinesBefore {
		buf := make([]byte, 1<<20)
		t.Errorf("goroutines: %d before the logins, %d after:\n%s", goroutinesBefore, goroutines, buf[:runtime.Stack(buf, true)])
	}
	if grown := int64(heap) - int64(heapBefore); grown > 1<<20 {
		t.Errorf("heap grew by %d KB over %d logins beyond the bounded caches", grown>>10, n)
	}
	for _, path := range []string{"/.well-known/openid-configuration", "/jwks"} {
		if got := app.requests.count(path); got != 1 {
			t.Errorf("%s fetched %d times, want once", path, got)
		}
	}
	// Reused connections: a number in proportion to the logins at a time, not to the logins. Under
	// load, a request may dial while another's connection is about to come back to the pool, and
	// the spare one is kept: a few more than the workers.
	if dials, logins := app.dials.Load(), app.requests.count("/token"); dials > 4*workers {
		t.Errorf("%d connections to the provider for %d logins: not reused", dials, logins)
	}
}

// logins logs in n times, workers at a time, each login followed by an authenticated request.
func (a *benchApp) logins(n, workers int) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for range workers {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				if err := a.loginAndRequest(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func (a *benchApp) loginAndRequest() error {
	session, err := a.login(nil, nil)
	if err != nil {
		return err
	}
	req := httptest.NewRequest(http.MethodGet, benchAppURL+"/api/me", nil)
	req.AddCookie(session)
	rec := httptest.NewRecorder()
	a.protected.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return fmt.Errorf("authenticated request: %d", rec.Code)
	}
	return nil
}

// settle closes idle connections and waits for them to be gone, empties the session cache and
// then the shared state (the consumed states), and returns the goroutines other than connections',
// the heap after garbage collection, and the heap that the cache and the states held.
func (a *benchApp) settle(t *testing.T) (goroutines int, heap, cache, states uint64) {
	a.closeIdle()
	// A closed connection's goroutines end, and release its buffers, asynchronously: wait for that,
	// however long a busy machine takes, so that what is measured is parlogin's.
	for deadline := time.Now().Add(time.Minute); ; {
		all, conns := goroutineCounts()
		if conns == 0 {
			goroutines = all
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d connection goroutines still running a minute after their connections were closed", conns)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The two memories are replaced by empty ones, not cleared: a cleared map keeps its tables
	// (1.6 MB for these two after 10,000 logins), which would be counted as growth.
	full := heapAfterGC()
	a.auth.sessions.cache.mu.Lock()
	a.auth.sessions.cache.entries, a.auth.sessions.cache.bytes = make(map[string]*cachedSession), 0
	a.auth.sessions.cache.mu.Unlock()
	withStates := heapAfterGC()
	shared := a.auth.shared.(*memoryShared)
	shared.mu.Lock()
	shared.values = make(map[string]memoryValue)
	shared.mu.Unlock()
	heap = heapAfterGC()
	return goroutines, heap, full - min(full, withStates), withStates - min(withStates, heap)
}

// goroutineCounts returns the number of goroutines, and of those that serve an HTTP client
// connection.
func goroutineCounts() (all, conns int) {
	buf := make([]byte, 4<<20)
	for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
		all++
		if strings.Contains(g, "net/http.(*persistConn)") {
			conns++
		}
	}
	return all, conns
}

func heapAfterGC() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
