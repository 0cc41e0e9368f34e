package parloginotel_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/adapters/parloginotel"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

const issuer = "https://op.example.com"

// metering returns Metrics recording into a ManualReader, and the reader.
func metering(t *testing.T) (*parloginotel.Metrics, *sdkmetric.ManualReader) {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	m, err := parloginotel.New(parloginotel.WithMeterProvider(mp))
	if err != nil {
		t.Fatal(err)
	}
	return m, reader
}

// points are the data points of a collection, one line each: "name{k=v,…} value", sorted; a
// histogram's value is "count=N sum=S".
func points(t *testing.T, reader *sdkmetric.ManualReader) []string {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch data := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, dp := range data.DataPoints {
					lines = append(lines, fmt.Sprintf("%s{%s} %d", m.Name, labels(dp.Attributes), dp.Value))
				}
			case metricdata.Histogram[float64]:
				for _, dp := range data.DataPoints {
					lines = append(lines, fmt.Sprintf("%s{%s} count=%d sum=%g", m.Name, labels(dp.Attributes), dp.Count, dp.Sum))
				}
			default:
				t.Errorf("metric %s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	slices.Sort(lines)
	return lines
}

// checkPoints fails the test unless got are the data points want.
func checkPoints(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("data points:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

func labels(set attribute.Set) string {
	var kvs []string
	for _, kv := range set.ToSlice() {
		kvs = append(kvs, string(kv.Key)+"="+kv.Value.String())
	}
	return strings.Join(kvs, ",")
}

// TestOnEvent records each kind of event as parlogin emits it and checks the data points.
func TestOnEvent(t *testing.T) {
	refused := &parlogin.ProviderError{Endpoint: parlogin.EndpointToken, StatusCode: 400, Code: "invalid_grant",
		Description: "refresh token secret-refresh-token revoked"}
	tests := []struct {
		name  string
		event parlogin.Event
		want  []string
	}{
		{
			name:  "login started",
			event: parlogin.Event{Kind: parlogin.EventLoginStarted, Issuer: issuer},
			want:  []string{"parlogin.events{parlogin.event.kind=login_started,parlogin.issuer=https://op.example.com} 1"},
		},
		{
			name:  "login succeeded",
			event: parlogin.Event{Kind: parlogin.EventLoginSucceeded, Issuer: issuer, Subject: "alice", Duration: 2500 * time.Millisecond},
			want: []string{
				"parlogin.events{parlogin.event.kind=login_succeeded,parlogin.issuer=https://op.example.com} 1",
				"parlogin.login.duration{parlogin.issuer=https://op.example.com} count=1 sum=2.5",
			},
		},
		{
			name: "login failed at the callback",
			event: parlogin.Event{Kind: parlogin.EventLoginFailed, Issuer: issuer, Duration: 3 * time.Second,
				Reason: "stale", Err: fmt.Errorf("state abc123: %w", parlogin.ErrInvalidState)},
			want: []string{
				"parlogin.events{error.type=stale,parlogin.event.kind=login_failed,parlogin.issuer=https://op.example.com} 1",
				"parlogin.login.duration{error.type=stale,parlogin.issuer=https://op.example.com} count=1 sum=3",
			},
		},
		{
			name: "login failed to start: no duration",
			event: parlogin.Event{Kind: parlogin.EventLoginFailed, Issuer: issuer, Reason: "provider_unavailable",
				Err: &parlogin.ProviderError{Endpoint: parlogin.EndpointPAR, StatusCode: 503}},
			want: []string{"parlogin.events{error.type=provider_unavailable,parlogin.event.kind=login_failed,parlogin.issuer=https://op.example.com} 1"},
		},
		{
			name:  "refresh",
			event: parlogin.Event{Kind: parlogin.EventRefresh, Issuer: issuer, Subject: "alice", Duration: 150 * time.Millisecond},
			want: []string{
				"parlogin.events{parlogin.event.kind=refresh,parlogin.issuer=https://op.example.com} 1",
				"parlogin.refresh.duration{parlogin.issuer=https://op.example.com} count=1 sum=0.15",
			},
		},
		{
			name:  "refresh refused",
			event: parlogin.Event{Kind: parlogin.EventRefreshFailed, Issuer: issuer, Subject: "alice", Reason: "refused", Err: refused},
			want:  []string{"parlogin.events{error.type=refused,parlogin.event.kind=refresh_failed,parlogin.issuer=https://op.example.com} 1"},
		},
		{
			name:  "logout",
			event: parlogin.Event{Kind: parlogin.EventLogout, Issuer: issuer, Subject: "alice"},
			want:  []string{"parlogin.events{parlogin.event.kind=logout,parlogin.issuer=https://op.example.com} 1"},
		},
		{
			name:  "back-channel logout",
			event: parlogin.Event{Kind: parlogin.EventBackchannelLogout, Issuer: issuer, Subject: "alice"},
			want:  []string{"parlogin.events{parlogin.event.kind=backchannel_logout,parlogin.issuer=https://op.example.com} 1"},
		},
		{
			name:  "an app's event with Err and no Reason",
			event: parlogin.Event{Kind: parlogin.EventLoginFailed, Err: fmt.Errorf("replayed: %w", parlogin.ErrNonceMismatch)},
			want:  []string{"parlogin.events{error.type=rejected,parlogin.event.kind=login_failed} 1"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m, reader := metering(t)
			m.OnEvent(context.Background(), tc.event)
			checkPoints(t, points(t, reader), tc.want)
		})
	}
}

// Events add up per kind and reason, and concurrent recording is safe.
func TestOnEventCounts(t *testing.T) {
	m, reader := metering(t)
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range 25 {
				m.OnEvent(context.Background(), parlogin.Event{Kind: parlogin.EventLoginStarted, Issuer: issuer})
				m.OnEvent(context.Background(), parlogin.Event{Kind: parlogin.EventLoginSucceeded, Issuer: issuer,
					Subject: fmt.Sprintf("user-%d", i), Duration: time.Second})
			}
		}()
	}
	for range 4 {
		<-done
	}
	m.OnEvent(context.Background(), parlogin.Event{Kind: parlogin.EventLoginFailed, Issuer: issuer, Reason: "cancelled"})
	want := []string{
		"parlogin.events{error.type=cancelled,parlogin.event.kind=login_failed,parlogin.issuer=https://op.example.com} 1",
		"parlogin.events{parlogin.event.kind=login_started,parlogin.issuer=https://op.example.com} 100",
		"parlogin.events{parlogin.event.kind=login_succeeded,parlogin.issuer=https://op.example.com} 100",
		"parlogin.login.duration{parlogin.issuer=https://op.example.com} count=100 sum=100",
	}
	checkPoints(t, points(t, reader), want)
}

// The instruments' names, units and kinds, which dashboards and alerts depend on.
func TestInstruments(t *testing.T) {
	m, reader := metering(t)
	for _, kind := range []parlogin.EventKind{parlogin.EventLoginSucceeded, parlogin.EventRefresh} {
		m.OnEvent(context.Background(), parlogin.Event{Kind: kind, Duration: time.Second})
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	if len(rm.ScopeMetrics) != 1 {
		t.Fatalf("%d scopes, want 1", len(rm.ScopeMetrics))
	}
	sm := rm.ScopeMetrics[0]
	if sm.Scope.Name != "github.com/parlogin/parlogin/adapters/parloginotel" || !strings.HasPrefix(sm.Scope.SchemaURL, "https://opentelemetry.io/schemas/") {
		t.Errorf("scope %+v", sm.Scope)
	}
	got := make(map[string]string)
	for _, metric := range sm.Metrics {
		kind := fmt.Sprintf("%T", metric.Data)
		if sum, ok := metric.Data.(metricdata.Sum[int64]); ok {
			kind += fmt.Sprintf(" monotonic=%v", sum.IsMonotonic)
		}
		got[metric.Name] = metric.Unit + " " + kind
		if metric.Description == "" {
			t.Errorf("%s has no description", metric.Name)
		}
	}
	want := map[string]string{
		"parlogin.events":           "{event} metricdata.Sum[int64] monotonic=true",
		"parlogin.login.duration":   "s metricdata.Histogram[float64]",
		"parlogin.refresh.duration": "s metricdata.Histogram[float64]",
	}
	if !maps.Equal(got, want) {
		t.Errorf("instruments:\n got %v\nwant %v", got, want)
	}
}
