package parlogin

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
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
			resp, err := newHTTPClient(nil, defaultTimeout, nil).Get(srv.URL)
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

// Every request to the provider is bounded in time: by its context, by the client's own
// timeout, or else by the configured timeout.
func TestHTTPClientTimeout(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	defer hang.Close()
	tests := []struct {
		name   string
		client *http.Client
	}{
		{"default client", nil},
		{"client without timeout", &http.Client{}},
		{"client with its own timeout", &http.Client{Timeout: 50 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			client := newHTTPClient(tc.client, 50*time.Millisecond, nil)
			done := make(chan error, 1)
			go func() {
				resp, err := client.Get(hang.URL)
				if err == nil {
					resp.Body.Close()
				}
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("a hanging request succeeded")
				}
			case <-time.After(10 * time.Second):
				t.Fatal("a hanging request was not bounded")
			}
		})
	}
}
