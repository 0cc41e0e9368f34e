package parlogin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parlogin/parlogin/oidctest"
)

func TestNewDiscovery(t *testing.T) {
	tests := []struct {
		name        string
		metadata    func(map[string]any)
		parEndpoint bool // set Config.PAREndpoint
		wantErr     string
	}{
		{name: "complete"},
		{name: "no PAR endpoint", metadata: func(m map[string]any) { delete(m, "pushed_authorization_request_endpoint") },
			wantErr: "publishes no pushed_authorization_request_endpoint"},
		{name: "no PAR endpoint, configured", metadata: func(m map[string]any) { delete(m, "pushed_authorization_request_endpoint") },
			parEndpoint: true},
		{name: "another issuer", metadata: func(m map[string]any) { m["issuer"] = "https://evil.example" }, wantErr: "did not match"},
		{name: "relative authorization endpoint", metadata: func(m map[string]any) { m["authorization_endpoint"] = "/authorize" },
			wantErr: "not an absolute URL"},
		{name: "client_secret_jwt not advertised", metadata: func(m map[string]any) {
			m["token_endpoint_auth_methods_supported"] = []string{"client_secret_basic", "client_secret_post"}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			op := oidctest.NewUnstartedServer()
			op.EditMetadata = tc.metadata
			op.StartTLS()
			defer op.Close()
			client := op.AddClient(oidctest.Client{RedirectURIs: []string{"https://app.example/cb"}})
			c := Config{Issuer: op.Issuer, ClientID: client.ID, ClientSecret: client.Secret,
				RedirectURL: "https://app.example/cb", Store: testStore(), HTTPClient: op.Client()}
			if tc.parEndpoint {
				c.PAREndpoint = op.Issuer + "/par"
			}
			m, err := New(context.Background(), c)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("New = %v, want an error containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), client.Secret) {
					t.Fatal("error contains the secret")
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if m.op.p.parURL != op.Issuer+"/par" || !m.op.p.issParameter {
				t.Errorf("discovered PAR %q, iss parameter %v", m.op.p.parURL, m.op.p.issParameter)
			}
		})
	}
}

func TestNewProviderDown(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	issuer := srv.URL
	srv.Close() // nothing listens there any more
	_, err := New(context.Background(), Config{Issuer: issuer, ClientID: "c", ClientSecret: testSecret,
		RedirectURL: "http://127.0.0.1/cb", Store: testStore()})
	var pe *ProviderError
	if !errors.As(err, &pe) || pe.Endpoint != EndpointDiscovery {
		t.Fatalf("New with the provider down = %v, want a discovery ProviderError", err)
	}
}

func TestNewProviderSlow(t *testing.T) {
	op := oidctest.NewServer()
	defer op.Close()
	op.Inject(EndpointDiscovery, oidctest.Fault{Delay: time.Minute})
	_, err := New(context.Background(), Config{Issuer: op.Issuer, ClientID: "c", ClientSecret: testSecret,
		RedirectURL: "http://127.0.0.1/cb", Store: testStore(), HTTPClient: &http.Client{Timeout: 50 * time.Millisecond}})
	if !errors.Is(err, context.DeadlineExceeded) && !strings.Contains(err.Error(), "Timeout") {
		t.Fatalf("New with a slow provider = %v, want a timeout", err)
	}
}

// With LazyDiscovery an app starts while its provider is down, serves the users who have a session,
// and lets the others log in once the provider is back.
func TestLazyDiscovery(t *testing.T) {
	clk := newClock()
	h := newHarness(t, harnessOptions{config: func(c *Config) { c.Now = clk.Now }})
	h.login("/private") // a session made before the restart

	h.op.Inject(EndpointDiscovery, oidctest.Fault{Status: http.StatusServiceUnavailable, Body: "down"})
	cfg := h.cfg
	cfg.ErrorHandler = nil
	if _, err := New(context.Background(), cfg); err == nil {
		t.Fatal("New succeeded with the provider down")
	}
	cfg.LazyDiscovery = true
	restarted, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New with LazyDiscovery: %v", err)
	}
	h.use(restarted)

	if me := jsonBody(t, h.api("/api/me")); me["sub"] != "alice" {
		t.Fatalf("a signed-in user while the provider is down: %v", me)
	}
	other := newHarnessBrowser(h)
	if resp := other.navigate(http.MethodGet, "/private", nil); resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("a login while the provider is down = %d, want 502", resp.StatusCode)
	}
	discoveries := len(h.op.Requests(EndpointDiscovery))
	other.navigate(http.MethodGet, "/private", nil)
	if n := len(h.op.Requests(EndpointDiscovery)); n != discoveries {
		t.Fatalf("discovery retried %d times within %v", n-discoveries, discoveryRetry)
	}

	h.op.ClearFaults()
	clk.Add(discoveryRetry)
	if page := jsonBody(t, other.login("/private")); page["sub"] != "alice" {
		t.Fatalf("login after the provider came back: %v", page)
	}
}

// A discovery started by a request whose browser goes away serves the requests that come after:
// it runs on a context of its own, and a waiter's context bounds only its wait.
func TestLazyDiscoveryOwnContext(t *testing.T) {
	op := oidctest.NewServer()
	defer op.Close()
	gate := &gatedTransport{arrived: make(chan struct{}, 1), release: make(chan struct{})}
	start, cancelStart := context.WithCancel(context.Background())
	cancelStart() // New does not wait for the discovery
	m, err := New(start, Config{Issuer: op.Issuer, ClientID: "c", ClientSecret: testSecret,
		RedirectURL: "http://127.0.0.1/cb", Store: testStore(), LazyDiscovery: true,
		HTTPClient: &http.Client{Transport: gate}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	<-gate.arrived // New's discovery is in flight, held

	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error)
	go func() { _, err := m.provider(ctx); first <- err }()
	cancel() // the first request's browser goes away
	if err := <-first; !errors.Is(err, context.Canceled) {
		t.Fatalf("the waiter whose context ended: %v", err)
	}
	close(gate.release)
	if _, err := m.provider(context.Background()); err != nil {
		t.Fatalf("a request after the first one's context ended: %v", err)
	}
}

// gatedTransport holds every request until release is closed, and says when one arrives.
type gatedTransport struct {
	arrived chan struct{}
	release chan struct{}
}

func (g *gatedTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	select {
	case g.arrived <- struct{}{}:
	default:
	}
	select {
	case <-g.release:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	return http.DefaultTransport.RoundTrip(req)
}

// New without LazyDiscovery fails when discovery fails, and says only that.
func TestNewDiscoveryFailureNotLogged(t *testing.T) {
	var logs strings.Builder
	_, err := New(context.Background(), Config{Issuer: "http://127.0.0.1:1", ClientID: "c", ClientSecret: testSecret,
		RedirectURL: "http://127.0.0.1/cb", Store: testStore(), Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err == nil {
		t.Fatal("New succeeded with no provider")
	}
	if strings.Contains(logs.String(), "retrying") {
		t.Fatalf("New failed but logged %q", logs.String())
	}
}
