package parlogin

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// reservedParams are the authorization parameters parlogin sets itself; Config.AuthParams may
// not set them, so that an app can never weaken PKCE, state, nonce or client authentication.
var reservedParams = map[string]bool{
	"response_type": true, "client_id": true, "redirect_uri": true, "scope": true,
	"state": true, "nonce": true, "code_challenge": true, "code_challenge_method": true,
	"request": true, "request_uri": true, "client_secret": true, "response_mode": true, "dpop_jkt": true,
	"client_assertion": true, "client_assertion_type": true,
}

// extraParams returns the app's extra authorization parameters for a login started by r,
// checked: each at most once, none reserved, and max_age usable.
func (m *Middleware) extraParams(r *http.Request) (url.Values, error) {
	if m.cfg.AuthParams == nil {
		return nil, nil
	}
	extra := m.cfg.AuthParams(r)
	for name, values := range extra {
		switch {
		case reservedParams[name]:
			return nil, fmt.Errorf("%w: %s is set by parlogin", ErrAuthParam, name)
		case len(values) != 1:
			return nil, fmt.Errorf("%w: %s must have exactly one value", ErrAuthParam, name)
		}
	}
	if v, ok := extra["max_age"]; ok && !isMaxAge(v[0]) {
		return nil, fmt.Errorf("%w: max_age must be a number of seconds in decimal digits", ErrAuthParam)
	}
	return extra, nil
}

// isMaxAge reports whether s is a max_age as OpenID Connect Core §3.1.2.1 defines it: a
// non-negative number of seconds, written in decimal digits only (no sign, no leading zero), and
// small enough for every provider's integers.
func isMaxAge(s string) bool {
	if len(s) == 0 || len(s) > 9 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// authorizationParams returns the parameters of the authorization request for a.
func (m *Middleware) authorizationParams(a *attempt, extra url.Values) url.Values {
	v := make(url.Values, len(extra)+9)
	for name, values := range extra {
		v[name] = values
	}
	v.Set("response_type", "code")
	v.Set("client_id", m.cfg.ClientID)
	v.Set("redirect_uri", m.cfg.RedirectURL)
	v.Set("scope", m.scope)
	v.Set("state", a.State)
	v.Set("nonce", a.Nonce)
	v.Set("code_challenge", oauth2.S256ChallengeFromVerifier(a.Verifier))
	v.Set("code_challenge_method", "S256")
	if m.cfg.ResponseMode == "form_post" {
		v.Set("response_mode", "form_post")
	}
	return v
}

// pushAuthorizationRequest sends params to the PAR endpoint (RFC 9126 §2) and returns the
// request_uri to send the browser with.
func (m *Middleware) pushAuthorizationRequest(ctx context.Context, op *provider, params url.Values) (string, error) {
	var requestURI string
	err := m.withClientAuth(ctx, func(key signingKey) error {
		form := url.Values{}
		if m.cfg.RequestObject {
			claims := make(map[string]any, len(params))
			for name := range params {
				claims[name] = params.Get(name)
			}
			if maxAge := params.Get("max_age"); maxAge != "" {
				claims["max_age"], _ = strconv.Atoi(maxAge) // checked by extraParams
			}
			ro, err := m.signer.requestObject(key, claims)
			if err != nil {
				return fmt.Errorf("parlogin: signing request object: %w", err)
			}
			form.Set("client_id", m.cfg.ClientID)
			form.Set("request", ro)
		} else {
			for name, values := range params {
				form[name] = values
			}
		}
		assertion, err := m.signer.assertion(key, op.parURL)
		if err != nil {
			return fmt.Errorf("parlogin: signing client assertion: %w", err)
		}
		form.Set("client_assertion_type", clientAssertionType)
		form.Set("client_assertion", assertion)
		status, body, err := m.post(ctx, EndpointPAR, op.parURL, form)
		if err != nil {
			return err
		}
		requestURI, err = parseRequestURI(status, body)
		return err
	})
	return requestURI, err
}

// maxRequestURI bounds the request_uri a provider may answer: it travels in the redirect to the
// authorization endpoint. Providers answer well under 200 bytes.
const maxRequestURI = 1024

// parseRequestURI reads the provider's answer to a pushed authorization request: 201 (or 200)
// with {"request_uri": …, "expires_in": …} (RFC 9126 §2.2), or an OAuth error (§2.3).
func parseRequestURI(status int, body []byte) (string, error) {
	if status != http.StatusCreated && status != http.StatusOK {
		return "", jsonOAuthError(EndpointPAR, status, body)
	}
	var answer struct {
		RequestURI string `json:"request_uri"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return "", &ProviderError{Endpoint: EndpointPAR, StatusCode: status, Description: "malformed response", Err: err}
	}
	switch uri := answer.RequestURI; {
	case uri == "":
		return "", &ProviderError{Endpoint: EndpointPAR, StatusCode: status, Description: "response has no request_uri"}
	case len(uri) > maxRequestURI || !printableASCII(uri):
		return "", &ProviderError{Endpoint: EndpointPAR, StatusCode: status, Description: "request_uri is not a printable string of at most 1 KB"}
	}
	return answer.RequestURI, nil
}

// post sends form to a back-channel endpoint of the provider and returns the answer's status and
// body (bounded by the client's transport).
func (m *Middleware) post(ctx context.Context, endpoint Endpoint, target string, form url.Values) (int, []byte, error) {
	return m.postWith(ctx, m.client, endpoint, target, form)
}

// postWith is post through client.
func (m *Middleware) postWith(ctx context.Context, client *http.Client, endpoint Endpoint, target string, form url.Values) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, &ProviderError{Endpoint: endpoint, Err: err}
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, &ProviderError{Endpoint: endpoint, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, &ProviderError{Endpoint: endpoint, StatusCode: resp.StatusCode, Err: err}
	}
	return resp.StatusCode, body, nil
}

// jsonOAuthError returns the ProviderError for an error answer of a back-channel endpoint.
func jsonOAuthError(endpoint Endpoint, status int, body []byte) *ProviderError {
	var e map[string]any
	_ = json.Unmarshal(body, &e) // a non-JSON error body still has a status
	return newOAuthError(endpoint, status, func(name string) string {
		s, _ := e[name].(string)
		return s
	})
}

// authorizationURL is where the browser is sent after a pushed authorization request: the
// authorization endpoint with only client_id and request_uri (RFC 9126 §4).
func (m *Middleware) authorizationURL(op *provider, requestURI string) string {
	u := *op.authURL
	q := u.Query()
	q.Set("client_id", m.cfg.ClientID)
	q.Set("request_uri", requestURI)
	u.RawQuery = q.Encode()
	return u.String()
}

// printableASCII reports whether s holds only printable ASCII characters, spaces included.
func printableASCII(s string) bool {
	return !strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r > 0x7e })
}
