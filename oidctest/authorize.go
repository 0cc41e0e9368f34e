package oidctest

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/parlogin/parlogin/internal/endpoint"
)

const (
	codeLifetime        = 60 * time.Second // see Server.codeLifetime for PingOne's
	codeMemory          = time.Hour        // how long a code is remembered after issue, to detect replays
	interactionLifetime = 10 * time.Minute
	maxUsernameLength   = 255 // the longest sub OpenID Connect Core allows
)

// interaction is a login form that was shown for a pushed request and awaits its submission.
type interaction struct {
	request authorizationRequest
	expires time.Time
}

// grant is a sign-in of a user to a client; codes and tokens are issued from it.
type grant struct {
	clientID string
	user     User
	scope    string
	authTime time.Time // of the authentication (auth_time), which may precede the sign-in
	acr      string
	amr      []string
	sid      string // of the provider session
	revoked  bool   // guarded by Server.mu
	dpopJKT  string // the DPoP key of the tokens of the code, whose refresh needs it; guarded by Server.mu
}

// authCode is an authorization code, single use.
type authCode struct {
	grant         *grant
	redirectURI   string
	codeChallenge string // "" without PKCE
	pkceMethod    string
	nonce         string
	dpopJKT       string // the DPoP key the token request must use (RFC 9449 section 10); "" for none
	expires       time.Time
	forgetAt      time.Time // when the code is dropped from memory
	used          bool
}

// SetAuthorizationResponseHook edits the parameters of every authorization response before they
// are sent (delete or change iss, change state, add junk). nil removes it. It also edits error
// responses. The hook is called without holding any lock of the server.
func (s *Server) SetAuthorizationResponseHook(hook func(params url.Values)) {
	s.lock()
	s.authzHook = hook
	s.mu.Unlock()
}

// handleAuthorization serves the authorization endpoint. It accepts pushed requests (client_id
// and request_uri) and submissions of its own login form, and in PingOne mode requests that
// were not pushed (see handleDirectAuthorization).
func (s *Server) handleAuthorization(w http.ResponseWriter, r *http.Request, params url.Values, fault *Fault) {
	if !s.allowMethods(w, r, endpoint.Authorization, http.MethodGet, http.MethodPost) {
		return
	}
	if name, ok := repeatedParam(params); ok {
		s.errorPage(w, http.StatusBadRequest, "invalid_request", "parameter "+printable(name)+" is repeated")
		return
	}
	if params.Has("interaction") {
		s.handleLoginForm(w, r, params, fault)
		return
	}
	clientID, requestURI := params.Get("client_id"), params.Get("request_uri")
	if requestURI == "" && s.cfg.pingOne {
		s.handleDirectAuthorization(w, r, params, fault)
		return
	}
	if requestURI == "" {
		s.errorPage(w, http.StatusBadRequest, "invalid_request", "request_uri is required: this provider accepts only pushed authorization requests (RFC 9126)")
		return
	}
	c, ok := s.browserClient(w, clientID)
	if !ok {
		return
	}
	now := s.now()
	req, problem := s.usePushedRequest(requestURI, c.ID, now)
	if problem != "" {
		if len(c.RedirectURIs) != 1 {
			s.errorPage(w, http.StatusBadRequest, "invalid_request_uri", problem)
			return
		}
		// Like oidc-provider: the request is unknown, so there is no state to send back.
		s.respond(w, r, c.RedirectURIs[0], "query", s.withIssuer(url.Values{
			"error":             {"invalid_request_uri"},
			"error_description": {problem},
		}), "")
		return
	}
	s.authorize(w, r, req, fault, now)
}

