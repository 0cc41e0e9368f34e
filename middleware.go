package parlogin

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
)

// Middleware signs users in with OpenID Connect. Create it with [New]; it is safe for concurrent
// use. Mount [Middleware.Handler] for parlogin's own routes (the callback at the path of
// Config.RedirectURL, login, logout, back-channel logout), and wrap protected handlers with
// [Middleware.Require] or [Middleware.RequirePolicy].
type Middleware struct {
	cfg     Config
	timeout time.Duration // bounds the calls to the provider made for one request
	clock   *clockOffset  // the provider's clock, for the times it issues and checks
	client  *http.Client
	signer  *assertionSigner
	op      lazyProvider
	store   store

	scope        string
	secure       bool
	shared       Shared
	sessions     *sessionManager
	flows        *flows
	restarts     restarts
	refreshes    refreshGroup
	nonces       dpopNonces // the provider's and APIs' DPoP nonces
	routes       routes
	callbackPath string
	origins      *http.CrossOriginProtection
	rotation     struct { // what was logged of a client secret rotation (SetClientSecret)
		sync.Mutex
		newAccepted bool
		warnedAt    time.Time
	}
	// started is set once New has returned the Middleware: a discovery that fails afterwards is
	// logged, as nobody else hears of it.
	started atomic.Bool
}

// New validates c, reads the provider's discovery document and returns a ready Middleware. ctx
// bounds the wait for discovery, which Config.HTTPClient's timeout bounds too. Configuration
// mistakes are reported here, never at request time; so is an unreachable provider, as a
// [*ProviderError], unless Config.LazyDiscovery is set.
func New(ctx context.Context, c Config) (*Middleware, error) {
	c, err := c.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Middleware{cfg: c, timeout: defaultTimeout}
	m.clock = &clockOffset{now: c.Now, logger: c.Logger, emit: m.emit}
	m.signer = newAssertionSigner(c, m.clock.providerNow)
	if c.HTTPClient != nil && c.HTTPClient.Timeout > 0 {
		m.timeout = c.HTTPClient.Timeout
	}
	m.client = newHTTPClient(c.HTTPClient, m.timeout, m.clock)
	if _, err := m.provider(ctx); err != nil {
		if !c.LazyDiscovery {
			return nil, err
		}
		c.Logger.Warn("parlogin: discovery failed; retrying when a login needs it", "error", err)
	}

	m.scope = scopeParam(c.Scopes)
	redirect, _ := url.Parse(c.RedirectURL) // checked by withDefaults
	m.secure = redirect.Scheme == "https"
	m.store = newStore(c.Store)
	m.shared = c.Shared
	if m.shared == nil {
		m.shared = newMemoryShared(c.Now)
	}
	m.sessions = newSessionManager(c, m.store, m.secure, newRevocations(m.shared, c.Shared == nil, c.Now, m.timeout))
	m.flows = &flows{store: m.store, prefix: c.SessionName + "-flow-", secure: m.secure, now: c.Now, shared: m.shared,
		crossSite: m.secure || isLoopback(redirect.Hostname())}
	m.restarts = restarts{name: c.SessionName + "-restart", flows: m.flows}
	m.origins = http.NewCrossOriginProtection()
	m.routes, m.callbackPath = newRoutes(m, redirect), callbackPath(redirect)
	m.started.Store(true)
	return m, nil
}

// scopeParam returns the scope parameter of authorization requests: "openid", then scopes, each
// once.
func scopeParam(scopes []string) string {
	param := []string{oidc.ScopeOpenID}
	for _, s := range scopes {
		for _, scope := range strings.Fields(s) {
			if !slices.Contains(param, scope) {
				param = append(param, scope)
			}
		}
	}
	return strings.Join(param, " ")
}

// Require returns a handler that serves next only to signed-in users, with the [User] in the
// request context ([FromContext]).
//
// A browser navigation without a session starts a login and comes back to the same URL afterwards.
// A navigation is a GET or HEAD with the header Sec-Fetch-Mode: navigate, which browsers send when
// the user follows a link or types an address; from a client that sends no Sec-Fetch-Mode, one that
// accepts text/html and is not an XMLHttpRequest. Any other request (an API call, a script's fetch,
// a POST) gets [ErrUnauthenticated] through Config.ErrorHandler — by default 401 with
// WWW-Authenticate: Bearer — never a redirect. In tests, an http.Client therefore gets 401: use
// oidctest's Server.Login for a signed-in client.
//
// parlogin's own routes (see [Middleware.Handler]) pass through unguarded, so that Require may wrap
// a whole router, the callback included.
func (m *Middleware) Require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r, ok := m.Authenticate(w, r, Policy{}); ok {
			next.ServeHTTP(w, r)
		}
	})
}

