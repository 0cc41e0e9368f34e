package parlogin

import (
	"errors"
	"net/http"
	"testing"

	"github.com/parlogin/parlogin/oidctest"
)

func TestLogout(t *testing.T) {
	h := newHarness(t, harnessOptions{config: func(c *Config) { c.SaveTokens = true }})
	h.login("/private")

	resp := h.navigate(http.MethodPost, "/auth/logout", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout = %d: %v", resp.StatusCode, h.errs.last())
	}
	loc, _ := resp.Location()
	q := loc.Query()
	if loc.Query().Get("client_id") != h.client.ID || q.Get("post_logout_redirect_uri") != h.app.URL+"/bye" ||
		q.Get("state") == "" || q.Get("id_token_hint") == "" {
		t.Errorf("end-session redirect %s lacks parameters", loc)
	}
	if h.cookie("__Host-parlogin") != nil {
		t.Error("session cookie kept after logout")
	}
	if resp := h.api("/api/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API after logout = %d", resp.StatusCode)
	}
	// The provider accepts the hint and sends the browser back with the state.
	back := h.follow(resp)
	if back.StatusCode/100 != 3 {
		t.Fatalf("provider's end session = %d: %s", back.StatusCode, readBody(back))
	}
	if bye, _ := back.Location(); bye.Query().Get("state") != q.Get("state") || bye.Path != "/bye" {
		t.Errorf("provider returned to %s", bye)
	}
}

func TestLogoutWithoutEndSession(t *testing.T) {
	h := newHarness(t, harnessOptions{op: func(s *oidctest.Server) {
		s.EditMetadata = func(m map[string]any) { delete(m, "end_session_endpoint") }
	}})
	h.login("/private")
	resp := h.navigate(http.MethodPost, "/auth/logout", nil)
	if loc, _ := resp.Location(); resp.StatusCode != http.StatusSeeOther || loc.String() != h.app.URL+"/bye" {
		t.Fatalf("logout = %d to %v", resp.StatusCode, loc)
	}
	if resp := h.api("/api/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API after logout = %d", resp.StatusCode)
	}
}

func TestLogoutRefused(t *testing.T) {
	tests := []struct {
		name    string
		method  string
		header  map[string]string
		wantErr error
	}{
		{"GET", http.MethodGet, nil, ErrMethodNotAllowed},
		{"cross-site POST", http.MethodPost, map[string]string{"Sec-Fetch-Site": "cross-site"}, ErrCrossOrigin},
		{"same-site POST from a sibling origin", http.MethodPost, map[string]string{"Sec-Fetch-Site": "same-site"}, ErrCrossOrigin},
		{"foreign Origin", http.MethodPost, map[string]string{"Origin": "https://evil.example"}, ErrCrossOrigin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{})
			h.login("/private")
			req, _ := http.NewRequest(tc.method, h.app.URL+"/auth/logout", nil)
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			resp := h.do(req)
			if !errors.Is(h.errs.last(), tc.wantErr) || resp.StatusCode != ErrorStatus(tc.wantErr) {
				t.Fatalf("status %d, error %v; want %v", resp.StatusCode, h.errs.last(), tc.wantErr)
			}
			if resp := h.api("/api/me"); resp.StatusCode != http.StatusOK {
				t.Errorf("refused logout ended the session: %d", resp.StatusCode)
			}
		})
	}
}
