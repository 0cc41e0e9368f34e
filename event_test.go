package parlogin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parlogin/parlogin/oidctest"
)

// eventLog records the events of a Middleware.
type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func (l *eventLog) add(_ context.Context, e Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, e)
}

func (l *eventLog) last(kind EventKind) (Event, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.events) - 1; i >= 0; i-- {
		if l.events[i].Kind == kind {
			return l.events[i], true
		}
	}
	return Event{}, false
}

func TestEvents(t *testing.T) {
	clk := newClock()
	var log eventLog
	h, _ := refreshHarness(t, func(c *Config) { c.OnEvent = log.add; c.Now = clk.Now })
	h.op.SetClock(clk.Now)

	toProvider := h.toProvider("/private")
	if e, ok := log.last(EventLoginStarted); !ok || e.Issuer != h.op.Issuer || e.Err != nil {
		t.Fatalf("login started: %+v", e)
	}
	clk.Add(3 * time.Second) // the user types their password
	h.follow(h.callback(h.authorize(toProvider)))
	if e, ok := log.last(EventLoginSucceeded); !ok || e.Subject != "alice" || e.Duration.Truncate(time.Millisecond) != 3*time.Second || e.Reason != "" {
		t.Fatalf("login succeeded: %+v", e)
	}
	if !strings.Contains(h.logs.String(), `msg="parlogin: signed in" sub=alice duration=3.0`) {
		t.Errorf("no Info line for the login:\n%s", h.logs.String())
	}

	clk.Add(2 * time.Hour)
	h.navigate(http.MethodGet, "/token", nil)
	if e, ok := log.last(EventRefresh); !ok || e.Subject != "alice" {
		t.Fatalf("refresh: %+v", e)
	}
	clk.Add(2 * time.Hour)
	h.op.Inject(EndpointToken, oidctest.Fault{Error: "invalid_grant", Status: http.StatusBadRequest})
	h.navigate(http.MethodGet, "/token", nil)
	if e, ok := log.last(EventRefreshFailed); !ok || e.Reason != reasonRefused || e.Subject != "alice" {
		t.Fatalf("refused refresh: %+v", e)
	}

	h.op.ClearFaults()
	h.op.Inject(EndpointAuthorization, oidctest.Fault{Error: "access_denied"})
	h.callback(h.authorize(h.toProvider("/private")))
	var pe *ProviderError
	if e, ok := log.last(EventLoginFailed); !ok || e.Reason != reasonCancelled || !errors.As(e.Err, &pe) {
		t.Fatalf("cancelled login: %+v", e)
	}

	h.op.ClearFaults()
	h.login("/private")
	h.navigate(http.MethodPost, "/auth/logout", nil)
	if e, ok := log.last(EventLogout); !ok || e.Subject != "alice" {
		t.Fatalf("logout: %+v", e)
	}
	if err := h.op.BackchannelLogout(context.Background(), h.client.ID, "bob", ""); err != nil {
		t.Fatal(err)
	}
	if e, ok := log.last(EventBackchannelLogout); !ok || e.Subject != "bob" {
		t.Fatalf("back-channel logout: %+v", e)
	}
}

func TestReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{ErrUnauthenticated, reasonUnauthenticated},
		{ErrNoToken, reasonUnauthenticated},
		{ErrInvalidState, reasonStale},
		{ErrNonceMismatch, reasonRejected},
		{ErrInvalidIDToken, reasonRejected},
		{ErrCrossOrigin, reasonForbidden},
		{ErrAuthParam, reasonMisconfigured},
		{ErrSessionStore, reasonStoreUnavailable},
		{errors.Join(ErrSessionStore, errCookieTooLarge), reasonMisconfigured},
		{&ProviderError{Endpoint: EndpointAuthorization, Code: "access_denied"}, reasonCancelled},
		{&ProviderError{Endpoint: EndpointAuthorization, Code: "temporarily_unavailable"}, reasonProviderUnavailable},
		{&ProviderError{Endpoint: EndpointPAR, StatusCode: 401, Code: "invalid_client"}, reasonMisconfigured},
		{&ProviderError{Endpoint: EndpointPAR, StatusCode: 503}, reasonProviderUnavailable},
		{&ProviderError{Endpoint: EndpointToken, Err: context.DeadlineExceeded}, reasonProviderUnavailable},
		{&ProviderError{Endpoint: EndpointToken, StatusCode: 400, Code: "invalid_grant"}, reasonRejected},
		{errors.New("boom"), reasonInternal},
	}
	for _, tc := range tests {
		if got := Reason(tc.err); got != tc.want {
			t.Errorf("Reason(%v) = %q, want %q", tc.err, got, tc.want)
		}
		if _, ok := sentences[Reason(tc.err)]; tc.err != nil && !ok {
			t.Errorf("no sentence for %q", Reason(tc.err))
		}
	}
}
