package oidctest

import (
	"errors"
	"fmt"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/parlogin/parlogin/internal/endpoint"
)

// Server is an OpenID Provider listening on a loopback address.
//
// A Server is safe for concurrent use: its methods may be called while it serves requests.
type Server struct {
	// Issuer is the issuer identifier; set by Start/StartTLS. Without EnvID it is URL;
	// with EnvID it is URL + "/" + EnvID + "/as" (PingOne's shape).
	Issuer string
	// URL is the base URL of the listener, "http://127.0.0.1:port" or "https://…".
	URL string

	// Fields below are read by Start/StartTLS; set them on a server from NewUnstartedServer.
	// Changing them after Start has no effect.

	// EnvID, when set, serves the provider in PingOne's shape and with PingOne's documented
	// behaviour (see "PingOne mode" in the package documentation): issuer {URL}/{EnvID}/as,
	// endpoints {issuer}/authorize, /token, /par, /jwks, /userinfo, /revoke, /signoff,
	// discovery at {issuer}/.well-known/openid-configuration; PAR answers 201 with
	// "urn:ietf:params:oauth:request_uri:<uuid v4>" and expires_in 60.
	// Without EnvID: endpoints {URL}/authorize, /token, /par, /jwks, /userinfo, /revoke,
	// /end_session, and request_uri "urn:ietf:params:oauth:request_uri:<random base64url>".
	EnvID string
	// LoginForm makes the authorization endpoint show a minimal HTML login form (a username field,
	// prefilled with the default user's subject, and a "Sign in" button) instead of signing the
	// default user in automatically. Used by the examples so that a human sees a login page.
	LoginForm bool
	// Addr is the listen address; default "127.0.0.1:0". Use a loopback host and port: the issuer
	// is derived from the address the listener reports.
	Addr string
	// EditMetadata, when set, edits the discovery document before it is served (e.g. delete
	// "pushed_authorization_request_endpoint" or set "authorization_response_iss_parameter_supported"
	// to false). Called on every discovery request.
	EditMetadata func(metadata map[string]any)
	// StrictClientAssertions makes the provider check what PingOne does not in client
	// assertions: with it, an assertion needs a jti, which may be used only once per client
	// until the assertion expires, and its iat may not be in the future. PingOne's
	// documentation says that it validates neither iat nor jti, so with EnvID these checks are
	// off unless StrictClientAssertions is set; without EnvID they are always on.
	StrictClientAssertions bool
	// FAPI2 holds every client to the FAPI 2.0 Security Profile, and makes the discovery
	// document advertise only what FAPI 2.0 allows (see "FAPI 2.0" in the package
	// documentation); [Client.FAPI2] does it for one client. It cannot be combined with EnvID:
	// Start panics.
	FAPI2 bool
	// DPoPNonce makes the provider demand a nonce of its own in DPoP proofs (RFC 9449 section
	// 8 at the token and PAR endpoints, section 9 at the userinfo endpoint): a proof without it,
	// or with a nonce that is no longer accepted, is answered with the error use_dpop_nonce and
	// a DPoP-Nonce header holding the current nonce, which every other answer of these
	// endpoints carries too. The nonce changes every 5 minutes of the provider's clock; the
	// previous one is accepted until the next change.
	DPoPNonce bool
	// HTTPClient sends the requests the provider makes itself: logout tokens to the clients'
	// back-channel logout URIs, and requests for the key sets at the clients' JWKSURI. Its
	// redirect policy is ignored (redirects are not followed).
	// Default: a client like [Server.Client], which after StartTLS trusts httptest's certificate
	// and so httptest TLS applications; set it (e.g. to app.Client()) for other applications.
	HTTPClient *http.Client

	cfg config // written by start before serving, read-only afterwards

	initOnce  sync.Once
	closeOnce sync.Once
	closed    chan struct{} // closed by Close; releases delayed answers

	mu            sync.Mutex // guards the fields below
	started       bool
	ts            *httptest.Server
	httpClient    *http.Client // for back-channel logout; follows no redirect
	clock         func() time.Time
	keys          map[string][]signingKey // by alg: current key first, then the previous one
	clients       map[string]Client
	defaultUser   User
	users         map[string]User
	pushed        map[string]*pushedRequest // by request_uri
	interactions  map[string]*interaction   // login forms shown, by interaction id
	directLogins  map[string]*directLogin   // Login browsers of requests not pushed, by query
	codes         map[string]*authCode
	accessTokens  map[string]*accessToken
	refreshTokens map[string]*refreshToken
	sessions      map[string]*session         // by sid
	jtis          map[replayKey]time.Time     // client assertion IDs seen, until when they are remembered
	dpopJTIs      map[dpopReplayKey]time.Time // DPoP proof IDs seen, until when they are remembered
	dpopNonce     dpopNonceState
	sweepAt       int // entry count that triggers the next sweep of expired state
	faults        map[Endpoint]*Fault
	requests      map[Endpoint]*requestLog
	idTokenHook   func(claims map[string]any)
	idTokenSigner func(claims map[string]any) string
	authzHook     func(params url.Values)

	logoutTokenHook   func(claims map[string]any)
	logoutTokenSigner func(claims map[string]any) string
}

