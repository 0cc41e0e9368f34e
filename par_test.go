package parlogin

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parlogin/parlogin/oidctest"
)

func TestPARFailures(t *testing.T) {
	tests := []struct {
		name       string
		fault      oidctest.Fault
		config     func(*Config)
		wantStatus int
		wantCode   string
		timeout    bool
	}{
		{name: "OAuth error", fault: oidctest.Fault{Error: "invalid_request", ErrorDescription: "nope"}, wantStatus: 502, wantCode: "invalid_request"},
		{name: "server error", fault: oidctest.Fault{Status: 500, Body: "<html>oops</html>"}, wantStatus: 502},
		{name: "malformed JSON", fault: oidctest.Fault{Status: 201, Body: `{"request_uri":`}, wantStatus: 502},
		{name: "no request_uri", fault: oidctest.Fault{Status: 201, Body: `{"expires_in":60}`}, wantStatus: 502},
		{name: "wrong type", fault: oidctest.Fault{Status: 201, Body: `{"request_uri":42}`}, wantStatus: 502},
		{name: "slow", fault: oidctest.Fault{Delay: time.Minute}, config: func(c *Config) { withTimeout(c, 100*time.Millisecond) },
			wantStatus: 504, timeout: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOptions{config: tc.config})
			h.op.Inject(EndpointPAR, tc.fault)
			resp := h.navigate(http.MethodGet, "/private", nil)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d: %v", resp.StatusCode, tc.wantStatus, h.errs.last())
			}
			var pe *ProviderError
			if err := h.errs.last(); !errors.As(err, &pe) || pe.Endpoint != EndpointPAR || pe.Code != tc.wantCode {
				t.Fatalf("error %v, want a PAR ProviderError %q", err, tc.wantCode)
			}
			if len(flowCookies(resp)) != 0 {
				t.Error("a failed PAR left a pending login")
			}
			// The provider recovers: the next login works.
			h.op.ClearFaults()
			if page := jsonBody(t, h.login("/private")); page["sub"] != "alice" {
				t.Errorf("login after recovery: %v", page)
			}
		})
	}
}

func TestPingOneShape(t *testing.T) {
	h := newHarness(t, harnessOptions{op: func(s *oidctest.Server) { s.EnvID = "9f0e3c26-4bd3-4f5e-8c1a-1c2b3d4e5f60" }})
	if want := h.op.URL + "/9f0e3c26-4bd3-4f5e-8c1a-1c2b3d4e5f60/as"; h.op.Issuer != want || h.auth.op.p.parURL != want+"/par" {
		t.Fatalf("issuer %s, PAR %s", h.op.Issuer, h.auth.op.p.parURL)
	}
	if page := jsonBody(t, h.login("/private")); page["sub"] != "alice" {
		t.Fatalf("login against the PingOne-shaped provider: %v", page)
	}
}

// A request_uri of up to 1 KB of printable characters is taken, as documented; a longer one, or
// one with a control character, is not.
func TestParseRequestURIBound(t *testing.T) {
	answer := func(uri string) []byte {
		b, _ := json.Marshal(map[string]any{"request_uri": uri, "expires_in": 60})
		return b
	}
	prefix := "urn:ietf:params:oauth:request_uri:"
	for _, n := range []int{10, 600, maxRequestURI - len(prefix)} {
		if _, err := parseRequestURI(http.StatusCreated, answer(prefix+strings.Repeat("a", n))); err != nil {
			t.Errorf("a request_uri of %d bytes: %v", len(prefix)+n, err)
		}
	}
	for _, uri := range []string{prefix + strings.Repeat("a", maxRequestURI-len(prefix)+1), prefix + "a\nb", prefix + "\u00e9"} {
		if _, err := parseRequestURI(http.StatusCreated, answer(uri)); err == nil {
			t.Errorf("request_uri %.40q… of %d bytes taken", uri, len(uri))
		}
	}
}
