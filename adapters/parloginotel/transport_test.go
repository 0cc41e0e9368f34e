package parloginotel_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/adapters/parloginotel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// Secrets that requests and responses carry, which no span may hold.
const (
	secretAssertion = "eyJhbGciOiJIUzI1NiJ9.secret-assertion.sig"
	secretToken     = "secret-access-token"
	secretQuery     = "secret-query-value"
)

// provider is a fake OpenID Provider whose endpoints are where Keycloak has them: their paths'
// last elements do not name them (certs, request).
type provider struct {
	*httptest.Server
	urls map[parlogin.Endpoint]string

	mu      sync.Mutex
	headers []http.Header // of every request, in order
}

var keycloakPaths = map[parlogin.Endpoint]string{
	parlogin.EndpointDiscovery:  "/realms/r/.well-known/openid-configuration",
	parlogin.EndpointJWKS:       "/realms/r/protocol/openid-connect/certs",
	parlogin.EndpointPAR:        "/realms/r/protocol/openid-connect/ext/par/request",
	parlogin.EndpointToken:      "/realms/r/protocol/openid-connect/token",
	parlogin.EndpointUserInfo:   "/realms/r/protocol/openid-connect/userinfo",
	parlogin.EndpointRevocation: "/realms/r/protocol/openid-connect/revoke",
}

