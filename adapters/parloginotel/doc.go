// Package parloginotel reports what parlogin does with OpenTelemetry: metrics of its events
// (logins, logouts, refreshes) and spans of its calls to the OpenID Provider.
//
//	metrics, err := parloginotel.New() // the global MeterProvider
//	if err != nil {
//		return err
//	}
//	auth, err := parlogin.New(ctx, parlogin.Config{
//		// Issuer, ClientID, ClientSecret, RedirectURL, Store…
//		OnEvent:    metrics.OnEvent,
//		HTTPClient: &http.Client{Transport: parloginotel.Transport(nil)}, // the global TracerProvider
//	})
//
// Both halves are independent: use either alone. Neither changes what parlogin does.
//
// # Metrics
//
// [Metrics.OnEvent] turns each [parlogin.Event] into measurements of three instruments:
//
//	parlogin.events            counter   {event}  parlogin.event.kind, parlogin.issuer, error.type
//	parlogin.login.duration    histogram s        parlogin.issuer, error.type
//	parlogin.refresh.duration  histogram s        parlogin.issuer, error.type
//
// error.type is set for failures only, to the event's [parlogin.Event.Reason]. See [Metrics].
//
// # Traces
//
// [Transport] wraps the transport of Config.HTTPClient: every call to the provider (discovery,
// JWKS, PAR, token, UserInfo, revocation) becomes a client span named after the endpoint, a child
// of the app's request span when the app's handler has one (from otelhttp, for example). A
// login then shows as the app's GET of a protected page with a "par" span, and the app's
// callback with "token", "jwks" (when the keys are not cached) and "userinfo" spans. See
// [Transport] for how endpoints are named, and for what is kept out of spans.
//
// # Prometheus
//
// With the OpenTelemetry Prometheus exporter (module go.opentelemetry.io/otel/exporters/prometheus),
// the instruments are served to Prometheus as
//
//	parlogin_events_total{error_type="stale",parlogin_event_kind="login_failed",parlogin_issuer="…",…}
//	parlogin_login_duration_seconds_bucket{le="…",…}
//	parlogin_refresh_duration_seconds_bucket{le="…",…}
//
// and, for example, the rate of failed logins by reason is
//
//	sum by (error_type) (rate(parlogin_events_total{parlogin_event_kind="login_failed"}[5m]))
//
// The setup, a MeterProvider that reads into the exporter, served by promhttp, is in the
// package's Prometheus example.
//
// # What is recorded
//
// Only low-cardinality values that hold no secret: event kinds, failure reasons, the issuer,
// endpoint names, HTTP methods, status codes, and the provider's host and endpoint URLs without
// their query. Never a subject, a token, a code, a client assertion, a header or a body.
package parloginotel
