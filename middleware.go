package parlogin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Middleware signs users in with OpenID Connect. Create it with [New]; it is safe for concurrent
// use. Route [Middleware.Callback] at the path of Config.RedirectURL and [Middleware.Logout] at a
// POST route, and wrap protected handlers with [Middleware.Require].
type Middleware struct {
	cfg     Config
	timeout time.Duration // bounds the calls to the provider made for one request
	client  *http.Client
	signer  *assertionSigner
	op      lazyProvider
	store   store

	scope     string
	secure    bool
	shared    Shared
	sessions  *sessionManager
	flows     *flows
	restarts  restarts
	refreshes refreshGroup
	origins   *http.CrossOriginProtection
	// started is set once New has returned the Middleware: a discovery that fails afterwards is
	// logged, as nobody else hears of it.
	started atomic.Bool
}

// New validates c, reads the provider's discovery document and returns a ready Middleware. ctx
// bounds discovery only. Configuration mistakes are reported here, never at request time; so is an
// unreachable provider, as a [*ProviderError], unless Config.LazyDiscovery is set.
func New(ctx context.Context, c Config) (*Middleware, error) {
	c, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Middleware{cfg: c, timeout: defaultTimeout, signer: newAssertionSigner(c)}
	if c.HTTPClient != nil && c.HTTPClient.Timeout > 0 {
		m.timeout = c.HTTPClient.Timeout
	}
	m.client = newHTTPClient(c.HTTPClient, m.timeout)
	if _, err := m.provider(ctx); err != nil {
		if !c.LazyDiscovery {
			return nil, err
		}
		c.Logger.Warn("parlogin: discovery failed; retrying when a login needs it", "error", err)
	}

	scopes := []string{oidc.ScopeOpenID}
	for _, s := range c.Scopes {
		for _, scope := range strings.Fields(s) {
			if !slices.Contains(scopes, scope) {
				scopes = append(scopes, scope)
			}
		}
	}
	m.scope = strings.Join(scopes, " ")
	redirect, _ := url.Parse(c.RedirectURL) // checked by withDefaults
	m.secure = redirect.Scheme == "https"
	m.store = newStore(c.Store)
	m.shared = c.Shared
	if m.shared == nil {
		m.shared = newMemoryShared(c.Now)
	}
	m.sessions = newSessionManager(c, m.secure, newRevocations(m.shared, c.Shared == nil, c.Now))
	m.flows = &flows{store: m.store, prefix: c.SessionName + "-flow-", secure: m.secure, now: c.Now, shared: m.shared,
		crossSite: m.secure || isLoopback(redirect.Hostname())}
	m.restarts = restarts{name: c.SessionName + "-restart", flows: m.flows}
	m.origins = http.NewCrossOriginProtection()
	m.started.Store(true)
	return m, nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// Require returns a handler that serves next only to signed-in users, with the [User] in the
// request context ([FromContext]). A browser navigation without a session starts a login and comes
// back to the same URL afterwards; any other request gets [ErrUnauthenticated] through
// Config.ErrorHandler (401 by default), never a redirect.
func (m *Middleware) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r, ok := m.Authenticate(w, r); ok {
			next.ServeHTTP(w, r)
		}
	})
}

// Authenticate is [Middleware.Require] for callers that are not an http.Handler chain, such as
// framework adapters. For a signed-in user it returns r with the user in its context and true.
// Otherwise it has answered w (a login redirect or an error) and returns r and false; the caller
// must then write nothing more.
func (m *Middleware) Authenticate(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	if _, ok := m.ownUser(r); ok {
		return r, true
	}
	s, err := m.sessions.load(r, false)
	switch {
	case err != nil:
		// Whether r has a session is unknown: neither a login, which could loop, nor a 401.
		m.fail(w, r, err)
		return r, false
	case s != nil:
		return r.WithContext(NewContext(r.Context(), s.user())), true
	}
	if isNavigation(r) {
		m.startLogin(w, r, returnTarget(r.URL))
	} else {
		m.fail(w, r, ErrUnauthenticated)
	}
	return r, false
}

