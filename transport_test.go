package parlogin

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestResponseBodyBounded(t *testing.T) {
	tests := []struct {
		name    string
		size    int
		wantErr bool
	}{
		{"small", 100, false},
		{"exactly the limit", maxResponseBody, false},
		{"one byte over", maxResponseBody + 1, true},
		{"huge", 8 * maxResponseBody, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				_, _ = io.WriteString(w, strings.Repeat("x", tc.size))
			}))
			defer srv.Close()
			resp, err := newHTTPClient(nil, DefaultTimeout).Get(srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if tc.wantErr {
				if !errors.Is(err, errBodyTooLarge) {
					t.Fatalf("err = %v, want errBodyTooLarge", err)
				}
				return
			}
			if err != nil || len(body) != tc.size {
				t.Fatalf("read %d bytes, err %v; want %d", len(body), err, tc.size)
			}
		})
	}
}

func TestHTTPClientTimeout(t *testing.T) {
	if c := newHTTPClient(nil, DefaultTimeout); c.Timeout != DefaultTimeout {
		t.Errorf("default client timeout = %v", c.Timeout)
	}
	if c := newHTTPClient(&http.Client{}, 3); c.Timeout != 3 {
		t.Errorf("client without timeout got %v, want the configured one", c.Timeout)
	}
	if c := newHTTPClient(&http.Client{Timeout: 5}, 3); c.Timeout != 5 {
		t.Errorf("client timeout overridden: %v", c.Timeout)
	}
}