// config is the part of a Server fixed at Start.
type config struct {
	issuer           string
	pingOne          bool
	envID            string
	strictAssertions bool // jti required and single use, iat not in the future
	fapi2            bool // Server.FAPI2
	dpopNonce        bool // Server.DPoPNonce
	loginForm        bool
	editMetadata     func(metadata map[string]any)
	urls             map[Endpoint]string // absolute endpoint URLs
	routes           map[string]Endpoint // endpoint by request path (decoded)
	authorizePath    string              // escaped path of the authorization endpoint, for forms
	signedOffURL     string              // PingOne mode: where /signoff sends a browser without post_logout_redirect_uri
}

// Endpoint names an endpoint, for faults ([Server.Inject]) and recorded requests
// ([Server.Requests]): it is parlogin.Endpoint, whose constants name them —
// parlogin.EndpointDiscovery ({issuer}/.well-known/openid-configuration), EndpointJWKS (/jwks),
// EndpointPAR (/par, RFC 9126), EndpointAuthorization (/authorize), EndpointToken (/token),
// EndpointUserInfo (/userinfo), EndpointEndSession (/end_session, or /signoff with EnvID) and
// EndpointRevocation (/revoke, RFC 7009).
type Endpoint = endpoint.Endpoint

// signedOff is PingOne mode's stand-in for PingOne's hosted "signed off" page, {URL}/{EnvID}/signon/
// (see handleSignoff).
const signedOff Endpoint = "signed_off"

const (
	maxBodyBytes = 1 << 20 // request body limit of every endpoint (PingOne: PAR under 1 MB)

	// readHeaderTimeout protects the listener from clients that never send their headers. net/http
	// also uses it as the deadline of the TLS handshake, which on a loaded CI machine (hundreds of
	// concurrent logins on two cores) can take many seconds: 10 s failed 56 of 500 logins. A
	// test provider on loopback has no slowloris to fear, so the bound is generous.
	readHeaderTimeout = time.Minute

	// clientTimeout bounds each request of the client that Client returns: far above a loopback
	// round trip on a busy machine, yet a hung test still fails with a clear error well before
	// the test binary's own timeout.
	clientTimeout = 30 * time.Second
)

// NewServer starts and returns a Server serving plain HTTP on 127.0.0.1 that signs the default
// user in automatically. The caller should call Close when finished, to shut it down.
func NewServer() *Server {
	s := NewUnstartedServer()
	s.Start()
	return s
}

// NewTLSServer starts and returns a Server serving HTTPS on 127.0.0.1 with a self-signed
// certificate, like [httptest.NewTLSServer]. Use [Server.Client] to talk to it.
// The caller should call Close when finished, to shut it down.
func NewTLSServer() *Server {
	s := NewUnstartedServer()
	s.StartTLS()
	return s
}

// NewUnstartedServer returns a Server that is not started yet. Set its fields, then call
// [Server.Start] or [Server.StartTLS].
func NewUnstartedServer() *Server {
	return &Server{}
}

// Start starts a server from NewUnstartedServer, serving plain HTTP. It generates the first
// signing key. Like httptest, it panics if the server was already started or cannot listen on Addr.
func (s *Server) Start() { s.start(false) }

// StartTLS starts a server from NewUnstartedServer, serving HTTPS with httptest's self-signed
// certificate, valid for 127.0.0.1, ::1, example.com and *.example.com (not localhost). It panics
// like Start.
func (s *Server) StartTLS() { s.start(true) }

