package interop

import (
	"log/slog"
	"net/url"
	"strings"
	"sync"

	"github.com/parlogin/parlogin/examples/internal/browser"
)

// firstVisit and lastVisit return the first and last URL the browser requested with path.
func firstVisit(b *browser.T, path string) *url.URL {
	for _, u := range b.History() {
		if u.Path == path {
			return u
		}
	}
	return nil
}

func lastVisit(b *browser.T, path string) *url.URL {
	h := b.History()
	for i := len(h) - 1; i >= 0; i-- {
		if h[i].Path == path {
			return h[i]
		}
	}
	return nil
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// newLogger returns a logger writing to w, safe for concurrent handlers.
func newLogger(w *strings.Builder) *slog.Logger {
	return slog.New(slog.NewTextHandler(&syncWriter{w: w}, nil))
}

type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
