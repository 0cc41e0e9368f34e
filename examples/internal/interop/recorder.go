package interop

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
)

// Requests records what an app was asked and what it answered: a handler wrapper around its
// routes, for tests to check what a browser or the provider really sent (Sec-Fetch-Site, cookies,
// a logout token) and the status it got.
type Requests struct {
	mu   sync.Mutex
	list []*Request
}

// Request is a request that the app served.
type Request struct {
	Method string
	URL    *url.URL // as requested: path and query
	Header http.Header
	// Form is the body of a form POST (a form_post callback, a back-channel logout).
	Form url.Values
	// Status is the app's answer, and SetCookie its Set-Cookie headers.
	Status    int
	SetCookie []string
}

// maxRecordedBody bounds the form bodies recorded.
const maxRecordedBody = 64 << 10

// Wrap returns h, recording its requests.
func (rs *Requests) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &Request{Method: r.Method, URL: r.URL, Header: r.Header.Clone()}
		if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
			body, _ := io.ReadAll(io.LimitReader(r.Body, maxRecordedBody))
			r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
			rec.Form, _ = url.ParseQuery(string(body))
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		rec.Status = sw.status
		rec.SetCookie = w.Header().Values("Set-Cookie")
		rs.mu.Lock()
		rs.list = append(rs.list, rec)
		rs.mu.Unlock()
	})
}

// To returns the requests recorded for path, oldest first.
func (rs *Requests) To(path string) []*Request {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	var matching []*Request
	for _, r := range rs.list {
		if r.URL.Path == path {
			matching = append(matching, r)
		}
	}
	return matching
}

// Last returns the last request recorded for path, or nil.
func (rs *Requests) Last(path string) *Request {
	all := rs.To(path)
	if len(all) == 0 {
		return nil
	}
	return all[len(all)-1]
}

// HasCookie reports whether the request carried a cookie whose name contains part.
func (r *Request) HasCookie(part string) bool {
	req := http.Request{Header: r.Header}
	return slices.ContainsFunc(req.Cookies(), func(c *http.Cookie) bool { return strings.Contains(c.Name, part) })
}

type statusWriter struct {
	http.ResponseWriter
	status      int
	wroteHeader bool
}

func (w *statusWriter) WriteHeader(status int) {
	if !w.wroteHeader {
		w.status, w.wroteHeader = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wroteHeader = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Log is an app's log: kept for the test to search, and written to the test's log.
type Log struct {
	t  *testing.T
	mu sync.Mutex
	b  strings.Builder
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.b.Write(p)
	l.mu.Unlock()
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
