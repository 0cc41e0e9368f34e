package parlogin

import (
	"bytes"
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/parlogin/parlogin/oidctest"
)

// harness is an app protected by parlogin, a strict oidctest provider, and a browser-like client
// with a cookie jar that follows redirects one at a time.
type harness struct {
	t      testing.TB
	op     *oidctest.Server
	client oidctest.Client
	cfg    Config
	auth   *Middleware
	app    *httptest.Server
	jar    http.CookieJar
	http   *http.Client
	logs   *syncBuffer
	errs   *errorLog

	handler *atomic.Value // the app's routes, using auth
}

type harnessOptions struct {
	op     func(*oidctest.Server) // edits the unstarted provider
	config func(*Config)          // edits the parlogin config before New
	client func(*oidctest.Client) // edits the client registration
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// errorLog records the errors that reached the error handler.
type errorLog struct {
	mu   sync.Mutex
	errs []error
}

func (e *errorLog) add(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.errs = append(e.errs, err)
}

func (e *errorLog) last() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.errs) == 0 {
		return nil
	}
	return e.errs[len(e.errs)-1]
}

func newHarness(t testing.TB, o harnessOptions) *harness {
	t.Helper()
	h := &harness{t: t, logs: &syncBuffer{}, errs: &errorLog{}, handler: &atomic.Value{}}
	h.op = oidctest.NewUnstartedServer()
	if o.op != nil {
		o.op(h.op)
	}
	h.op.StartTLS()
	t.Cleanup(h.op.Close)

	h.app = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.handler.Load().(http.Handler).ServeHTTP(w, r)
	}))
	h.app.StartTLS()
	t.Cleanup(h.app.Close)

	client := oidctest.Client{
		RedirectURIs:           []string{h.app.URL + "/auth/callback"},
		PostLogoutRedirectURIs: []string{h.app.URL + "/bye"},
		BackchannelLogoutURI:   h.app.URL + "/auth/backchannel-logout",
	}
	if o.client != nil {
		o.client(&client)
	}
	h.client = h.op.AddClient(client)

	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h.cfg = Config{
		Issuer:                h.op.Issuer,
		ClientID:              h.client.ID,
		ClientSecret:          h.client.Secret,
		RedirectURL:           h.app.URL + "/auth/callback",
		Store:                 testStore(),
		Scopes:                []string{"profile", "email"},
		PostLogoutRedirectURL: h.app.URL + "/bye",
		HTTPClient:            h.op.Client(),
		Logger:                logger,
	}
	if o.config != nil {
		o.config(&h.cfg)
	}
	custom := h.cfg.ErrorHandler
	h.cfg.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
		h.errs.add(err)
		if custom != nil {
			custom(w, r, err)
			return
		}
		h.auth.defaultErrorHandler(w, r, err)
	}
	auth, err := New(context.Background(), h.cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h.use(auth)

	h.jar, _ = cookiejar.New(nil)
	h.http = h.newBrowser()
	return h
}

// use makes the app use auth, as if it restarted with it.
func (h *harness) use(auth *Middleware) {
	h.auth = auth
	h.serve(h.routes())
}

// serve makes the app serve handler.
func (h *harness) serve(handler http.Handler) {
	h.handler.Store(http.HandlerFunc(handler.ServeHTTP)) // one dynamic type for atomic.Value
}

// newBrowser returns a client that shares the harness's cookie jar and trusts both servers.
func (h *harness) newBrowser() *http.Client {
	return &http.Client{
		Transport:     h.app.Client().Transport, // httptest servers share one test certificate
		Jar:           h.jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

func (h *harness) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/private", h.auth.Require(whoami))
	mux.Handle("/api/me", h.auth.Require(whoami))
	mux.HandleFunc("/auth/callback", h.auth.Callback)
	mux.HandleFunc("/auth/login", h.auth.Login)
	mux.HandleFunc("/auth/logout", h.auth.Logout)
	mux.HandleFunc("/auth/backchannel-logout", h.auth.BackchannelLogout)
	mux.HandleFunc("/auth/jwks", h.auth.JWKS)
	mux.HandleFunc("/client", func(w http.ResponseWriter, r *http.Request) {
		client, err := h.auth.Client(w, r, h.op.Client())
		if err != nil {
			http.Error(w, err.Error(), ErrorStatus(err))
			return
		}
		resp, err := client.Get(h.op.Issuer + "/userinfo")
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		tok, err := h.auth.Token(w, r)
		if err != nil {
			http.Error(w, err.Error(), ErrorStatus(err))
			return
		}
		_, _ = io.WriteString(w, tok.AccessToken)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		u, ok := h.auth.User(r)
		if ok {
			_, _ = io.WriteString(w, "public page, signed in as "+u.Subject)
			return
		}
		_, _ = io.WriteString(w, "public page, anonymous")
	})
	return mux
}

// whoami answers with the user of the request's context, as JSON.
var whoami = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	u, ok := FromContext(r.Context())
	if !ok {
		http.Error(w, "no user in context", http.StatusInternalServerError)
		return
	}
	var c struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	}
	_ = u.Claims(&c)
	_ = json.NewEncoder(w).Encode(map[string]string{"sub": u.Subject, "name": c.Name, "email": c.Email, "path": r.URL.RequestURI()})
})

