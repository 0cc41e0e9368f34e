package parlogin

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/parlogin/parlogin/internal/endpoint"
)

// Errors reported by parlogin's own checks. They reach [Config.ErrorHandler] wrapped with details;
// test for them with [errors.Is].
var (
	// ErrUnauthenticated is reported by [Middleware.Require] for a request without a valid session
	// that cannot be redirected to a login (an API call, an XHR, a POST).
	ErrUnauthenticated = errors.New("parlogin: not authenticated")

	// ErrInvalidState means the callback's state is missing, malformed, unknown, expired, already
	// used, or belongs to a login started in another browser: a forged or replayed authorization
	// response, or a login that took too long.
	ErrInvalidState = errors.New("parlogin: invalid or expired state")

	// ErrIssuerMismatch means the authorization response names another issuer than the configured
	// one, or omits "iss" although the provider promises it (RFC 9207, the mix-up defence).
	ErrIssuerMismatch = errors.New("parlogin: authorization response issuer mismatch")

	// ErrNonceMismatch means the ID token's nonce is not the one sent with the login.
	ErrNonceMismatch = errors.New("parlogin: id token nonce mismatch")

	// ErrInvalidIDToken means the ID token failed verification: signature, algorithm, issuer,
	// audience, authorized party, expiry, issue time, at_hash, auth_time against max_age, or acr.
	ErrInvalidIDToken = errors.New("parlogin: invalid id token")

	// ErrInvalidCallback means the callback request is malformed: wrong method or response mode,
	// oversized, or without a code.
	ErrInvalidCallback = errors.New("parlogin: malformed authorization response")

	// ErrCrossOrigin means a cross-origin request to [Middleware.Logout] was refused.
	ErrCrossOrigin = errors.New("parlogin: cross-origin request refused")

	// ErrMethodNotAllowed means an endpoint was called with a method it does not serve.
	ErrMethodNotAllowed = errors.New("parlogin: method not allowed")

	// ErrSessionStore means the session store or [Config.Shared] failed: it could not be reached
	// (503), or, with a cookie store, a session too large for a cookie could not be saved (500;
	// see [Config.SaveTokens]).
	ErrSessionStore = errors.New("parlogin: session store failed")

	// ErrNoToken means [Middleware.Token] found no OAuth 2.0 token to return: the user is not
	// signed in, [Config.SaveTokens] is off, or the token expired and cannot be refreshed.
	ErrNoToken = errors.New("parlogin: no token in session")

	// ErrAuthParam means [Config.AuthParams] returned a parameter that parlogin owns or a value it
	// cannot honour (a malformed max_age).
	ErrAuthParam = errors.New("parlogin: invalid authorization parameter")
)

// errCookieTooLarge means a cookie store could not encode a session: too large for a cookie.
var errCookieTooLarge = errors.New("parlogin: session too large for a cookie")

// Endpoint names an endpoint of the OpenID Provider: in a [ProviderError], and in package
// oidctest, which serves them (Server.Inject, Server.Requests).
type Endpoint = endpoint.Endpoint

// The provider's endpoints.
const (
	EndpointDiscovery     = endpoint.Discovery     // {issuer}/.well-known/openid-configuration
	EndpointJWKS          = endpoint.JWKS          // jwks_uri: the keys of ID and logout tokens
	EndpointPAR           = endpoint.PAR           // pushed_authorization_request_endpoint (RFC 9126)
	EndpointAuthorization = endpoint.Authorization // authorization_endpoint, and its responses
	EndpointToken         = endpoint.Token         // token_endpoint
	EndpointUserInfo      = endpoint.UserInfo      // userinfo_endpoint
	EndpointRevocation    = endpoint.Revocation    // revocation_endpoint (RFC 7009)
	EndpointEndSession    = endpoint.EndSession    // end_session_endpoint (RP-Initiated Logout)
)