// Authenticate is [Middleware.RequirePolicy] for callers that are not an http.Handler chain, such
// as framework adapters; the zero Policy makes it [Middleware.Require]. For a signed-in user whose
// authentication meets p, it returns r with the user in its context and true; for a request to one
// of parlogin's own routes, r and true (no user). Otherwise it has answered w (a login redirect or
// an error) and returns r and false; the caller must then write nothing more.
func (m *Middleware) Authenticate(w http.ResponseWriter, r *http.Request, p Policy) (*http.Request, bool) {
	if m.own(r) {
		return r, true
	}
	u, ok := m.ownUser(r)
	if !ok {
		s, err := m.sessions.load(r, false)
		switch {
		case err != nil:
			// Whether r has a session is unknown: neither a login, which could loop, nor a 401.
			m.fail(w, withRetry(r, returnTarget(r.URL)), err)
			return r, false
		case s == nil:
			if isNavigation(r) {
				m.startLogin(w, r, returnTarget(r.URL), nil)
			} else {
				m.fail(w, withRetry(r, returnTarget(r.URL)), ErrUnauthenticated)
			}
			return r, false
		}
		r, u = s.withUser(r)
	}
	if why := p.check(u, m.clock.providerNow, m.cfg.ClockSkew); why != "" {
		if isNavigation(r) {
			m.cfg.Logger.InfoContext(r.Context(), "parlogin: step-up", "sub", u.Subject, "unmet", why, "policy", p.String())
			m.emit(r.Context(), Event{Kind: EventStepUp, Subject: u.Subject})
			m.startLogin(w, r, returnTarget(r.URL), &stepUp{policy: p, from: u.Subject})
		} else {
			m.fail(w, withRetry(r, returnTarget(r.URL)), &insufficientAuthentication{policy: p})
		}
		return r, false
	}
	return r, true
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
	m.startLogin(w, r, safeReturnTo(r.URL.Query().Get("return_to")), nil)
}

// stepUp is a login that a signed-in user starts to meet a route's Policy.
type stepUp struct {
	policy Policy
	from   string // the subject signed in
}

// startLogin pushes an authorization request for a new pending login (a step-up, when step is
// set) and redirects the browser to the provider. Nothing is stored unless the provider accepted
// the request.
func (m *Middleware) startLogin(w http.ResponseWriter, r *http.Request, returnTo string, step *stepUp) {
	if err := m.pushLogin(w, r, returnTo, step); err != nil {
		m.emit(r.Context(), Event{Kind: EventLoginFailed, Err: err})
		m.fail(w, withRetry(r, returnTo), err)
		return
	}
	m.emit(r.Context(), Event{Kind: EventLoginStarted})
}

// pushLogin pushes an authorization request for a new pending login and redirects the browser to
// the provider; on failure it has written nothing.
func (m *Middleware) pushLogin(w http.ResponseWriter, r *http.Request, returnTo string, step *stepUp) error {
	extra, err := m.extraParams(r)
	if err != nil {
		return err
	}
	if step != nil {
		if extra == nil {
			extra = make(url.Values)
		}
		for name, value := range step.policy.params() {
			extra.Set(name, value)
		}
	}
	a := newAttempt(returnTo, extra, m.cfg.Now())
	if step != nil {
		a.StepUpFrom = step.from
	}
	params := m.authorizationParams(a, extra)
	if m.cfg.DPoP {
		// A key for the session to come; its thumbprint binds the authorization code to it
		// (RFC 9449 §10), so that only this login can redeem it.
		key, err := newDPoPKey()
		if err != nil {
			return err
		}
		a.DPoPKey = key.encode()
		params.Set("dpop_jkt", key.thumbprint())
	}
	a.FormPost = params.Get("response_mode") == "form_post"

	ctx, cancel := context.WithTimeout(r.Context(), m.timeout)
	defer cancel()
	op, err := m.provider(ctx)
	if err != nil {
		return err
	}
	requestURI, err := m.pushAuthorizationRequest(ctx, op, params)
	if err != nil {
		return err
	}
	if err := m.flows.save(w, r, a); err != nil {
		return err
	}
	noStore(w)
	http.Redirect(w, r, m.authorizationURL(op, requestURI), http.StatusSeeOther)
	return nil
}

// isNavigation reports whether r is a browser loading a page, which may be redirected to a login,
// rather than a script or API client, which must get a status it can handle: a GET or HEAD with
// Sec-Fetch-Mode: navigate, or, from a browser that does not send Sec-Fetch-Mode, one that accepts
// text/html and is not an XMLHttpRequest.
func isNavigation(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) && acceptsHTML(r)
}

// acceptsHTML reports whether r comes from a browser that shows the answer as a page: a navigation,
// by its Sec-Fetch-Mode or, without one, by its Accept header.
func acceptsHTML(r *http.Request) bool {
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
	if ErrorStatus(err) == http.StatusUnauthorized {
		// A 401 names the scheme that would get in (RFC 9110 §15.5.2): a script or API client is
		// told that it needs a session, which a browser gets by navigating to the page, or, for a
		// step-up, what authentication it needs (RFC 9470 §3).
		w.Header().Set("WWW-Authenticate", challenge(err))
	}
	if m.cfg.ErrorHandler != nil {
		m.cfg.ErrorHandler(w, r, err)
		return
	}
	m.defaultErrorHandler(w, r, err)
}

// noStore keeps responses that set or clear login cookies out of caches.
func noStore(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
}