func (s *Server) start(useTLS bool) {
	s.lock()
	if s.started {
		s.mu.Unlock()
		panic("oidctest: server already started")
	}
	s.started = true
	s.mu.Unlock()
	if s.FAPI2 && s.EnvID != "" {
		panic("oidctest: FAPI2 cannot be combined with EnvID: PingOne mode has no FAPI 2.0 mode")
	}
	s.ensureSigningKey("RS256")
	if s.FAPI2 {
		s.ensureSigningKey("ES256") // the default alg of FAPI 2.0 ID tokens
	}

	ts := httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	if s.Addr != "" {
		ln, err := net.Listen("tcp", s.Addr)
		if err != nil {
			_ = ts.Listener.Close()
			panic(fmt.Sprintf("oidctest: listen on %s: %v", s.Addr, err))
		}
		_ = ts.Listener.Close() // httptest's own listener, replaced
		ts.Listener = ln
	}
	ts.Config.ReadHeaderTimeout = readHeaderTimeout
	scheme := "http"
	if useTLS {
		scheme = "https"
	}
	// The configuration must be complete before the first request can arrive.
	s.cfg = newConfig(scheme+"://"+ts.Listener.Addr().String(), s.EnvID, s.LoginForm, s.EditMetadata)
	s.cfg.strictAssertions = !s.cfg.pingOne || s.StrictClientAssertions
	s.cfg.fapi2, s.cfg.dpopNonce = s.FAPI2, s.DPoPNonce
	if useTLS {
		ts.StartTLS()
	} else {
		ts.Start()
	}
	s.URL = ts.URL
	s.Issuer = s.cfg.issuer

	s.mu.Lock()
	s.ts = ts
	s.httpClient = backchannelClient(s.HTTPClient, ts)
	s.mu.Unlock()
}

// backchannelClient returns a copy of c, or of a client like Client's, that follows no redirect:
// a client must answer a logout token itself (a redirect usually means that its back-channel
// route sits behind a login).
func backchannelClient(c *http.Client, ts *httptest.Server) *http.Client {
	if c == nil {
		c = &http.Client{Timeout: clientTimeout, Transport: ts.Client().Transport}
	}
	out := *c
	out.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &out
}

func newConfig(baseURL, envID string, loginForm bool, editMetadata func(map[string]any)) config {
	c := config{
		issuer:       baseURL,
		pingOne:      envID != "",
		envID:        envID,
		loginForm:    loginForm,
		editMetadata: editMetadata,
		urls:         make(map[Endpoint]string),
		routes:       make(map[string]Endpoint),
	}
	basePath, escapedBase := "", ""
	if envID != "" {
		basePath = "/" + envID + "/as"
		escapedBase = "/" + url.PathEscape(envID) + "/as"
		c.issuer = baseURL + escapedBase
	}
	endSession := "/end_session"
	if envID != "" {
		endSession = "/signoff"
	}
	for e, p := range map[Endpoint]string{
		endpoint.Discovery:     "/.well-known/openid-configuration",
		endpoint.JWKS:          "/jwks",
		endpoint.PAR:           "/par",
		endpoint.Authorization: "/authorize",
		endpoint.Token:         "/token",
		endpoint.UserInfo:      "/userinfo",
		endpoint.EndSession:    endSession,
		endpoint.Revocation:    "/revoke",
	} {
		c.urls[e] = c.issuer + p
		c.routes[basePath+p] = e
	}
	c.authorizePath = escapedBase + "/authorize"
	if envID != "" {
		c.routes["/"+envID+"/signon/"] = signedOff
		c.signedOffURL = baseURL + "/" + url.PathEscape(envID) + "/signon/#signedOff"
	}
	return c
}

// Close shuts the server down: it releases any delayed answer (see [Fault.Delay]), closes the
// listener and blocks until all outstanding requests have finished. Close may be called more
// than once, and on a server that was never started.
func (s *Server) Close() {
	s.initOnce.Do(s.initState)
	s.closeOnce.Do(func() { close(s.closed) })
	s.mu.Lock()
	ts := s.ts
	s.mu.Unlock()
	if ts != nil {
		ts.Close()
	}
}

