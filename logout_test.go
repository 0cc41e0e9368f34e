package parlogin

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/gorilla/sessions"
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
		q.Get("id_token_hint") == "" {
		t.Errorf("end-session redirect %s lacks parameters", loc)
	}
	if q.Has("state") {
		t.Errorf("end-session redirect %s has a state, which nothing checks", loc)
	}
	if h.cookie("__Host-parlogin") != nil {
		t.Error("session cookie kept after logout")
	}
	if resp := h.api("/api/me"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API after logout = %d", resp.StatusCode)
	}
	// The provider accepts the hint and sends the browser back.
	back := h.follow(resp)
	if back.StatusCode/100 != 3 {
		t.Fatalf("provider's end session = %d: %s", back.StatusCode, readBody(back))
	}
	if bye, _ := back.Location(); bye.Path != "/bye" {
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

// Logout revokes the session's refresh token at the provider's revocation endpoint (RFC 7009),
// authenticated with a client assertion and nothing else.
func TestLogoutRevokesRefreshToken(t *testing.T) {
	revoked := make(chan url.Values, 1)
	revocation := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if _, _, basic := r.BasicAuth(); basic {
			r.PostForm.Set("basic", "yes")
		}
		revoked <- r.PostForm
	}))
	defer revocation.Close()
	store := sessions.NewFilesystemStore(t.TempDir(), []byte(testSecret))
	store.MaxLength(0)
	h := newHarness(t, harnessOptions{
		op: func(s *oidctest.Server) {
			s.EditMetadata = func(m map[string]any) { m["revocation_endpoint"] = revocation.URL + "/revoke" }
		},
		config: func(c *Config) {
			c.SaveTokens, c.Store = true, store
			c.Scopes = append(c.Scopes, "offline_access")
			c.HTTPClient = &http.Client{Transport: revocation.Client().Transport} // trusts every test server
		},
	})
	h.login("/private")
	resp := h.navigate(http.MethodPost, "/auth/logout", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout = %d", resp.StatusCode)
	}
	select {
	case form := <-revoked:
		claims := parseAssertion(t, form.Get("client_assertion"), h.client.Secret)
		if form.Get("token") == "" || form.Get("token_type_hint") != "refresh_token" || form.Has("client_secret") ||
			form.Has("basic") || claims["sub"] != h.client.ID {
			t.Fatalf("revocation request %v", form)
		}
	default:
		t.Fatal("logout did not revoke the refresh token")
	}
}
