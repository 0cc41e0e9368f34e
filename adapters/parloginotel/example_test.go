package parloginotel_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/adapters/parloginotel"
	"github.com/parlogin/parlogin/oidctest"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprometheus "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// An app whose logins are measured and traced. In production the MeterProvider and the
// TracerProvider are the app's (otel.SetMeterProvider, otel.SetTracerProvider, and no options
// here); this example records into memory to show what one login produces.
func Example() {
	reader := sdkmetric.NewManualReader()
	spans := tracetest.NewSpanRecorder()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))

	metrics, err := parloginotel.New(parloginotel.WithMeterProvider(mp))
	if err != nil {
		log.Fatal(err)
	}
	op := oidctest.NewServer()
	defer op.Close()
	mux := http.NewServeMux()
	app := httptest.NewServer(mux)
	defer app.Close()
	client := op.AddClient(oidctest.Client{RedirectURIs: []string{app.URL + "/auth/callback"}})
	auth, err := parlogin.New(context.Background(), parlogin.Config{
		Issuer:       op.Issuer,
		ClientID:     client.ID,
		ClientSecret: client.Secret,
		RedirectURL:  app.URL + "/auth/callback",
		Store:        sessions.NewCookieStore([]byte("example session key, 32 bytes or more"), []byte("example encryption key, 32 bytes")),
		OnEvent:      metrics.OnEvent,
		HTTPClient:   &http.Client{Transport: parloginotel.Transport(nil, parloginotel.WithTracerProvider(tp))},
		Logger:       slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	mux.Handle("/auth/", auth.Handler())
	mux.Handle("GET /private", auth.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "private")
	})))

	op.Login(exampleT{}, app.URL+"/private", "alice") // in a test, pass its *testing.T

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(context.Background(), &rm); err != nil {
		log.Fatal(err)
	}
	for _, m := range rm.ScopeMetrics[0].Metrics {
		switch data := m.Data.(type) {
		case metricdata.Sum[int64]:
			for _, dp := range data.DataPoints {
				kind, _ := dp.Attributes.Value("parlogin.event.kind")
				fmt.Printf("%s{kind=%s} %d\n", m.Name, kind.AsString(), dp.Value)
			}
		case metricdata.Histogram[float64]:
			fmt.Printf("%s count %d\n", m.Name, data.DataPoints[0].Count)
		}
	}
	for _, s := range spans.Ended() {
		fmt.Println("span", s.Name())
	}
	// Unordered output:
	// parlogin.events{kind=login_started} 1
	// parlogin.events{kind=login_succeeded} 1
	// parlogin.login.duration count 1
	// span discovery
	// span par
	// span token
	// span jwks
	// span userinfo
}

// exampleT stands in for the *testing.T that examples lack: a failure panics, which fails the
// example with its message.
type exampleT struct{ testing.TB }

func (exampleT) Helper()                           {}
func (exampleT) Fatal(args ...any)                 { panic(fmt.Sprint(args...)) }
func (exampleT) Fatalf(format string, args ...any) { panic(fmt.Sprintf(format, args...)) }

// Set Transport as the transport of Config.HTTPClient. The spans go to the global TracerProvider
// unless WithTracerProvider says otherwise; WithPropagators sends the trace context to a
// provider that joins the app's traces.
func ExampleTransport() {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	op := oidctest.NewServer()
	defer op.Close()
	client := op.AddClient(oidctest.Client{RedirectURIs: []string{"https://app.example.com/auth/callback"}})

	_, err := parlogin.New(context.Background(), parlogin.Config{
		Issuer:       op.Issuer,
		ClientID:     client.ID,
		ClientSecret: client.Secret,
		RedirectURL:  "https://app.example.com/auth/callback",
		Store:        sessions.NewCookieStore([]byte("example session key, 32 bytes or more"), []byte("example encryption key, 32 bytes")),
		HTTPClient: &http.Client{
			Transport: parloginotel.Transport(nil, parloginotel.WithTracerProvider(tp)),
			Timeout:   5 * time.Second,
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	// New read the discovery document:
	for _, s := range spans.Ended() {
		fmt.Print(s.Name())
		for _, kv := range s.Attributes() {
			if kv.Key == "http.request.method" || kv.Key == "http.response.status_code" {
				fmt.Print(" ", kv.Key, "=", kv.Value.String())
			}
		}
		fmt.Println()
	}
	// Output:
	// discovery http.request.method=GET http.response.status_code=200
}

// Serve the metrics to Prometheus: a MeterProvider that reads into the OpenTelemetry Prometheus
// exporter (module go.opentelemetry.io/otel/exporters/prometheus), which registers with a
// Prometheus registry, served at /metrics by promhttp. Here one failed login is recorded, and
// /metrics is read back.
func Example_prometheus() {
	registry := prometheus.NewRegistry() // or prometheus.DefaultRegisterer, without WithRegisterer
	exporter, err := otelprometheus.New(otelprometheus.WithRegisterer(registry))
	if err != nil {
		log.Fatal(err)
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	defer func() { _ = mp.Shutdown(context.Background()) }()
	metrics, err := parloginotel.New(parloginotel.WithMeterProvider(mp)) // or otel.SetMeterProvider(mp)
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(registry, promhttp.HandlerOpts{}))
	srv := httptest.NewServer(mux) // in production, a listener that only the scraper reaches
	defer srv.Close()

	// parlogin calls OnEvent (Config.OnEvent: metrics.OnEvent); here, by hand.
	metrics.OnEvent(context.Background(), parlogin.Event{
		Kind:   parlogin.EventLoginFailed,
		Issuer: "https://op.example.com",
		Reason: "stale",
		Err:    parlogin.ErrInvalidState,
	})

	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	scanner := bufio.NewScanner(resp.Body)
	for scanner.Scan() {
		if line := scanner.Text(); strings.HasPrefix(line, "parlogin_") {
			fmt.Println(line)
		}
	}
	// Output:
	// parlogin_events_total{error_type="stale",otel_scope_name="github.com/parlogin/parlogin/adapters/parloginotel",otel_scope_schema_url="https://opentelemetry.io/schemas/1.43.0",otel_scope_version="",parlogin_event_kind="login_failed",parlogin_issuer="https://op.example.com"} 1
}
