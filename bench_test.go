package parlogin

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
)

// authenticatedRequest logs in through h and returns a request to path that carries the session
// cookie, as a browser would send it.
func authenticatedRequest(b *testing.B, h *harness, path string) *http.Request {
	b.Helper()
	h.login("/private")
	req := httptest.NewRequest(http.MethodGet, h.app.URL+path, nil)
	req.Header.Set("Accept", "application/json")
	for _, c := range h.jar.Cookies(req.URL) {
		req.AddCookie(c)
	}
	return req
}

var okHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	_, _ = io.WriteString(w, "ok")
})

// BenchmarkAuthenticatedRequest measures what parlogin adds to every request of a signed-in user:
// the same handler bare (the floor), behind Require, and the decode of the same session by the
// gorilla cookie store alone (what Require would pay without its cache).
func BenchmarkAuthenticatedRequest(b *testing.B) {
	h := newHarness(b, harnessOptions{})
	req := authenticatedRequest(b, h, "/api/me")
	protected := h.auth.Require(okHandler)

	b.Run("bare", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			okHandler.ServeHTTP(httptest.NewRecorder(), req)
		}
	})
	b.Run("require", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			rec := httptest.NewRecorder()
			protected.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("status %d", rec.Code)
			}
		}
	})
	b.Run("store_get", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			r := req.Clone(req.Context()) // a fresh gorilla registry each time
			if _, err := h.auth.cfg.Store.Get(r, h.auth.cfg.SessionName); err != nil {
				b.Fatal(err)
			}
		}
	})
}