// Client returns an HTTP client configured for requests to the server: it trusts the server's
// certificate (after StartTLS) and has a 30 s timeout. It follows redirects like any
// [http.Client]; set CheckRedirect to step through a login.
func (s *Server) Client() *http.Client {
	s.lock()
	ts := s.ts
	s.mu.Unlock()
	c := &http.Client{Timeout: clientTimeout}
	if ts != nil {
		c.Transport = ts.Client().Transport
	}
	return c
}

// SetClock replaces the provider's clock (time.Now by default), before Start or at run time, for
// tests that move time instead of waiting. nil restores time.Now. The clock decides the expiry of
// request_uris, codes, tokens and interactions, the times in issued ID and logout tokens and in
// checks of client assertions and request objects, and the Date header of every answer.
func (s *Server) SetClock(now func() time.Time) {
	s.lock()
	s.clock = now
	s.mu.Unlock()
}

// lock initialises the server's state on first use and locks s.mu.
func (s *Server) lock() {
	s.initOnce.Do(s.initState)
	s.mu.Lock()
}

func (s *Server) initState() {
	s.closed = make(chan struct{})
	s.keys = make(map[string][]signingKey)
	s.clients = make(map[string]Client)
	s.defaultUser = defaultUser()
	s.users = make(map[string]User)
	s.pushed = make(map[string]*pushedRequest)
	s.interactions = make(map[string]*interaction)
	s.directLogins = make(map[string]*directLogin)
	s.codes = make(map[string]*authCode)
	s.accessTokens = make(map[string]*accessToken)
	s.refreshTokens = make(map[string]*refreshToken)
	s.sessions = make(map[string]*session)
	s.jtis = make(map[replayKey]time.Time)
	s.dpopJTIs = make(map[dpopReplayKey]time.Time)
	s.faults = make(map[Endpoint]*Fault)
	s.requests = make(map[Endpoint]*requestLog)
}

// now reads the provider's clock. The clock is called without holding s.mu.
func (s *Server) now() time.Time {
	s.lock()
	clock := s.clock
	s.mu.Unlock()
	if clock == nil {
		return time.Now()
	}
	return clock()
}

// serveHTTP routes a request to its endpoint after recording it and applying any fault.
func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	e, ok := s.cfg.routes[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	// Date follows the provider's clock, as a real provider's follows its own: clients that
	// measure their offset to the provider's clock read it.
	now := s.now()
	w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
	if s.cfg.dpopNonce && s.dpopEnabled() && (e == endpoint.PAR || e == endpoint.Token || e == endpoint.UserInfo) {
		// RFC 9449 section 8.2: the nonce may be sent in any answer; every answer carries it,
		// so that clients learn of a new one before their proofs are refused.
		current, _ := s.dpopNonces(now)
		w.Header().Set("DPoP-Nonce", current)
	}
	params, paramErr := readParams(w, r, e)
	s.record(e, params)

	var authzFault *Fault
	if f, ok := s.takeFault(e); ok {
		if !waitDelay(r.Context(), f.Delay, s.closed) {
			return // the client has gone
		}
		if s.answerFault(w, e, f) {
			return
		}
		if f.Error != "" {
			authzFault = &f // the authorization endpoint redirects it to the client
		}
	}

	if paramErr != nil {
		status, desc := http.StatusBadRequest, "the request parameters are malformed"
		var tooLarge *http.MaxBytesError
		if errors.As(paramErr, &tooLarge) {
			status, desc = http.StatusRequestEntityTooLarge, "the request body is larger than 1 MB"
		}
		if frontChannel(e) {
			s.errorPage(w, status, "invalid_request", desc)
		} else {
			writeOAuthError(w, newError(status, "invalid_request", "%s", desc))
		}
		return
	}

	switch e {
	case endpoint.Discovery:
		s.handleDiscovery(w, r)
	case endpoint.JWKS:
		s.handleJWKS(w, r)
	case endpoint.PAR:
		s.handlePAR(w, r, params)
	case endpoint.Authorization:
		s.handleAuthorization(w, r, params, authzFault)
	case endpoint.Token:
		s.handleToken(w, r, params)
	case endpoint.UserInfo:
		s.handleUserInfo(w, r)
	case endpoint.EndSession:
		s.handleEndSession(w, r, params)
	case endpoint.Revocation:
		s.handleRevocation(w, r, params)
	case signedOff:
		if s.allowMethods(w, r, e, http.MethodGet, http.MethodHead) {
			s.signedOutPage(w)
		}
	}
}

