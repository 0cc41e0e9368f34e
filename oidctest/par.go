package oidctest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parlogin/parlogin/internal/endpoint"
)

// requestURIPrefix starts every request_uri (RFC 9126 section 2.2).
const requestURIPrefix = "urn:ietf:params:oauth:request_uri:"

// requestURILifetime is how long a pushed request can be used (PingOne's default).
const requestURILifetime = 60 * time.Second

// authorizationRequest is a validated authorization request, as pushed by a client.
type authorizationRequest struct {
	clientID      string
	redirectURI   string
	scope         string
	state         string
	nonce         string
	codeChallenge string // "" when PKCE is not used (PingOne mode, PKCEEnforcement OPTIONAL)
	pkceMethod    string // "S256" or "plain"
	responseMode  string // "query" or "form_post"; in PingOne mode also "fragment" or "pi.flow"
	prompt        []string
	acrValues     []string
	maxAge        int64    // seconds; -1 when absent
	dpopJKT       string   // the DPoP key the code is bound to (RFC 9449 section 10); "" for none
	browser       *browser // the Login client that took the request to the authorization endpoint
}

// pushedRequest is an authorization request stored by the PAR endpoint until it is used.
type pushedRequest struct {
	request authorizationRequest
	expires time.Time
	used    bool
}

// handlePAR serves the pushed authorization request endpoint (RFC 9126).
func (s *Server) handlePAR(w http.ResponseWriter, r *http.Request, params url.Values) {
	if !s.allowMethods(w, r, endpoint.PAR, http.MethodPost) {
		return
	}
	if oerr := checkFormPost(r, params); oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	now := s.now()
	c, oerr := s.authenticateClient(r, params, s.cfg.urls[endpoint.PAR], now)
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	var proofJKT string
	if s.dpopEnabled() {
		// RFC 9449 section 10.1: a DPoP proof at the PAR endpoint binds the code like dpop_jkt.
		if proofJKT, _, oerr = s.checkDPoPProof(r, s.cfg.urls[endpoint.PAR], "", now); oerr != nil {
			writeOAuthError(w, oerr)
			return
		}
	}
	if params.Has("request_uri") {
		writeOAuthError(w, invalidRequest("request_uri must not be sent to the pushed authorization request endpoint (RFC 9126 section 2.1)"))
		return
	}
	authz := params
	if params.Has("request") {
		// RFC 9101 section 6.3: only the request object's claims are used.
		if authz, oerr = s.requestObjectParams(r.Context(), c, params.Get("request"), now); oerr != nil {
			writeOAuthError(w, oerr)
			return
		}
	}
	req, oerr := s.parseAuthorizationRequest(c, authz)
	if oerr != nil {
		writeOAuthError(w, oerr)
		return
	}
	if proofJKT != "" {
		// RFC 9449 section 10.1: "If both mechanisms are used at the same time, the
		// authorization server MUST reject the request if the JWK Thumbprint in dpop_jkt does
		// not match the public key in the DPoP header."
		if req.dpopJKT != "" && req.dpopJKT != proofJKT {
			writeOAuthError(w, invalidRequest("dpop_jkt is not the thumbprint of the key of the DPoP proof (RFC 9449 section 10.1)"))
			return
		}
		req.dpopJKT = proofJKT
	}

	var uri string
	if s.cfg.pingOne {
		uri = requestURIPrefix + uuidV4()
	} else {
		uri = requestURIPrefix + randomToken(32)
	}
	s.lock()
	s.pushed[uri] = &pushedRequest{request: req, expires: now.Add(requestURILifetime)}
	s.maybeSweepLocked(now)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, map[string]any{
		"request_uri": uri,
		"expires_in":  int(requestURILifetime.Seconds()),
	})
}

// jwtClaimNames are the claims of a request object that are not authorization parameters.
var jwtClaimNames = map[string]bool{"iss": true, "sub": true, "aud": true, "exp": true, "iat": true, "nbf": true, "jti": true}

