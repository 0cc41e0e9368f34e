package parloginotel

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"

	"github.com/parlogin/parlogin"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// endpointAttr is the attribute that names the provider's endpoint a span is about.
const endpointAttr = attribute.Key("parlogin.endpoint")

// maxIdleConnsPerHost is what parlogin's default transport keeps: one provider, many concurrent
// logins.
const maxIdleConnsPerHost = 32

// Transport returns an [http.RoundTripper] that traces each call to the provider with a client
// span, for the Transport of [parlogin.Config.HTTPClient]:
//
//	HTTPClient: &http.Client{Transport: parloginotel.Transport(nil)},
//
// base makes the calls; nil means a clone of [http.DefaultTransport] that keeps up to 32 idle
// connections to the provider, as parlogin's own default does. The spans' parent is the request's
// context: the span of the app's request that logs in, or none for the discovery made by
// [parlogin.New].
//
// # Span names
//
// A span is named after the provider's endpoint, as [parlogin.Endpoint] names it: "discovery",
// "jwks", "par", "token" (code exchange and refresh), "userinfo" or "revocation", and also has
// it in the attribute parlogin.endpoint. The name comes from the provider's own discovery
// document, not from the URL's look (Keycloak's JWKS is at .../certs, its PAR endpoint at
// .../par/request): a request whose path ends in /.well-known/openid-configuration is the
// discovery, and when its document goes through the transport, which is where parlogin reads it,
// the transport remembers which URL is the token endpoint, which the JWKS, and so on. An
// endpoint that the document does not publish (Config.PAREndpoint) needs [WithEndpoint]. A
// call to a URL the transport cannot name is named after its method, "GET" or "POST", as the
// OpenTelemetry conventions for HTTP clients prescribe.
//
// # Attributes
//
// Spans follow the OpenTelemetry semantic conventions for HTTP clients: http.request.method,
// server.address, server.port, url.full, http.response.status_code, and on failure error.type
// (the status code, or the type of the transport's error) and an Error status. url.full is the
// URL without its query and fragment, and without user info. Nothing else of the request or
// response is recorded: neither headers (the UserInfo call's Authorization holds an access
// token) nor bodies (PAR and token calls send a client assertion, and the token endpoint
// answers tokens). A span ends when the response body is read to its end or closed.
//
// The span's context goes into the request's headers only with [WithPropagators].
func Transport(base http.RoundTripper, opts ...Option) http.RoundTripper {
	c := newConfig(opts)
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConnsPerHost = maxIdleConnsPerHost
		base = t
	}
	return &transport{
		base:        base,
		tracer:      c.tracerProvider.Tracer(scope, trace.WithSchemaURL(semconv.SchemaURL)),
		propagators: c.propagators,
		endpoints:   newEndpoints(c.endpoints),
	}
}

type transport struct {
	base        http.RoundTripper
	tracer      trace.Tracer
	propagators propagation.TextMapPropagator // nil: none
	endpoints   *endpoints
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	endpoint, named := t.endpoints.lookup(req.URL)
	name := requestMethod(req.Method)
	attrs := []attribute.KeyValue{
		semconv.HTTPRequestMethodKey.String(name),
		semconv.ServerAddress(req.URL.Hostname()),
		semconv.URLFull(redact(req.URL)),
	}
	if port := serverPort(req.URL); port != 0 {
		attrs = append(attrs, semconv.ServerPort(port))
	}
	if named {
		name = string(endpoint)
		attrs = append(attrs, endpointAttr.String(string(endpoint)))
	}
	ctx, span := t.tracer.Start(req.Context(), name,
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
	if t.propagators != nil {
		req = req.Clone(ctx) // a RoundTripper must not change the caller's request
		t.propagators.Inject(ctx, propagation.HeaderCarrier(req.Header))
	} else {
		req = req.WithContext(ctx)
	}

	resp, err := t.base.RoundTrip(req)
	if err != nil {
		fail(span, err)
		span.End()
		return resp, err
	}
	span.SetAttributes(semconv.HTTPResponseStatusCode(resp.StatusCode))
	if resp.StatusCode >= 400 {
		span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(resp.StatusCode)))
		span.SetStatus(codes.Error, "")
	}
	if resp.Body == nil || resp.Body == http.NoBody {
		span.End()
		return resp, nil
	}
	b := &body{ReadCloser: resp.Body, span: span}
	if named && endpoint == parlogin.EndpointDiscovery && req.Method == http.MethodGet &&
		resp.StatusCode == http.StatusOK {
		b.discovery = &discovery{es: t.endpoints}
	}
	resp.Body = b
	return resp, nil
}

// body ends its span when it is read to its end, fails, or is closed.
type body struct {
	io.ReadCloser
	span      trace.Span
	discovery *discovery // the discovery document to learn from, or nil
	once      sync.Once
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.discovery != nil {
		b.discovery.read(p[:n], err)
	}
	if err != nil {
		if err != io.EOF {
			fail(b.span, err)
		}
		b.end()
	}
	return n, err
}

func (b *body) Close() error {
	err := b.ReadCloser.Close()
	b.end()
	return err
}

func (b *body) end() { b.once.Do(func() { b.span.End() }) }

// fail marks span as failed with err, the transport's error: its type, and its message without
// a URL, which a *url.Error would carry with its query.
func fail(span trace.Span, err error) {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	span.SetAttributes(semconv.ErrorType(err))
	span.SetStatus(codes.Error, err.Error())
}

// requestMethod returns method as http.request.method has it: one of the methods of RFC 9110 and
// RFC 5789, else "_OTHER", so that the attribute and the span name stay low in cardinality.
func requestMethod(method string) string {
	switch method {
	case "":
		return http.MethodGet // net/http's meaning of an empty method
	case http.MethodGet, http.MethodPost, http.MethodHead, http.MethodPut, http.MethodDelete,
		http.MethodPatch, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "_OTHER"
}

// serverPort returns the port of u, explicit or implied by its scheme; 0 if unknown.
func serverPort(u *url.URL) int {
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil {
			return 0
		}
		return n
	}
	switch u.Scheme {
	case "https":
		return 443
	case "http":
		return 80
	}
	return 0
}

// redact returns u without user info, query and fragment.
func redact(u *url.URL) string {
	r := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	return r.String()
}