// handleDirectAuthorization serves an authorization request that was not pushed, in PingOne
// mode: "By default, PingOne accepts both standard and PAR authorization requests. Optionally,
// you can require all authorization requests to use PAR by enabling Require Pushed
// Authorization Request" (https://developer.pingidentity.com/orchsdks/oidc/use-cases/par/javascript.html).
// The parameters are checked as at the PAR endpoint. As RFC 6749 section 4.1.2.1 says, an
// error is shown on a page while the client or its redirect_uri is in doubt, and sent to the
// redirect_uri afterwards.
func (s *Server) handleDirectAuthorization(w http.ResponseWriter, r *http.Request, params url.Values, fault *Fault) {
	c, ok := s.browserClient(w, params.Get("client_id"))
	if !ok {
		return
	}
	if c.RequirePushedAuthorizationRequests {
		// Not documented: how PingOne refuses it. RFC 9126 section 5 only says that the
		// request is refused; a page, because PAR is what the client gets wrong.
		s.errorPage(w, http.StatusBadRequest, "invalid_request", "request_uri is required: this application requires pushed authorization requests (RFC 9126)")
		return
	}
	now := s.now()
	authz := params
	if params.Has("request") {
		var oerr *oauthError
		if authz, oerr = s.requestObjectParams(r.Context(), c, params.Get("request"), now); oerr != nil {
			s.errorPage(w, oerr.status, oerr.code, oerr.description)
			return
		}
	}
	if uri := authz.Get("redirect_uri"); uri != "" && !slices.Contains(c.RedirectURIs, uri) {
		s.errorPage(w, http.StatusBadRequest, "invalid_request", "redirect_uri is not registered for the client (exact match)")
		return
	}
	req, oerr := s.parseAuthorizationRequest(c, authz)
	switch {
	case oerr != nil && req.redirectURI == "" && req.responseMode != "pi.flow":
		s.errorPage(w, oerr.status, oerr.code, oerr.description)
		return
	case oerr != nil:
		s.rejectAuthorization(w, r, req, oerr.code, oerr.description)
		return
	}
	req.browser = s.takeDirectBrowser(r.URL.RawQuery, now)
	s.authorize(w, r, req, fault, now)
}

// authorize answers a valid authorization request: with the injected fault, by signing a user
// in, or with the login form.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, req authorizationRequest, fault *Fault, now time.Time) {
	if fault != nil {
		s.rejectAuthorization(w, r, req, fault.Error, fault.ErrorDescription)
		return
	}
	switch {
	case !s.cfg.loginForm || req.responseMode == "pi.flow":
		// pi.flow drives PingOne's flows API, which this provider does not implement: such a
		// request signs the user in at once and answers what PingOne answers when the flow
		// completes (as it does at once for a user who already has a session).
		s.signIn(w, r, req, s.userFor(req), now)
		return
	case s.canSignInSilently(req, now):
		s.signIn(w, r, req, s.userNamed(req.browser.subject), now)
		return
	case slices.Contains(req.prompt, "none"):
		s.rejectAuthorization(w, r, req, "login_required", "prompt is none but the user must sign in")
		return
	}
	id := randomToken(32)
	s.lock()
	s.interactions[id] = &interaction{request: req, expires: now.Add(interactionLifetime)}
	s.maybeSweepLocked(now)
	s.mu.Unlock()
	s.loginPage(w, http.StatusOK, loginData{Interaction: id, Username: s.signedInUser().Subject})
}

// usePushedRequest marks a pushed request used and returns it, or returns why it cannot be used.
func (s *Server) usePushedRequest(uri, clientID string, now time.Time) (authorizationRequest, string) {
	s.lock()
	defer s.mu.Unlock()
	p, ok := s.pushed[uri]
	switch {
	case !ok:
		return authorizationRequest{}, "request_uri is unknown"
	case p.request.clientID != clientID:
		return authorizationRequest{}, "request_uri was pushed by another client"
	case p.used:
		return authorizationRequest{}, "request_uri was already used"
	case now.After(p.expires):
		return authorizationRequest{}, "request_uri has expired"
	}
	p.used = true
	return p.request, ""
}

// handleLoginForm signs in the user named in a submitted login form.
func (s *Server) handleLoginForm(w http.ResponseWriter, r *http.Request, params url.Values, fault *Fault) {
	if r.Method != http.MethodPost {
		s.errorPage(w, http.StatusBadRequest, "invalid_request", "the sign-in form must be submitted with POST")
		return
	}
	id := params.Get("interaction")
	username := strings.TrimSpace(params.Get("username"))
	now := s.now()
	s.lock()
	it, ok := s.interactions[id]
	if !ok || now.After(it.expires) {
		s.mu.Unlock()
		s.errorPage(w, http.StatusBadRequest, "invalid_request", "this sign-in form has expired or was already submitted; start again from the application")
		return
	}
	if problem := checkUsername(username); problem != "" {
		s.mu.Unlock()
		s.loginPage(w, http.StatusUnprocessableEntity, loginData{Interaction: id, Username: username, Error: problem})
		return
	}
	delete(s.interactions, id)
	s.mu.Unlock()
	if fault != nil {
		s.rejectAuthorization(w, r, it.request, fault.Error, fault.ErrorDescription)
		return
	}
	s.signIn(w, r, it.request, s.userNamed(username), now)
}

