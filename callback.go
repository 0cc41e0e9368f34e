package parlogin

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// maxCallbackSize bounds the parameters of an authorization response. Real ones are well under
// 4 KB; anything larger is refused before it is parsed.
const maxCallbackSize = 16 << 10

// Callback finishes a login: mount it at the path of Config.RedirectURL, for GET, and for POST
// when the response mode is form_post. It checks the authorization response (state, iss, error),
// exchanges the code with a client assertion and the PKCE verifier, verifies the ID token, starts
// a fresh session and redirects to where the user was going. A failure goes to Config.ErrorHandler
// and leaves any existing session untouched.
func (m *Middleware) Callback(w http.ResponseWriter, r *http.Request) {
	// The URL carries a code: keep it out of the Referer of anything this page links to.
	w.Header().Set("Referrer-Policy", "no-referrer")
	d, a, err := m.finishLogin(w, r)
	if err == nil {
		err = m.sessions.start(w, r, d)
	}
	returnTo := "/"
	var took time.Duration
	if a != nil {
		returnTo = a.ReturnTo
		took = m.cfg.Now().Sub(time.UnixMilli(a.Created))
	}
	if err != nil {
		m.emit(r.Context(), Event{Kind: EventLoginFailed, Duration: took, Err: err})
		if !m.recover(w, r, err, returnTo) {
			m.fail(w, withRetry(r, returnTo), err)
		}
		return
	}
	m.cfg.Logger.InfoContext(r.Context(), "parlogin: signed in", "sub", d.Subject, "duration", took)
	m.emit(r.Context(), Event{Kind: EventLoginSucceeded, Subject: d.Subject, Duration: took})
	if a.StepUpFrom != "" && a.StepUpFrom != d.Subject {
		m.cfg.Logger.WarnContext(r.Context(), "parlogin: a step-up signed in another user, whose session replaces the first",
			"sub", d.Subject, "previous_sub", a.StepUpFrom)
		m.emit(r.Context(), Event{Kind: EventStepUp, Subject: d.Subject, Reason: "subject_changed"})
	}
	m.restarts.clear(w, r)
	noStore(w)
	http.Redirect(w, r, safeReturnTo(returnTo), http.StatusSeeOther)
}

// recover handles the one failure a user causes without doing anything wrong: going back in the
// browser to the provider's page, whose request_uri is single-use and short-lived, so that the
// provider answers invalid_request_uri (RFC 9126 §4). A signed-in user is simply sent on; otherwise
// the login starts again with a fresh pushed request, once: a second such answer within
// restartWindow is reported, so that a provider that refuses every request_uri cannot cause a loop.
func (m *Middleware) recover(w http.ResponseWriter, r *http.Request, err error, returnTo string) bool {
	var pe *ProviderError
	if !errors.As(err, &pe) || pe.Endpoint != EndpointAuthorization || pe.Code != "invalid_request_uri" {
		return false
	}
	if _, ok := m.User(r); ok {
		noStore(w)
		http.Redirect(w, r, safeReturnTo(returnTo), http.StatusSeeOther)
		return true
	}
	if !m.restarts.allow(w, r) {
		return false
	}
	m.cfg.Logger.Info("parlogin: request_uri refused by the provider, starting the login again", "error", err)
	m.startLogin(w, r, safeReturnTo(returnTo), nil)
	return true
}