// requestObjectParams verifies a request object passed by value (RFC 9101), signed as the
// client's assertions are (with the client secret for client_secret_jwt, with one of its keys
// for private_key_jwt), and returns its claims as authorization request parameters.
func (s *Server) requestObjectParams(ctx context.Context, c Client, raw string, now time.Time) (url.Values, *oauthError) {
	invalid := func(format string, args ...any) *oauthError {
		return newError(http.StatusBadRequest, "invalid_request_object", format, args...)
	}
	t, err := parseJWS(raw)
	if err != nil {
		return nil, invalid("request %v", err)
	}
	if problem := s.registrationProblem(c); problem != "" {
		return nil, newError(http.StatusUnauthorized, "invalid_client", "the registration of client %s is invalid: %s", printable(c.ID), problem)
	}
	if err := s.verifyClientJWT(ctx, c, t); err != nil {
		return nil, invalid("request %v", err)
	}
	if iss, err := stringClaim(t.claims, "iss"); err != nil || iss != c.ID {
		return nil, invalid("request: claim iss must be the client_id")
	}
	aud, err := audienceClaim(t.claims)
	if err != nil {
		return nil, invalid("request: %v", err)
	}
	if !slices.Contains(aud, s.cfg.issuer) {
		return nil, invalid("request: claim aud must contain the issuer (%s)", s.cfg.issuer)
	}
	if _, err := checkLifetime(t.claims, now, 0, "iat", "nbf"); err != nil {
		return nil, invalid("request %v", err)
	}
	if _, ok := t.claims["client_id"]; ok {
		if id, err := stringClaim(t.claims, "client_id"); err != nil || id != c.ID {
			return nil, invalid("request: claim client_id does not match the authenticated client")
		}
	}
	if _, ok := t.claims["request"]; ok {
		return nil, invalid("request must not contain a request claim (RFC 9101 section 4)")
	}
	if _, ok := t.claims["request_uri"]; ok {
		return nil, invalid("request must not contain a request_uri claim (RFC 9101 section 4)")
	}
	params := url.Values{}
	for name, v := range t.claims {
		if jwtClaimNames[name] {
			continue
		}
		switch v := v.(type) {
		case string:
			params.Set(name, v)
		case json.Number:
			params.Set(name, v.String())
		case bool:
			params.Set(name, strconv.FormatBool(v))
		default: // objects, arrays and null, e.g. the claims parameter
			b, err := json.Marshal(v)
			if err != nil {
				return nil, invalid("request: claim %s cannot be read", printable(name))
			}
			params.Set(name, string(b))
		}
	}
	return params, nil
}

// promptValues are the prompt values the provider accepts (OpenID Connect Core section 3.1.2.1).
var promptValues = []string{"none", "login", "consent", "select_account"}

// parseAuthorizationRequest validates the authorization request parameters p of client c. On
// error, the request returned has what an error response needs: the redirect_uri as sent, the
// state and, once it is known, the response mode.
func (s *Server) parseAuthorizationRequest(c Client, p url.Values) (authorizationRequest, *oauthError) {
	req := authorizationRequest{
		clientID:    c.ID,
		redirectURI: p.Get("redirect_uri"),
		scope:       p.Get("scope"),
		state:       p.Get("state"),
		nonce:       p.Get("nonce"),
		acrValues:   strings.Fields(p.Get("acr_values")),
		maxAge:      -1,
	}
	switch rt := p.Get("response_type"); rt {
	case "code":
	case "":
		return req, invalidRequest("response_type is required")
	default:
		return req, newError(http.StatusBadRequest, "unsupported_response_type", "response_type must be code")
	}
	mode, oerr := s.responseMode(p.Get("response_mode"))
	if oerr != nil {
		return req, oerr
	}
	req.responseMode = mode
	switch {
	case req.redirectURI == "" && mode == "pi.flow":
		// PingOne: pi.flow is "to specify that the redirect_uri parameter is not required".
		// https://apidocs.pingidentity.com/pingone/main/v1/api/src/reference/browserless-authentication-flow-options/
	case req.redirectURI == "":
		return req, invalidRequest("redirect_uri is required")
	case len(c.RedirectURIs) == 0:
		return req, invalidRequest("the client has no registered redirect_uri")
	case !slices.Contains(c.RedirectURIs, req.redirectURI):
		return req, invalidRequest("redirect_uri is not registered for the client (exact match)")
	case s.fapi2(c) && !fapiRedirectURI(req.redirectURI):
		return req, invalidRequest("redirect_uri must not be http, except on a loopback IP address for a native client (FAPI 2.0 Security Profile section 5.3.2.2)")
	}
	if !slices.Contains(strings.Fields(req.scope), "openid") {
		return req, newError(http.StatusBadRequest, "invalid_scope", "scope must contain openid")
	}
	if oerr := s.checkPKCE(c, p, &req); oerr != nil {
		return req, oerr
	}
	if p.Has("dpop_jkt") && s.dpopEnabled() {
		if req.dpopJKT = p.Get("dpop_jkt"); !validJKT(req.dpopJKT) {
			return req, invalidRequest("dpop_jkt must be the base64url SHA-256 thumbprint of a JWK (RFC 9449 section 10, RFC 7638)")
		}
	}
	if p.Has("max_age") {
		if !isDigits(p.Get("max_age")) {
			return req, invalidRequest("max_age must be a non-negative integer")
		}
		req.maxAge, _ = strconv.ParseInt(p.Get("max_age"), 10, 64)
	}
	if p.Has("prompt") {
		req.prompt = strings.Fields(p.Get("prompt"))
		for _, v := range req.prompt {
			if !slices.Contains(promptValues, v) {
				return req, invalidRequest("prompt value %s is not supported", printable(v))
			}
		}
		if slices.Contains(req.prompt, "none") && len(req.prompt) > 1 {
			return req, invalidRequest("prompt none cannot be combined with other values")
		}
	}
	return req, nil
}