// navigate makes a browser navigation request (what a click or the address bar does).
func (h *harness) navigate(method, target string, body url.Values) *http.Response {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		rd = strings.NewReader(body.Encode())
	}
	req, err := http.NewRequest(method, h.abs(target), rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	return h.do(req)
}

func (h *harness) do(req *http.Request) *http.Response {
	h.t.Helper()
	resp, err := h.http.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp
}

func (h *harness) abs(target string) string {
	if strings.HasPrefix(target, "http") {
		return target
	}
	return h.app.URL + target
}

// follow follows resp's redirect as a browser would (303 and 302 become GET).
func (h *harness) follow(resp *http.Response) *http.Response {
	h.t.Helper()
	loc, err := resp.Location()
	if err != nil {
		h.t.Fatalf("%s %s answered %d without a Location: %s", resp.Request.Method, resp.Request.URL, resp.StatusCode, readBody(resp))
	}
	return h.navigate(http.MethodGet, loc.String(), nil)
}

// toProvider starts at target, expects a redirect to the provider's authorization endpoint, and
// returns that redirect.
func (h *harness) toProvider(target string) *http.Response {
	h.t.Helper()
	resp := h.navigate(http.MethodGet, target, nil)
	if resp.StatusCode != http.StatusSeeOther {
		h.t.Fatalf("GET %s = %d, want 303 to the provider: %s", target, resp.StatusCode, readBody(resp))
	}
	return resp
}

// authorize follows the redirect to the provider and returns the provider's answer (a redirect
// to the callback, or a form_post page).
func (h *harness) authorize(toProvider *http.Response) *http.Response {
	h.t.Helper()
	return h.follow(toProvider)
}

// callback delivers the provider's answer to the app: follows a redirect, or submits a
// form_post page, and returns the app's answer.
func (h *harness) callback(fromProvider *http.Response) *http.Response {
	h.t.Helper()
	if fromProvider.StatusCode == http.StatusOK {
		action, fields := parseForm(h.t, readBody(fromProvider))
		return h.navigate(http.MethodPost, action, fields)
	}
	return h.follow(fromProvider)
}

// login performs a whole login starting at target and returns the final page.
func (h *harness) login(target string) *http.Response {
	h.t.Helper()
	resp := h.callback(h.authorize(h.toProvider(target)))
	if resp.StatusCode != http.StatusSeeOther {
		h.t.Fatalf("callback = %d, want 303; error: %v; body: %s", resp.StatusCode, h.errs.last(), readBody(resp))
	}
	return h.follow(resp)
}

// post posts form to target as a server would (the provider's back channel).
func (h *harness) post(target string, form url.Values) *http.Response {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, h.abs(target), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return h.do(req)
}

// api makes a non-navigation request, as a script would.
func (h *harness) api(target string) *http.Response {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.abs(target), nil)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Sec-Fetch-Mode", "cors")
	return h.do(req)
}

// apiWithCookies makes a non-navigation request to target with exactly cookieHeader as its Cookie
// header, bypassing the browser's jar, and returns the status.
func (h *harness) apiWithCookies(target, cookieHeader string) int {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.abs(target), nil)
	req.Header.Set("Cookie", cookieHeader)
	req.Header.Set("Sec-Fetch-Mode", "cors")
	resp, err := h.app.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func (h *harness) cookie(name string) *http.Cookie {
	u, _ := url.Parse(h.app.URL)
	for _, c := range h.jar.Cookies(u) {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func (h *harness) setCookie(name, value string) {
	u, _ := url.Parse(h.app.URL)
	h.jar.SetCookies(u, []*http.Cookie{{Name: name, Value: value, Path: "/"}})
}

func readBody(resp *http.Response) string {
	b, _ := io.ReadAll(resp.Body)
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return string(b)
}

var (
	formAction = regexp.MustCompile(`<form[^>]*action="([^"]*)"`)
	formInput  = regexp.MustCompile(`<input[^>]*name="([^"]*)"[^>]*value="([^"]*)"`)
)

// parseForm returns the action and hidden fields of the first form of page.
func parseForm(t testing.TB, page string) (string, url.Values) {
	t.Helper()
	m := formAction.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no form in page: %s", page)
	}
	fields := url.Values{}
	for _, in := range formInput.FindAllStringSubmatch(page, -1) {
		fields.Set(html.UnescapeString(in[1]), html.UnescapeString(in[2]))
	}
	return html.UnescapeString(m[1]), fields
}

// jsonBody decodes the JSON body of resp.
func jsonBody(t testing.TB, resp *http.Response) map[string]string {
	t.Helper()
	var v map[string]string
	if err := json.Unmarshal([]byte(readBody(resp)), &v); err != nil {
		t.Fatalf("%d %s: not JSON: %v", resp.StatusCode, readBody(resp), err)
	}
	return v
}

// withTimeout gives c an HTTP client with the timeout d, on the transport it has.
func withTimeout(c *Config, d time.Duration) {
	var transport http.RoundTripper
	if c.HTTPClient != nil {
		transport = c.HTTPClient.Transport
	}
	c.HTTPClient = &http.Client{Transport: transport, Timeout: d}
}