// finishLogin checks the authorization response of r and redeems it for a verified identity. It
// returns the pending login whenever the response names one of this browser, even with an error.
func (m *Middleware) finishLogin(w http.ResponseWriter, r *http.Request) (*sessionData, *attempt, error) {
	params, err := callbackParams(w, r)
	if err != nil {
		return nil, nil, err
	}
	// Consume the pending login first, whatever follows: a state is good for one response.
	a, stateErr := m.flows.consume(w, r, params.Get("state"))
	ctx, cancel := context.WithTimeout(r.Context(), m.timeout)
	defer cancel()
	op, err := m.provider(ctx)
	if err != nil {
		return nil, a, err
	}

	// RFC 9207 §2.4: an iss that names another issuer means a mix-up, whatever else the response
	// says; a missing iss matters for a response that would be processed.
	iss, hasIss := params["iss"]
	if hasIss && (len(iss) != 1 || iss[0] != m.cfg.Issuer) {
		return nil, a, fmt.Errorf("%w: response from %q", ErrIssuerMismatch, oauthErrorText(params.Get("iss")))
	}
	if params.Get("error") != "" {
		return nil, a, authorizationError(params, stateErr)
	}
	if stateErr != nil {
		return nil, a, stateErr
	}
	if !hasIss && op.issParameter {
		return nil, a, fmt.Errorf("%w: response has no iss although the provider supports it", ErrIssuerMismatch)
	}
	if a.FormPost != (r.Method == http.MethodPost) {
		return nil, a, fmt.Errorf("%w: response mode differs from the one requested", ErrInvalidCallback)
	}
	code := params.Get("code")
	if code == "" {
		return nil, a, fmt.Errorf("%w: no code", ErrInvalidCallback)
	}

	client, err := m.providerClient(a.DPoPKey)
	if err != nil {
		return nil, a, fmt.Errorf("%w: %w", ErrInvalidState, err)
	}
	token, err := m.exchange(ctx, op, client, code, a.Verifier)
	if err != nil {
		return nil, a, err
	}
	d, err := m.verifyIDToken(ctx, op, token, a)
	if err != nil {
		return nil, a, err
	}
	if err := m.addUserInfo(ctx, op, client, d, token); err != nil {
		return nil, a, err
	}
	if m.cfg.SaveTokens {
		d.DPoPKey = a.DPoPKey
	}
	return d, a, nil
}

// authorizationError returns the error of an error response (RFC 6749 §4.1.2.1). Only the answer
// to a pending login of this browser is the provider's: anyone can send a browser to the callback
// with an error and a text of their choosing, which must not reach the app's error page or log as
// the provider's word. The exception is invalid_request_uri without state, which providers answer
// when the browser comes back to a used request_uri (see Middleware.recover): its code alone is
// kept.
func authorizationError(params url.Values, stateErr error) error {
	switch {
	case stateErr == nil:
		return newOAuthError(EndpointAuthorization, 0, params.Get)
	case params.Get("error") == "invalid_request_uri" && !params.Has("state"):
		return &ProviderError{Endpoint: EndpointAuthorization, Code: "invalid_request_uri"}
	default:
		return fmt.Errorf("%w: an error response to no pending login of this browser", stateErr)
	}
}

// callbackParams returns the authorization response parameters: the query of a GET, the form
// body of a form_post POST (RFC 6749 §4.1.2, OAuth 2.0 Form Post Response Mode).
func callbackParams(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	switch r.Method {
	case http.MethodGet:
		if len(r.URL.RawQuery) > maxCallbackSize {
			return nil, fmt.Errorf("%w: oversized query", ErrInvalidCallback)
		}
		q, err := url.ParseQuery(r.URL.RawQuery)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidCallback, err)
		}
		return q, nil
	case http.MethodPost:
		r.Body = http.MaxBytesReader(w, r.Body, maxCallbackSize)
		if err := r.ParseForm(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidCallback, err)
		}
		return r.PostForm, nil
	default:
		w.Header().Set("Allow", "GET, POST")
		return nil, ErrMethodNotAllowed
	}
}

// exchange redeems code at the token endpoint with a fresh client assertion and the PKCE verifier,
// through client (which proves possession of the login's DPoP key, if it has one).
func (m *Middleware) exchange(ctx context.Context, op *provider, client *http.Client, code, verifier string) (*oauth2.Token, error) {
	var token *oauth2.Token
	err := withDPoPNonce(func() error {
		return m.withClientAuth(ctx, func(key signingKey) error {
			assertion, err := m.signer.assertion(key, op.tokenURL)
			if err != nil {
				return fmt.Errorf("parlogin: signing client assertion: %w", err)
			}
			token, err = op.oauth2.Exchange(context.WithValue(ctx, oauth2.HTTPClient, client), code,
				oauth2.VerifierOption(verifier),
				oauth2.SetAuthURLParam("client_assertion_type", clientAssertionType),
				oauth2.SetAuthURLParam("client_assertion", assertion),
			)
			if err != nil {
				if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
					// x/oauth2 reports a failed read of the answer as text: keep the deadline inspectable.
					err = fmt.Errorf("%w: %w", ctx.Err(), err)
				}
				return tokenError(err)
			}
			return m.checkTokenType(token.TokenType, client != m.client)
		})
	})
	return token, err
}