// responseMode validates a response_mode parameter and returns the mode, "query" by default.
// PingOne's response modes are "query, fragment, form_post, and pi.flow".
// https://apidocs.pingidentity.com/pingone/main/v1/api/src/reference/browserless-authentication-flow-options/
func (s *Server) responseMode(mode string) (string, *oauthError) {
	switch mode {
	case "", "query":
		return "query", nil
	case "form_post":
		return mode, nil
	case "fragment", "pi.flow":
		if s.cfg.pingOne {
			return mode, nil
		}
	}
	if s.cfg.pingOne {
		return "", invalidRequest("response_mode must be query, fragment, form_post or pi.flow")
	}
	return "", invalidRequest("response_mode must be query or form_post")
}

// The PKCE enforcement of a PingOne application ("PKCE enforcement",
// https://docs.pingidentity.com/pingone/applications/p1_pkce_enforcement.html).
const (
	pkceOptional     = "OPTIONAL"      // "code_challenge is optional, and any code challenge method is acceptable"
	pkceRequired     = "REQUIRED"      // "code_challenge is required, but any code challenge method is acceptable"
	pkceS256Required = "S256_REQUIRED" // "code_challenge must use SHA 256 encoding for the code challenge method"
)

// pkceEnforcement returns the PKCE enforcement for client c: S256_REQUIRED without EnvID, the
// client's PKCEEnforcement (default OPTIONAL) with it. The default of PingOne's pkceEnforcement
// is not stated on the pages read; OPTIONAL, the first and most permissive option, is taken, so
// that the provider is not stricter than PingOne.
func (s *Server) pkceEnforcement(c Client) string {
	switch {
	case !s.cfg.pingOne:
		return pkceS256Required
	case c.PKCEEnforcement == "":
		return pkceOptional
	}
	return c.PKCEEnforcement
}

// checkPKCE checks the PKCE parameters of p against the enforcement for c (RFC 7636 section 4.3)
// and records them in req.
func (s *Server) checkPKCE(c Client, p url.Values, req *authorizationRequest) *oauthError {
	enforcement := s.pkceEnforcement(c)
	if !slices.Contains([]string{pkceOptional, pkceRequired, pkceS256Required}, enforcement) {
		return invalidRequest("the client's PKCEEnforcement %s is not OPTIONAL, REQUIRED or S256_REQUIRED", printable(enforcement))
	}
	challenge, method := p.Get("code_challenge"), p.Get("code_challenge_method")
	if challenge == "" {
		if enforcement == pkceOptional {
			// Not documented: a code_challenge_method without code_challenge. It is ignored,
			// as RFC 7636 gives it no meaning alone and PingOne's OPTIONAL accepts requests
			// without PKCE.
			return nil
		}
		return invalidRequest("code_challenge is required (PKCE, RFC 7636)")
	}
	if !validPKCEValue(challenge) {
		return invalidRequest("code_challenge must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~")
	}
	switch {
	case enforcement == pkceS256Required && method != "S256":
		return invalidRequest("code_challenge_method must be S256")
	case method == "":
		method = "plain" // RFC 7636 section 4.3: "defaults to "plain" if not present"
	case method != "plain" && method != "S256":
		return invalidRequest("code_challenge_method must be S256 or plain")
	}
	req.codeChallenge, req.pkceMethod = challenge, method
	return nil
}

// validPKCEValue reports whether v has the syntax of a code_verifier or code_challenge
// (RFC 7636 sections 4.1 and 4.2).
func validPKCEValue(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for _, c := range []byte(v) {
		unreserved := 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~'
		if !unreserved { // RFC 7636 §4.1: [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"
			return false
		}
	}
	return true
}

// isDigits reports whether v is a non-empty string of ASCII digits that fits in an int64.
func isDigits(v string) bool {
	if v == "" || strings.TrimLeft(v, "0123456789") != "" {
		return false
	}
	_, err := strconv.ParseInt(v, 10, 64)
	return err == nil
}