// User returns the signed-in user of r, without starting a login: for pages that show more to
// signed-in users but are open to all.
func (m *Middleware) User(r *http.Request) (*User, bool) {
	if u, ok := m.ownUser(r); ok {
		return u, true
	}
	s, err := m.sessions.load(r, false)
	if err != nil {
		m.cfg.Logger.WarnContext(r.Context(), "parlogin: reading the session failed; serving the request as anonymous", "error", err)
		return nil, false
	}
	if s == nil {
		return nil, false
	}
	return s.user(), true
}

// ownUser returns the user in r's context when this Middleware put it there (or one configured
// for the same issuer and client): a User from another Middleware proves nothing here.
func (m *Middleware) ownUser(r *http.Request) (*User, bool) {
	u, ok := FromContext(r.Context())
	if !ok || u.Issuer != m.cfg.Issuer || u.client != m.cfg.ClientID {
		return nil, false
	}
	return u, true
}

// Login starts a login and, once signed in, sends the user to the return_to query parameter when
// it is a relative path on this site ("/" otherwise). Route it for "Sign in" links; protected routes
// do not need it.
func (m *Middleware) Login(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, HEAD, POST")
		m.fail(w, r, ErrMethodNotAllowed)
		return
	}
	m.startLogin(w, r, safeReturnTo(r.URL.Query().Get("return_to")))
}

// startLogin pushes an authorization request for a new pending login and redirects the browser to
// the provider. Nothing is stored unless the provider accepted the request.
func (m *Middleware) startLogin(w http.ResponseWriter, r *http.Request, returnTo string) {
	extra, err := m.extraParams(r)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	a := newAttempt(returnTo, extra, m.cfg.Now())
	params := m.authorizationParams(a, extra)
	a.FormPost = params.Get("response_mode") == "form_post"

	ctx, cancel := context.WithTimeout(r.Context(), m.timeout)
	defer cancel()
	op, err := m.provider(ctx)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	requestURI, err := m.pushAuthorizationRequest(ctx, op, params)
	if err != nil {
		m.fail(w, r, err)
		return
	}
	if err := m.flows.save(w, r, a); err != nil {
		m.fail(w, r, err)
		return
	}
	noStore(w)
	http.Redirect(w, r, m.authorizationURL(op, requestURI), http.StatusSeeOther)
}

// isNavigation reports whether r is a browser loading a page, which may be redirected to a login,
// rather than a script or API client, which must get a status it can handle.
func isNavigation(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	if mode := r.Header.Get("Sec-Fetch-Mode"); mode != "" {
		return mode == "navigate"
	}
	if r.Header.Get("X-Requested-With") != "" {
		return false
	}
	return strings.Contains(strings.ToLower(r.Header.Get("Accept")), "text/html")
}

// fail reports err through the error handler.
func (m *Middleware) fail(w http.ResponseWriter, r *http.Request, err error) {
	noStore(w)
	if errors.Is(err, ErrUnauthenticated) {
		// A 401 names the scheme that would get in (RFC 9110 §15.5.2): a script or API client is
		// told that it needs a session, which a browser gets by navigating to the page.
		w.Header().Set("WWW-Authenticate", "Bearer")
	}
	if m.cfg.ErrorHandler != nil {
		m.cfg.ErrorHandler(w, r, err)
		return
	}
	m.defaultErrorHandler(w, r, err)
}

// defaultErrorHandler logs err and answers its status with the status text only: error details
// help attackers and confuse users.
func (m *Middleware) defaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	status := ErrorStatus(err)
	level := slog.LevelWarn
	switch {
	case status >= 500:
		level = slog.LevelError
	case status == http.StatusUnauthorized:
		level = slog.LevelDebug // anonymous API calls are routine
	}
	m.cfg.Logger.Log(r.Context(), level, "parlogin: request failed", "method", r.Method, "path", r.URL.Path, "status", status, "error", err)
	http.Error(w, http.StatusText(status), status)
}

// noStore keeps responses that set or clear login cookies out of caches.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
}