// checkTokenType checks that the provider bound the tokens to the DPoP key when it was asked to:
// a Bearer token would be worth as much stolen as in the app's hands (RFC 9449 §5).
func (m *Middleware) checkTokenType(tokenType string, dpop bool) error {
	if dpop && !isDPoPToken(tokenType) {
		return &ProviderError{Endpoint: EndpointToken, Description: "the provider issued a " + oauthErrorText(tokenType) + " token, not a DPoP-bound one"}
	}
	return nil
}

// tokenError turns an error of golang.org/x/oauth2 into a ProviderError.
func tokenError(err error) *ProviderError {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		pe := &ProviderError{
			Endpoint:    EndpointToken,
			Code:        oauthErrorText(re.ErrorCode),
			Description: oauthErrorText(re.ErrorDescription),
			URI:         oauthErrorText(re.ErrorURI),
			Err:         re,
		}
		if re.Response != nil {
			pe.StatusCode = re.Response.StatusCode
		}
		return pe
	}
	return &ProviderError{Endpoint: EndpointToken, Err: err}
}

// idTokenClaims are the ID token claims checked here beyond what go-oidc checks, and the user's
// claims, all decoded in one pass.
type idTokenClaims struct {
	AuthorizedParty string
	AuthTime        *float64
	ACR             string
	AMR             []string
	SID             string
	all             map[string]json.RawMessage
}

func (c *idTokenClaims) UnmarshalJSON(b []byte) error {
	if err := json.Unmarshal(b, &c.all); err != nil {
		return err
	}
	for name, v := range map[string]any{"azp": &c.AuthorizedParty, "auth_time": &c.AuthTime, "acr": &c.ACR, "amr": &c.AMR, "sid": &c.SID} {
		if raw, ok := c.all[name]; ok {
			if err := json.Unmarshal(raw, v); err != nil {
				return fmt.Errorf("claim %s: %w", name, err)
			}
		}
	}
	return nil
}

// identity returns the claims about the user, without the protocol claims, as compact JSON.
func (c *idTokenClaims) identity() (json.RawMessage, error) {
	for _, name := range protocolClaims {
		delete(c.all, name)
	}
	if len(c.all) == 0 {
		return nil, nil
	}
	return json.Marshal(c.all)
}

