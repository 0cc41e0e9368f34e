package parloginotel

import (
	"context"
	"errors"
	"fmt"

	"github.com/parlogin/parlogin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// Attributes of the metrics; see [Metrics].
const (
	kindAttr   = attribute.Key("parlogin.event.kind")
	issuerAttr = attribute.Key("parlogin.issuer")
)

// Bucket boundaries, in seconds. A login includes what the user does at the provider: typing a
// password, approving a push notification, registering a passkey; a refresh is one call to the
// token endpoint (the boundaries of the conventions' http.client.request.duration).
var (
	loginBuckets   = []float64{0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600}
	refreshBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10}
)

// Metrics records parlogin's events as OpenTelemetry metrics: set its OnEvent method as
// [parlogin.Config.OnEvent]. It has three instruments:
//
//   - parlogin.events, a counter ({event}) of every event, with the attribute parlogin.event.kind
//     (the [parlogin.EventKind]: login_started, login_succeeded, login_failed, logout, refresh,
//     refresh_failed, backchannel_logout);
//   - parlogin.login.duration, a histogram (s) of the time from the start of a login to the end
//     of its callback, which includes the time the user spends at the provider, for logins that
//     succeeded or failed at the callback;
//   - parlogin.refresh.duration, a histogram (s) of the time a refresh of the session's tokens
//     took.
//
// All three also have parlogin.issuer, the provider's issuer identifier, and, for failures,
// error.type: the event's [parlogin.Event.Reason], one of the few words of [parlogin.Reason]
// ("stale", "provider_unavailable"…). Nothing else of an event is recorded: not the subject, whose
// values are as many as the users, nor the error, whose text varies with its details. A success
// has no error.type, as the OpenTelemetry conventions prescribe.
//
// A Metrics is safe for concurrent use.
type Metrics struct {
	events  metric.Int64Counter
	login   metric.Float64Histogram
	refresh metric.Float64Histogram
}

// New returns Metrics whose instruments are created with the global MeterProvider, or the one of
// [WithMeterProvider]. It fails only if the MeterProvider refuses to create them.
func New(opts ...Option) (*Metrics, error) {
	c := newConfig(opts)
	meter := c.meterProvider.Meter(scope, metric.WithSchemaURL(semconv.SchemaURL))
	events, err1 := meter.Int64Counter("parlogin.events",
		metric.WithUnit("{event}"),
		metric.WithDescription("Logins started, succeeded and failed, logouts, token refreshes and back-channel logouts."))
	login, err2 := meter.Float64Histogram("parlogin.login.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Time from the start of a login to the end of its callback, including the user's time at the provider."),
		metric.WithExplicitBucketBoundaries(loginBuckets...))
	refresh, err3 := meter.Float64Histogram("parlogin.refresh.duration",
		metric.WithUnit("s"),
		metric.WithDescription("Time a refresh of a session's tokens took."),
		metric.WithExplicitBucketBoundaries(refreshBuckets...))
	if err := errors.Join(err1, err2, err3); err != nil {
		return nil, fmt.Errorf("parloginotel: creating instruments: %w", err)
	}
	return &Metrics{events: events, login: login, refresh: refresh}, nil
}

// OnEvent records e; it is a [parlogin.Config.OnEvent]:
//
//	m, err := parloginotel.New()
//	…
//	cfg.OnEvent = m.OnEvent
//
// ctx is the request's, so that a metrics SDK can link a measurement to the request's span as
// an exemplar.
func (m *Metrics) OnEvent(ctx context.Context, e parlogin.Event) {
	var buf [3]attribute.KeyValue
	attrs := buf[:0]
	if e.Issuer != "" {
		attrs = append(attrs, issuerAttr.String(e.Issuer))
	}
	if reason := reason(e); reason != "" {
		attrs = append(attrs, semconv.ErrorTypeKey.String(reason))
	}
	var duration metric.Float64Histogram
	switch e.Kind {
	case parlogin.EventLoginSucceeded, parlogin.EventLoginFailed:
		duration = m.login
	case parlogin.EventRefresh, parlogin.EventRefreshFailed:
		duration = m.refresh
	}
	if duration != nil && e.Duration > 0 {
		duration.Record(ctx, e.Duration.Seconds(), metric.WithAttributes(attrs...))
	}
	m.events.Add(ctx, 1, metric.WithAttributes(append(attrs, kindAttr.String(string(e.Kind)))...))
}

// reason returns the reason of e's failure, "" for a success. parlogin sets Reason whenever it
// sets Err; an event made by the app may have Err only.
func reason(e parlogin.Event) string {
	if e.Reason != "" {
		return e.Reason
	}
	return parlogin.Reason(e.Err)
}