// checkUsername returns why username cannot be a subject, or "".
func checkUsername(username string) string {
	switch {
	case username == "":
		return "Enter a username."
	case len(username) > maxUsernameLength || !utf8.ValidString(username):
		return "The username must be at most 255 bytes of UTF-8."
	case strings.ContainsFunc(username, unicode.IsControl):
		return "The username must not contain control characters."
	}
	return ""
}

// signIn issues a code for req to user u and sends it to the client.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request, req authorizationRequest, u User, now time.Time) {
	g := s.authenticate(req, u, now)
	code := randomToken(32)
	s.lock()
	s.codes[code] = &authCode{
		grant:         g,
		redirectURI:   req.redirectURI,
		codeChallenge: req.codeChallenge,
		pkceMethod:    req.pkceMethod,
		nonce:         req.nonce,
		dpopJKT:       req.dpopJKT,
		expires:       now.Add(s.codeLifetime()),
		forgetAt:      now.Add(codeMemory),
	}
	s.maybeSweepLocked(now)
	s.mu.Unlock()

	params := s.withIssuer(url.Values{"code": {code}})
	if req.state != "" {
		params.Set("state", req.state)
	}
	s.respond(w, r, req.redirectURI, req.responseMode, params, g.sid)
}

// rejectAuthorization sends an error response for req to its client.
func (s *Server) rejectAuthorization(w http.ResponseWriter, r *http.Request, req authorizationRequest, code, description string) {
	params := s.withIssuer(url.Values{"error": {code}})
	if description != "" {
		params.Set("error_description", description)
	}
	if req.state != "" {
		params.Set("state", req.state)
	}
	s.respond(w, r, req.redirectURI, req.responseMode, params, "")
}

// withIssuer adds iss to the parameters of an authorization response (RFC 9207), except in
// PingOne mode. PingOne's discovery document does not advertise
// authorization_response_iss_parameter_supported, and whether PingOne sends iss is not
// documented: it is left out, so that a client that counts on iss fails here as it would at a
// provider that does not send it.
func (s *Server) withIssuer(params url.Values) url.Values {
	if !s.cfg.pingOne {
		params.Set("iss", s.cfg.issuer)
	}
	return params
}

// respond sends an authorization response to redirectURI: a 303 redirect with the parameters
// added to its query, or to its fragment with response_mode fragment; with form_post an
// auto-submitting form (OAuth 2.0 Form Post Response Mode); with pi.flow, PingOne's JSON flow
// answer (see piFlowResponse). sid is the provider session of a successful response. The
// authorization response hook edits params first.
func (s *Server) respond(w http.ResponseWriter, r *http.Request, redirectURI, mode string, params url.Values, sid string) {
	s.lock()
	hook := s.authzHook
	s.mu.Unlock()
	if hook != nil {
		hook(params)
	}
	switch mode {
	case "form_post":
		s.formPostPage(w, redirectURI, params)
		return
	case "pi.flow":
		s.piFlowResponse(w, params, sid)
		return
	}
	u, err := url.Parse(redirectURI)
	if err != nil {
		s.errorPage(w, http.StatusBadRequest, "invalid_request", "the redirect_uri registered for the client is not a valid URL")
		return
	}
	if mode == "fragment" {
		// OAuth 2.0 Multiple Response Type Encoding Practices, section 2.1.
		u.Fragment, u.RawFragment = "", ""
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, u.String()+"#"+params.Encode(), http.StatusSeeOther)
		return
	}
	q := u.Query() // keep the query of the redirect URI (RFC 6749 section 3.1.2)
	for k, vs := range params {
		q[k] = vs
	}
	u.RawQuery = q.Encode()
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, u.String(), http.StatusSeeOther)
}
