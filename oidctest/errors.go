package oidctest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// oauthError is an OAuth 2.0 error answer (RFC 6749 section 5.2).
type oauthError struct {
	status      int
	code        string // "error"
	description string // "error_description"
	challenge   string // the WWW-Authenticate header of a 401, if any
}

func newError(status int, code, format string, args ...any) *oauthError {
	return &oauthError{status: status, code: code, description: fmt.Sprintf(format, args...)}
}

func invalidRequest(format string, args ...any) *oauthError {
	return newError(http.StatusBadRequest, "invalid_request", format, args...)
}

func invalidClient(format string, args ...any) *oauthError {
	return newError(http.StatusUnauthorized, "invalid_client", format, args...)
}

func invalidGrant(format string, args ...any) *oauthError {
	return newError(http.StatusBadRequest, "invalid_grant", format, args...)
}

// writeOAuthError answers e as JSON {"error", "error_description"}.
func writeOAuthError(w http.ResponseWriter, e *oauthError) {
	if e.challenge != "" {
		w.Header().Set("WWW-Authenticate", e.challenge)
	}
	body := map[string]string{"error": e.code}
	if e.description != "" {
		body["error_description"] = e.description
	}
	writeJSON(w, e.status, body)
}

// writeJSON answers v as JSON with Cache-Control: no-store. A value that cannot be encoded
// (possible only through a hook such as EditMetadata) is answered as a server_error.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"server_error","error_description":"the answer cannot be encoded as JSON"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n')) // a client that went away is no error of the provider's
}

// printable makes an untrusted value safe to quote in an error description: at most 64
// characters from the set RFC 6749 allows in error_description (no '"' and no '\').
func printable(s string) string {
	const limit = 64
	var b strings.Builder
	for i, r := range s {
		if i >= limit {
			b.WriteString("...")
			break
		}
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			r = '?'
		}
		b.WriteRune(r)
	}
	return b.String()
}
