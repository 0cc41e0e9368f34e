package parloginotel

import (
	"github.com/parlogin/parlogin"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// scope is the instrumentation scope of the meter and the tracer: this package's import path.
const scope = "github.com/parlogin/parlogin/adapters/parloginotel"

// Option configures [New] or [Transport]. An option that does not concern the constructor it is
// passed to is ignored: [WithMeterProvider] concerns New, the others Transport.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// config is what the options set.
type config struct {
	meterProvider  metric.MeterProvider
	tracerProvider trace.TracerProvider
	propagators    propagation.TextMapPropagator
	endpoints      map[string]parlogin.Endpoint // by endpointKey
}

func newConfig(opts []Option) *config {
	c := &config{}
	for _, o := range opts {
		if o != nil {
			o.apply(c)
		}
	}
	if c.meterProvider == nil {
		c.meterProvider = otel.GetMeterProvider()
	}
	if c.tracerProvider == nil {
		c.tracerProvider = otel.GetTracerProvider()
	}
	return c
}

// WithMeterProvider sets the MeterProvider of [New]'s instruments; the default is the global one,
// otel.GetMeterProvider().
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) { c.meterProvider = mp })
}

// WithTracerProvider sets the TracerProvider of [Transport]'s spans; the default is the global one,
// otel.GetTracerProvider().
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) { c.tracerProvider = tp })
}

// WithPropagators makes [Transport] inject the context of each provider call's span into the
// request's headers with p, typically otel.GetTextMapPropagator() (a traceparent header with the
// W3C Trace Context propagator). Off by default: providers have no use for the app's trace IDs
// (nor for the baggage that a propagator may add). Turn it on for a provider that joins the
// app's traces, such as one run by the same organisation.
func WithPropagators(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c *config) { c.propagators = p })
}

// WithEndpoint names the endpoint at rawURL, for an endpoint that the provider's discovery
// document does not publish: pass Config.PAREndpoint when it is set,
//
//	parloginotel.Transport(nil, parloginotel.WithEndpoint(cfg.PAREndpoint, parlogin.EndpointPAR))
//
// Endpoints that the discovery document publishes need no option (see [Transport]). The query
// and fragment of rawURL are ignored; an unparsable or relative rawURL names nothing.
func WithEndpoint(rawURL string, e parlogin.Endpoint) Option {
	return optionFunc(func(c *config) {
		key, ok := endpointKey(rawURL)
		if !ok {
			return
		}
		if c.endpoints == nil {
			c.endpoints = make(map[string]parlogin.Endpoint)
		}
		c.endpoints[key] = e
	})
}
