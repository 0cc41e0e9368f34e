package parlogin

import (
	"context"
	"crypto/rand"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
)

// sentences are what the default error page tells a person, by reason of failure: one plain
// sentence, never the provider's text or the error's details.
var sentences = map[string]string{
	reasonCancelled:           "Sign-in was cancelled.",
	reasonProviderUnavailable: "The sign-in service did not answer. Try again in a moment.",
	reasonStale:               "This sign-in has expired or was already used.",
	reasonRejected:            "The answer of the sign-in service could not be verified, so you are not signed in.",
	reasonMisconfigured:       "Sign-in is not set up correctly on this site. Please tell its administrators.",
	reasonStoreUnavailable:    "This site cannot reach its session store. Try again in a moment.",
	reasonRefused:             "Your session has ended. Please sign in again.",
	reasonForbidden:           "This request was refused.",
	reasonUnauthenticated:     "You need to sign in to see this page.",
	reasonInsufficient:        "This page needs you to sign in again, in a stronger or more recent way.",
	reasonInternal:            "Something went wrong.",
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="robots" content="noindex"><title>{{.Status}} {{.StatusText}}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}
h1{font-size:1.25rem}a{color:#0645ad}.ref{color:#666;font-size:.875rem}</style></head>
<body><main><h1>{{.StatusText}}</h1><p id="reason">{{.Sentence}}</p>
{{with .Retry}}<p><a id="retry" href="{{.}}">Try again</a></p>{{end}}
<p class="ref">Reference: <span id="ref">{{.Ref}}</span> ({{.Status}})</p></main></body></html>
`))

// retryKey carries, in a failed request's context, the page that a "Try again" link leads to.
type retryKey struct{}

// withRetry returns r with target as the "Try again" target of its error page: a relative path on
// this site (safeReturnTo), where the user was going.
func withRetry(r *http.Request, target string) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), retryKey{}, safeReturnTo(target)))
}

// defaultErrorHandler logs err with a short reference, and answers its status: a browser gets a
// small page that says what happened in one sentence, with a way on and the reference; any other
// client the status text only. Error details help attackers and confuse users.
func (m *Middleware) defaultErrorHandler(w http.ResponseWriter, r *http.Request, err error) {
	status := ErrorStatus(err)
	reason := Reason(err)
	ref := rand.Text()[:10]
	level := slog.LevelWarn
	switch {
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The client went away while parlogin waited for the store or the provider on its behalf:
		// nothing is broken, and nobody reads the answer.
		level = slog.LevelDebug
	case status >= 500:
		level = slog.LevelError
	case status == http.StatusUnauthorized:
		level = slog.LevelDebug // anonymous API calls are routine
	}
	m.cfg.Logger.Log(r.Context(), level, "parlogin: request failed", "method", r.Method, "path", r.URL.Path,
		"status", status, "reason", reason, "ref", ref, "error", err)
	if !acceptsHTML(r) {
		http.Error(w, http.StatusText(status), status)
		return
	}
	retry, _ := r.Context().Value(retryKey{}).(string)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = errorPage.Execute(w, struct {
		Status               int
		StatusText, Sentence string
		Retry, Ref           string
	}{status, http.StatusText(status), sentences[reason], retry, ref})
}
