package parlogin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
)

func TestErrorStatus(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"unauthenticated", ErrUnauthenticated, http.StatusUnauthorized},
		{"no token", ErrNoToken, http.StatusUnauthorized},
		{"wrapped state", fmt.Errorf("%w: replay", ErrInvalidState), http.StatusBadRequest},
		{"issuer", ErrIssuerMismatch, http.StatusBadRequest},
		{"nonce", ErrNonceMismatch, http.StatusBadRequest},
		{"callback", ErrInvalidCallback, http.StatusBadRequest},
		{"id token", ErrInvalidIDToken, http.StatusBadGateway},
		{"cross origin", ErrCrossOrigin, http.StatusForbidden},
		{"method", ErrMethodNotAllowed, http.StatusMethodNotAllowed},
		{"store", ErrSessionStore, http.StatusServiceUnavailable},
		{"session too large for a cookie", fmt.Errorf("%w: %w", ErrSessionStore, errCookieTooLarge), http.StatusInternalServerError},
		{"access denied", &ProviderError{Endpoint: EndpointAuthorization, Code: "access_denied"}, http.StatusForbidden},
		{"authorize server error", &ProviderError{Endpoint: EndpointAuthorization, Code: "server_error"}, http.StatusBadGateway},
		{"invalid_request_uri", &ProviderError{Endpoint: EndpointAuthorization, Code: "invalid_request_uri"}, http.StatusBadRequest},
		{"par rejected", &ProviderError{Endpoint: EndpointPAR, StatusCode: 401, Code: "invalid_client"}, http.StatusBadGateway},
		{"token timeout", &ProviderError{Endpoint: EndpointToken, Err: context.DeadlineExceeded}, http.StatusGatewayTimeout},
		{"other", errors.New("boom"), http.StatusInternalServerError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := ErrorStatus(tc.err); got != tc.want {
				t.Errorf("ErrorStatus(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}

func TestProviderErrorMessage(t *testing.T) {
	tests := []struct {
		err  *ProviderError
		want string
	}{
		{&ProviderError{Endpoint: EndpointPAR, StatusCode: 400, Code: "invalid_request", Description: "bad scope"},
			"parlogin: par endpoint answered invalid_request: bad scope (HTTP 400)"},
		{&ProviderError{Endpoint: EndpointToken, Err: context.DeadlineExceeded},
			"parlogin: token endpoint: context deadline exceeded"},
		{&ProviderError{Endpoint: EndpointPAR, StatusCode: 500}, "parlogin: par endpoint failed (HTTP 500)"},
	}
	for _, tc := range tests {
		if got := tc.err.Error(); got != tc.want {
			t.Errorf("Error() = %q, want %q", got, tc.want)
		}
	}
	var pe *ProviderError
	wrapped := fmt.Errorf("login: %w", tests[1].err)
	if !errors.As(wrapped, &pe) || !errors.Is(wrapped, context.DeadlineExceeded) {
		t.Error("ProviderError is not inspectable through errors.As/Is")
	}
}

func TestOAuthErrorText(t *testing.T) {
	if got := oauthErrorText("bad\nline\x1b[31m"); got != "bad?line?[31m" {
		t.Errorf("control characters kept: %q", got)
	}
	long := make([]byte, 2*maxErrorText)
	for i := range long {
		long[i] = 'a'
	}
	if got := oauthErrorText(string(long)); len(got) != maxErrorText {
		t.Errorf("len = %d, want %d", len(got), maxErrorText)
	}
}