// newProvider starts a provider whose discovery document is edited by edit, if not nil, before it
// is served.
func newProvider(t *testing.T, edit func(map[string]any)) *provider {
	t.Helper()
	p := &provider{urls: make(map[parlogin.Endpoint]string)}
	mux := http.NewServeMux()
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.headers = append(p.headers, r.Header.Clone())
		p.mu.Unlock()
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	for e, path := range keycloakPaths {
		p.urls[e] = p.URL + path
	}
	mux.HandleFunc(keycloakPaths[parlogin.EndpointDiscovery], func(w http.ResponseWriter, r *http.Request) {
		doc := map[string]any{
			"issuer":                                p.URL + "/realms/r",
			"authorization_endpoint":                p.URL + "/realms/r/protocol/openid-connect/auth",
			"jwks_uri":                              p.urls[parlogin.EndpointJWKS],
			"pushed_authorization_request_endpoint": p.urls[parlogin.EndpointPAR],
			"token_endpoint":                        p.urls[parlogin.EndpointToken],
			"userinfo_endpoint":                     p.urls[parlogin.EndpointUserInfo],
			"revocation_endpoint":                   p.urls[parlogin.EndpointRevocation],
		}
		if edit != nil {
			edit(doc)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(doc)
	})
	mux.HandleFunc("POST "+keycloakPaths[parlogin.EndpointPAR], func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
		_, _ = io.WriteString(w, `{"request_uri":"urn:ietf:params:oauth:request_uri:x","expires_in":60}`)
	})
	mux.HandleFunc("POST "+keycloakPaths[parlogin.EndpointToken], func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("grant_type") == "refresh_token" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"invalid_grant"}`)
			return
		}
		_, _ = io.WriteString(w, `{"access_token":"`+secretToken+`","token_type":"Bearer"}`)
	})
	mux.HandleFunc(keycloakPaths[parlogin.EndpointJWKS], func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"keys":[]}`)
	})
	mux.HandleFunc(keycloakPaths[parlogin.EndpointUserInfo], func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"sub":"alice"}`)
	})
	mux.HandleFunc("POST "+keycloakPaths[parlogin.EndpointRevocation], func(w http.ResponseWriter, r *http.Request) {})
	return p
}

// call makes a request as parlogin would, with the secrets it carries (a client assertion in
// the body, an access token in the header), plus a secret in the query, and reads the answer.
func call(t *testing.T, client *http.Client, ctx context.Context, method, target string) *http.Response {
	t.Helper()
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(url.Values{
			"client_assertion": {secretAssertion},
			"grant_type":       {"authorization_code"},
		}.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, target+"?q="+secretQuery, body)
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req.Header.Set("Authorization", "Bearer "+secretToken)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	if _, err := io.ReadAll(resp.Body); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// tracing returns a recorder of ended spans and the TracerProvider that feeds it.
func tracing(t *testing.T) (*tracetest.SpanRecorder, *sdktrace.TracerProvider) {
	t.Helper()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return rec, tp
}

// attrs returns span's attributes by key.
func attrs(span sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := make(map[attribute.Key]attribute.Value)
	for _, kv := range span.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

// checkNoSecrets fails the test if a span holds a secret, a query string or the provider's
// answer, in its name, attributes, status or events.
func checkNoSecrets(t *testing.T, spans []sdktrace.ReadOnlySpan, secrets ...string) {
	t.Helper()
	secrets = append(secrets, secretAssertion, secretToken, secretQuery, "client_assertion", "Bearer", "?")
	for _, s := range spans {
		texts := []string{s.Name(), s.Status().Description}
		for _, kv := range s.Attributes() {
			texts = append(texts, string(kv.Key)+"="+kv.Value.String())
		}
		for _, ev := range s.Events() {
			texts = append(texts, ev.Name)
			for _, kv := range ev.Attributes {
				texts = append(texts, string(kv.Key)+"="+kv.Value.String())
			}
		}
		for _, text := range texts {
			for _, secret := range secrets {
				if strings.Contains(text, secret) {
					t.Errorf("span %q holds %q: %s", s.Name(), secret, text)
				}
			}
		}
	}
}

// TestSpans makes each of parlogin's calls to a provider whose endpoints' paths do not tell
// them, after discovery, and checks each call's span.
func TestSpans(t *testing.T) {
	p := newProvider(t, nil)
	rec, tp := tracing(t)
	client := &http.Client{Transport: parloginotel.Transport(nil, parloginotel.WithTracerProvider(tp))}
	host, port, _ := strings.Cut(strings.TrimPrefix(p.URL, "http://"), ":")

	tests := []struct {
		endpoint   parlogin.Endpoint
		method     string
		wantStatus int
	}{
		{parlogin.EndpointDiscovery, http.MethodGet, http.StatusOK}, // first: it names the others
		{parlogin.EndpointPAR, http.MethodPost, http.StatusCreated},
		{parlogin.EndpointToken, http.MethodPost, http.StatusOK},
		{parlogin.EndpointJWKS, http.MethodGet, http.StatusOK},
		{parlogin.EndpointUserInfo, http.MethodGet, http.StatusOK},
		{parlogin.EndpointRevocation, http.MethodPost, http.StatusOK},
	}
	for _, tc := range tests {
		t.Run(string(tc.endpoint), func(t *testing.T) {
			rec.Reset()
			call(t, client, context.Background(), tc.method, p.urls[tc.endpoint])
			spans := rec.Ended()
			if len(spans) != 1 {
				t.Fatalf("%d spans, want 1", len(spans))
			}
			s := spans[0]
			if s.Name() != string(tc.endpoint) {
				t.Errorf("span name %q, want %q", s.Name(), tc.endpoint)
			}
			if s.SpanKind() != trace.SpanKindClient {
				t.Errorf("span kind %v, want client", s.SpanKind())
			}
			if s.Status().Code != codes.Unset {
				t.Errorf("status %v %q, want unset", s.Status().Code, s.Status().Description)
			}
			want := map[attribute.Key]string{
				"parlogin.endpoint":         string(tc.endpoint),
				"http.request.method":       tc.method,
				"server.address":            host,
				"server.port":               port,
				"url.full":                  p.urls[tc.endpoint], // without its query
				"http.response.status_code": (map[int]string{200: "200", 201: "201"})[tc.wantStatus],
			}
			got := attrs(s)
			for k, v := range want {
				if got[k].String() != v {
					t.Errorf("%s = %q, want %q", k, got[k].String(), v)
				}
			}
			if len(got) != len(want) {
				t.Errorf("attributes %v, want only %v", s.Attributes(), want)
			}
			checkNoSecrets(t, spans)
		})
	}
}

// Before discovery, or for URLs the discovery document does not name, a span is named after its
// method, as the conventions prescribe, and has no parlogin.endpoint.
func TestSpanUnknownEndpoint(t *testing.T) {
	p := newProvider(t, nil)
	rec, tp := tracing(t)
	client := &http.Client{Transport: parloginotel.Transport(nil, parloginotel.WithTracerProvider(tp))}

	call(t, client, context.Background(), http.MethodPost, p.urls[parlogin.EndpointToken]) // no discovery yet
	call(t, client, context.Background(), http.MethodGet, p.urls[parlogin.EndpointDiscovery])
	call(t, client, context.Background(), http.MethodPost, p.URL+"/realms/r/protocol/openid-connect/token/introspect")

	var names []string
	for _, s := range rec.Ended() {
		names = append(names, s.Name())
		if _, ok := attrs(s)["parlogin.endpoint"]; ok != (s.Name() == "discovery") {
			t.Errorf("span %q: parlogin.endpoint %v", s.Name(), attrs(s)["parlogin.endpoint"].String())
		}
	}
	if got, want := strings.Join(names, " "), "POST discovery POST"; got != want {
		t.Errorf("spans %q, want %q", got, want)
	}
}

// A discovery document that cannot be read whole teaches nothing.
func TestSpanDiscoveryNotLearnt(t *testing.T) {
	tests := []struct {
		name string
		edit func(map[string]any)
	}{
		{"document over 1 MB", func(doc map[string]any) { doc["padding"] = strings.Repeat("x", 1<<20) }},
		{"endpoint not a string", func(doc map[string]any) { doc["token_endpoint"] = 42 }},
		{"relative endpoint", func(doc map[string]any) { doc["token_endpoint"] = "/realms/r/protocol/openid-connect/token" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newProvider(t, tc.edit)
			rec, tp := tracing(t)
			client := &http.Client{Transport: parloginotel.Transport(nil, parloginotel.WithTracerProvider(tp))}
			call(t, client, context.Background(), http.MethodGet, p.urls[parlogin.EndpointDiscovery])
			call(t, client, context.Background(), http.MethodPost, p.urls[parlogin.EndpointToken])
			spans := rec.Ended()
			if got := spans[len(spans)-1].Name(); got != "POST" {
				t.Errorf("token call named %q, want POST", got)
			}
		})
	}
}

// WithEndpoint names an endpoint that the discovery document does not publish, as with
// Config.PAREndpoint.
func TestWithEndpoint(t *testing.T) {
	p := newProvider(t, func(doc map[string]any) { delete(doc, "pushed_authorization_request_endpoint") })
	rec, tp := tracing(t)
	client := &http.Client{Transport: parloginotel.Transport(nil,
		parloginotel.WithTracerProvider(tp),
		parloginotel.WithEndpoint(p.urls[parlogin.EndpointPAR]+"?ignored=1", parlogin.EndpointPAR),
		parloginotel.WithEndpoint("/relative", parlogin.EndpointToken), // names nothing
	)}
	call(t, client, context.Background(), http.MethodPost, p.urls[parlogin.EndpointPAR]) // before discovery
	call(t, client, context.Background(), http.MethodGet, p.urls[parlogin.EndpointDiscovery])
	call(t, client, context.Background(), http.MethodPost, p.urls[parlogin.EndpointPAR])
	var names []string
	for _, s := range rec.Ended() {
		names = append(names, s.Name())
	}
	if got, want := strings.Join(names, " "), "par discovery par"; got != want {
		t.Errorf("spans %q, want %q", got, want)
	}
}

// Failures: an error status from the provider, and a transport error, whose message must not
// carry the request's URL.
func TestSpanErrors(t *testing.T) {
	p := newProvider(t, nil)
	failing := roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		return nil, &url.Error{Op: "Post", URL: req.URL.String(), Err: errors.New("connection refused")}
	})
	tests := []struct {
		name       string
		base       http.RoundTripper
		form       url.Values
		wantErr    bool
		wantType   string
		wantStatus string // http.response.status_code, "" for none
		wantDesc   string
	}{
		{"refused refresh", nil, url.Values{"grant_type": {"refresh_token"}}, false, "400", "400", ""},
		{"transport error", failing, url.Values{}, true, "*errors.errorString", "", "connection refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec, tp := tracing(t)
			client := &http.Client{Transport: parloginotel.Transport(tc.base, parloginotel.WithTracerProvider(tp))}
			resp, err := client.PostForm(p.urls[parlogin.EndpointToken]+"?q="+secretQuery, tc.form)
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want one: %v", err, tc.wantErr)
			}
			if err == nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			spans := rec.Ended()
			if len(spans) != 1 {
				t.Fatalf("%d spans, want 1", len(spans))
			}
			s := spans[0]
			if s.Status().Code != codes.Error || s.Status().Description != tc.wantDesc {
				t.Errorf("status %v %q, want Error %q", s.Status().Code, s.Status().Description, tc.wantDesc)
			}
			a := attrs(s)
			if got := a["error.type"].String(); got != tc.wantType {
				t.Errorf("error.type %q, want %q", got, tc.wantType)
			}
			if got := a["http.response.status_code"].String(); got != tc.wantStatus {
				t.Errorf("http.response.status_code %q, want %q", got, tc.wantStatus)
			}
			checkNoSecrets(t, spans)
		})
	}
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }

// A span is a child of the request's context, and lasts until the body is read or closed.
func TestSpanParentAndEnd(t *testing.T) {
	p := newProvider(t, nil)
	rec, tp := tracing(t)
	client := &http.Client{Transport: parloginotel.Transport(nil, parloginotel.WithTracerProvider(tp))}
	ctx, parent := tp.Tracer("app").Start(context.Background(), "GET /private")
	defer parent.End()

	tests := []struct {
		name   string
		finish func(io.ReadCloser)
	}{
		{"read to the end", func(b io.ReadCloser) { _, _ = io.ReadAll(b) }},
		{"closed unread", func(b io.ReadCloser) { b.Close() }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec.Reset()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.urls[parlogin.EndpointJWKS], nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(rec.Ended()); n != 0 {
				t.Errorf("%d spans ended before the body was read", n)
			}
			tc.finish(resp.Body)
			resp.Body.Close()
			spans := rec.Ended()
			if len(spans) != 1 {
				t.Fatalf("%d spans ended, want 1", len(spans))
			}
			if got, want := spans[0].Parent().SpanID(), parent.SpanContext().SpanID(); got != want {
				t.Errorf("parent %v, want the request's span %v", got, want)
			}
			if got, want := spans[0].SpanContext().TraceID(), parent.SpanContext().TraceID(); got != want {
				t.Errorf("trace %v, want %v", got, want)
			}
		})
	}
}

// The span's context reaches the provider only with WithPropagators, and the caller's request is
// left as it was.
func TestPropagation(t *testing.T) {
	tests := []struct {
		name string
		opts []parloginotel.Option
		want bool
	}{
		{"default", nil, false},
		{"WithPropagators", []parloginotel.Option{parloginotel.WithPropagators(propagation.TraceContext{})}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := newProvider(t, nil)
			rec, tp := tracing(t)
			client := &http.Client{Transport: parloginotel.Transport(nil,
				append(tc.opts, parloginotel.WithTracerProvider(tp))...)}
			ctx, parent := tp.Tracer("app").Start(context.Background(), "GET /private")
			defer parent.End()
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.urls[parlogin.EndpointJWKS], nil)
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.ReadAll(resp.Body)
			resp.Body.Close()

			if h := req.Header.Get("Traceparent"); h != "" {
				t.Errorf("the caller's request got a traceparent header: %s", h)
			}
			got := p.headers[0].Get("Traceparent")
			if !tc.want {
				if got != "" {
					t.Errorf("the provider got traceparent %q, want none", got)
				}
				return
			}
			span := rec.Ended()[0].SpanContext()
			if want := "00-" + span.TraceID().String() + "-" + span.SpanID().String() + "-01"; got != want {
				t.Errorf("the provider got traceparent %q, want %q", got, want)
			}
		})
	}
}