// mergeClaims merges layers of claims about a user (JSON objects, or nil) into one compact JSON
// object, without the protocol claims: a later layer's claim replaces an earlier one's. It is the
// one merge of login (ID token, then UserInfo) and refresh (the session's claims, then the new ID
// token's).
func mergeClaims(layers ...json.RawMessage) (json.RawMessage, error) {
	merged := make(map[string]json.RawMessage)
	for _, layer := range layers {
		if len(layer) == 0 {
			continue
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(layer, &m); err != nil {
			return nil, fmt.Errorf("claims: %w", err)
		}
		maps.Copy(merged, m)
	}
	for _, name := range protocolClaims {
		delete(merged, name)
	}
	if len(merged) == 0 {
		return nil, nil
	}
	return json.Marshal(merged)
}

// protocolClaims are ID token claims about the token rather than the user; they are not kept in
// the session.
var protocolClaims = []string{"iss", "sub", "aud", "exp", "iat", "nbf", "nonce", "at_hash", "c_hash", "azp", "auth_time", "jti", "sid", "acr", "amr"}

// verifyIDToken verifies the ID token of a token response (OpenID Connect Core §3.1.3.7) and
// returns the session data for it. a is the pending login, or nil for a refresh (§12.2), where
// there is no nonce, max_age or acr to check.
func (m *Middleware) verifyIDToken(ctx context.Context, op *provider, token *oauth2.Token, a *attempt) (*sessionData, error) {
	raw, _ := token.Extra("id_token").(string)
	if raw == "" {
		return nil, fmt.Errorf("%w: the token response has no id_token", ErrInvalidIDToken)
	}
	// go-oidc checks the signature against the provider's keys (refetched for an unknown key ID),
	// the algorithm, iss, aud and exp.
	idt, err := op.verifier.Verify(ctx, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidIDToken, err)
	}
	now := m.clock.providerNow()
	if a != nil && subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(a.Nonce)) != 1 {
		return nil, ErrNonceMismatch
	}
	var c idTokenClaims
	if err := idt.Claims(&c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidIDToken, err)
	}
	switch {
	case idt.Subject == "":
		return nil, fmt.Errorf("%w: no sub", ErrInvalidIDToken)
	case len(idt.Audience) > 1 && c.AuthorizedParty == "":
		return nil, fmt.Errorf("%w: several audiences and no azp", ErrInvalidIDToken)
	case c.AuthorizedParty != "" && c.AuthorizedParty != m.cfg.ClientID:
		return nil, fmt.Errorf("%w: azp is another client", ErrInvalidIDToken)
	case idt.IssuedAt.IsZero():
		return nil, fmt.Errorf("%w: no iat", ErrInvalidIDToken)
	case idt.IssuedAt.After(now.Add(m.cfg.ClockSkew)):
		return nil, fmt.Errorf("%w: issued in the future", ErrInvalidIDToken)
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(token.AccessToken); err != nil {
			return nil, fmt.Errorf("%w: at_hash: %w", ErrInvalidIDToken, err)
		}
	}
	var authTime time.Time
	if c.AuthTime != nil {
		authTime = time.Unix(int64(*c.AuthTime), 0)
	}
	if a != nil && a.MaxAge != "" {
		maxAge, _ := strconv.Atoi(a.MaxAge) // checked when the login started
		switch {
		case authTime.IsZero():
			return nil, fmt.Errorf("%w: max_age was requested and auth_time is missing", ErrInvalidIDToken)
		case now.Sub(authTime) > time.Duration(maxAge)*time.Second+m.cfg.ClockSkew:
			return nil, fmt.Errorf("%w: authentication older than max_age", ErrInvalidIDToken)
		}
	}
	if a != nil && a.ACR != "" && !slices.Contains(strings.Fields(a.ACR), c.ACR) {
		return nil, fmt.Errorf("%w: acr %q is not one of the requested acr_values", ErrInvalidIDToken, oauthErrorText(c.ACR))
	}

	claims, err := c.identity()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidIDToken, err)
	}
	d := &sessionData{
		Subject: idt.Subject,
		Issuer:  idt.Issuer,
		SID:     c.SID,
		ACR:     c.ACR,
		AMR:     c.AMR,
		Expiry:  m.cfg.Now().Add(m.cfg.SessionMaxAge).Unix(),
		Claims:  claims,
	}
	if !authTime.IsZero() {
		d.AuthTime = authTime.Unix()
	}
	if m.cfg.SaveTokens {
		d.setToken(token)
	}
	return d, nil
}

// addUserInfo adds the claims of the UserInfo endpoint (OpenID Connect Core §5.3) to d, unless
// Config.SkipUserInfo is set or the provider has none. With the code flow, providers that follow
// §5.4 (oidc-provider, Okta) put the claims of the profile and email scopes there rather than in the
// ID token. The UserInfo sub must be the ID token's (§5.3.2).
func (m *Middleware) addUserInfo(ctx context.Context, op *provider, client *http.Client, d *sessionData, token *oauth2.Token) error {
	if m.cfg.SkipUserInfo || op.userInfoURL == "" {
		return nil
	}
	// A DPoP-bound token goes as "Authorization: DPoP", with a proof from client's transport.
	info, err := op.oidc.UserInfo(oidc.ClientContext(ctx, client), oauth2.StaticTokenSource(token))
	if err != nil {
		return &ProviderError{Endpoint: EndpointUserInfo, Err: err}
	}
	if info.Subject != d.Subject {
		return &ProviderError{Endpoint: EndpointUserInfo, Description: "userinfo is about another subject than the id token"}
	}
	var claims json.RawMessage
	if err := info.Claims(&claims); err != nil {
		return &ProviderError{Endpoint: EndpointUserInfo, Description: "malformed userinfo", Err: err}
	}
	b, err := mergeClaims(d.Claims, claims)
	if err != nil {
		return err
	}
	d.Claims = b
	return nil
}