// ProviderError reports a failed exchange with the OpenID Provider: an OAuth 2.0 error answer
// (RFC 6749 §4.1.2.1 and §5.2), an unexpected status or body, or a failure to reach it.
type ProviderError struct {
	// Endpoint is the endpoint involved.
	Endpoint Endpoint
	// StatusCode is the HTTP status of a back-channel answer; 0 for front-channel errors and for
	// requests that got no answer.
	StatusCode int
	// Code, Description and URI are the OAuth 2.0 "error", "error_description" and "error_uri".
	Code        string
	Description string
	URI         string
	// Err is the underlying cause, if any: a transport error (test it with errors.Is against
	// context.DeadlineExceeded), a decoding error, or an *oauth2.RetrieveError.
	Err error
}

func (e *ProviderError) Error() string {
	msg := "parlogin: " + string(e.Endpoint) + " endpoint"
	switch {
	case e.Code != "":
		msg += " answered " + e.Code
		if e.Description != "" {
			msg += ": " + e.Description
		}
	case e.Err != nil:
		msg += ": " + e.Err.Error()
	default:
		msg += " failed"
		if e.Description != "" {
			msg += ": " + e.Description
		}
	}
	if e.StatusCode != 0 {
		msg += fmt.Sprintf(" (HTTP %d)", e.StatusCode)
	}
	return msg
}

// Unwrap returns the underlying cause.
func (e *ProviderError) Unwrap() error { return e.Err }

// ErrorStatus returns the HTTP status the default error handler answers for err, so that a custom
// [Config.ErrorHandler] can render its own page with the same status.
func ErrorStatus(err error) int {
	var pe *ProviderError
	switch {
	case errors.Is(err, ErrUnauthenticated), errors.Is(err, ErrInsufficientAuthentication), errors.Is(err, ErrNoToken):
		return http.StatusUnauthorized
	case errors.Is(err, ErrCrossOrigin):
		return http.StatusForbidden
	case errors.Is(err, ErrMethodNotAllowed):
		return http.StatusMethodNotAllowed
	case errors.Is(err, ErrInvalidState), errors.Is(err, ErrInvalidCallback),
		errors.Is(err, ErrIssuerMismatch), errors.Is(err, ErrNonceMismatch):
		return http.StatusBadRequest
	case errors.Is(err, ErrInvalidIDToken):
		return http.StatusBadGateway
	case errors.Is(err, errCookieTooLarge):
		return http.StatusInternalServerError
	case errors.Is(err, ErrSessionStore):
		return http.StatusServiceUnavailable
	case errors.As(err, &pe):
		return providerStatus(pe)
	default:
		return http.StatusInternalServerError
	}
}

func providerStatus(e *ProviderError) int {
	if e.Endpoint == EndpointAuthorization {
		switch e.Code {
		case "access_denied", "login_required", "consent_required", "interaction_required",
			"account_selection_required", "unmet_authentication_requirements":
			return http.StatusForbidden
		case "server_error", "temporarily_unavailable":
			return http.StatusBadGateway
		}
		return http.StatusBadRequest
	}
	var timeout interface{ Timeout() bool }
	if errors.Is(e, context.DeadlineExceeded) || errors.As(e, &timeout) && timeout.Timeout() {
		return http.StatusGatewayTimeout
	}
	return http.StatusBadGateway
}

// maxErrorText bounds the provider-supplied texts kept in a ProviderError.
const maxErrorText = 512

// oauthErrorText makes a provider-supplied error text safe to log and show: printable ASCII as
// RFC 6749 §5.2 prescribes, other bytes replaced, bounded in length.
func oauthErrorText(s string) string {
	if len(s) > maxErrorText {
		s = s[:maxErrorText]
	}
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}

// newOAuthError returns the ProviderError for the OAuth 2.0 error parameters read by get.
func newOAuthError(endpoint Endpoint, status int, get func(string) string) *ProviderError {
	return &ProviderError{
		Endpoint:    endpoint,
		StatusCode:  status,
		Code:        oauthErrorText(get("error")),
		Description: oauthErrorText(get("error_description")),
		URI:         oauthErrorText(get("error_uri")),
	}
}