// frontChannel reports whether e is visited by the browser (and answers with HTML pages).
func frontChannel(e Endpoint) bool {
	return e == endpoint.Authorization || e == endpoint.EndSession || e == signedOff
}

// readParams parses the parameters of a request to e, with the body limited to 1 MB:
// the form body for PAR, Token and Revocation (RFC 6749, RFC 9126 and RFC 7009 define no query
// parameters), the query and form body for the other endpoints. It always returns non-nil values.
func readParams(w http.ResponseWriter, r *http.Request, e Endpoint) (url.Values, error) {
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxBodyBytes)
	}
	err := r.ParseForm()
	params := r.Form
	if e == endpoint.PAR || e == endpoint.Token || e == endpoint.Revocation {
		params = r.PostForm
	}
	if params == nil {
		params = url.Values{}
	}
	return params, err
}

// allowMethods answers 405 and returns false unless r uses one of methods.
func (s *Server) allowMethods(w http.ResponseWriter, r *http.Request, e Endpoint, methods ...string) bool {
	for _, m := range methods {
		if r.Method == m {
			return true
		}
	}
	for _, m := range methods {
		w.Header().Add("Allow", m)
	}
	desc := fmt.Sprintf("method %s is not allowed", printable(r.Method))
	if frontChannel(e) {
		s.errorPage(w, http.StatusMethodNotAllowed, "invalid_request", desc)
	} else {
		writeOAuthError(w, newError(http.StatusMethodNotAllowed, "invalid_request", "%s", desc))
	}
	return false
}

// maybeSweepLocked drops expired state once the number of entries has doubled since the last
// sweep, which keeps memory bounded at an amortised constant cost per entry. s.mu must be held.
func (s *Server) maybeSweepLocked(now time.Time) {
	n := s.entriesLocked()
	if n < s.sweepAt {
		return
	}
	for k, p := range s.pushed {
		if now.After(p.expires) {
			delete(s.pushed, k)
		}
	}
	for k, i := range s.interactions {
		if now.After(i.expires) {
			delete(s.interactions, k)
		}
	}
	for k, d := range s.directLogins {
		if now.After(d.expires) {
			delete(s.directLogins, k)
		}
	}
	for k, c := range s.codes {
		if now.After(c.forgetAt) {
			delete(s.codes, k)
		}
	}
	for k, a := range s.accessTokens {
		if now.After(a.expires) || a.grant.revoked {
			delete(s.accessTokens, k)
		}
	}
	for k, r := range s.refreshTokens {
		if r.grant.revoked || !s.refreshAliveLocked(r, now) {
			delete(s.refreshTokens, k)
		}
	}
	for k, sess := range s.sessions {
		if now.After(sess.expires) {
			delete(s.sessions, k)
		}
	}
	for k, until := range s.jtis {
		if now.After(until) {
			delete(s.jtis, k)
		}
	}
	for k, until := range s.dpopJTIs {
		if now.After(until) {
			delete(s.dpopJTIs, k)
		}
	}
	s.sweepAt = max(2*s.entriesLocked(), 1024)
}

// entriesLocked counts the entries that maybeSweepLocked bounds. s.mu must be held.
func (s *Server) entriesLocked() int {
	return len(s.pushed) + len(s.interactions) + len(s.directLogins) + len(s.codes) + len(s.accessTokens) + len(s.refreshTokens) + len(s.sessions) + len(s.jtis) + len(s.dpopJTIs)
}

// checkFormPost checks what every back-channel POST must satisfy: a form body in which no
// parameter is repeated (RFC 6749 section 3.1).
func checkFormPost(r *http.Request, params url.Values) *oauthError {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return invalidRequest("the request body must be application/x-www-form-urlencoded")
	}
	if name, ok := repeatedParam(params); ok {
		return invalidRequest("parameter %s is repeated", printable(name))
	}
	return nil
}

// repeatedParam returns the first parameter name (in sorted order) that has several values.
func repeatedParam(params url.Values) (string, bool) {
	for _, k := range slices.Sorted(maps.Keys(params)) {
		if len(params[k]) > 1 {
			return k, true
		}
	}
	return "", false
}
