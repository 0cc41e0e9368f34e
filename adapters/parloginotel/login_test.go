package parloginotel_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/sessions"
	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/adapters/parloginotel"
	"github.com/parlogin/parlogin/oidctest"
	"go.opentelemetry.io/otel/trace"
)

var (
	hashKey  = []byte("parloginotel test hash key, 32 bytes")
	blockKey = []byte("parloginotel test block key, 32B")
)

// TestLogin logs alice in through parlogin against oidctest, with Metrics as OnEvent and
// Transport in its HTTP client, then logs her out, and checks what they recorded: the events'
// counts and the login's duration, and a span per call to the provider, each a child of the
// span of the app's request that made it.
func TestLogin(t *testing.T) {
	tests := []struct {
		name  string
		envID string
	}{
		{"endpoints at the root", ""},
		{"PingOne's shape", "b6a1f3c2-5c1e-4c55-9f2d-1d2e3f4a5b6c"}, // endpoints under /{envID}/as
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := oidctest.NewUnstartedServer()
			srv.EnvID = tc.envID
			srv.Start()
			defer srv.Close()
			m, reader := metering(t)
			rec, tp := tracing(t)

			mux := http.NewServeMux()
			// The app's server spans, as otelhttp would start them.
			app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ctx, span := tp.Tracer("app").Start(r.Context(), r.Method+" "+r.URL.Path, trace.WithSpanKind(trace.SpanKindServer))
				defer span.End()
				mux.ServeHTTP(w, r.WithContext(ctx))
			}))
			defer app.Close()
			client := srv.AddClient(oidctest.Client{
				RedirectURIs:           []string{app.URL + "/auth/callback"},
				PostLogoutRedirectURIs: []string{app.URL + "/"},
			})
			auth, err := parlogin.New(context.Background(), parlogin.Config{
				Issuer:                srv.Issuer,
				ClientID:              client.ID,
				ClientSecret:          client.Secret,
				RedirectURL:           app.URL + "/auth/callback",
				PostLogoutRedirectURL: app.URL + "/",
				Store:                 sessions.NewCookieStore(hashKey, blockKey),
				OnEvent:               m.OnEvent,
				HTTPClient:            &http.Client{Transport: parloginotel.Transport(nil, parloginotel.WithTracerProvider(tp))},
				Logger:                slog.New(slog.DiscardHandler),
			})
			if err != nil {
				t.Fatal(err)
			}
			mux.Handle("/auth/", auth.Handler())
			mux.Handle("GET /private", auth.Require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				u, _ := parlogin.FromContext(r.Context())
				_, _ = io.WriteString(w, "hello, "+u.Subject)
			})))
			mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "home") })

			browser := srv.Login(t, app.URL+"/private", "alice")
			resp, err := browser.Post(app.URL+"/auth/logout", "application/x-www-form-urlencoded", nil)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()

			// Metrics: one login started and succeeded, with its duration, and one logout.
			var got []string
			for _, p := range points(t, reader) {
				// The duration's sum varies: keep the count only.
				got = append(got, strings.Split(p, " sum=")[0])
				if strings.Contains(p, "alice") {
					t.Errorf("the subject is in a data point: %s", p)
				}
			}
			iss := "parlogin.issuer=" + srv.Issuer
			checkPoints(t, got, []string{
				"parlogin.events{parlogin.event.kind=login_started," + iss + "} 1",
				"parlogin.events{parlogin.event.kind=login_succeeded," + iss + "} 1",
				"parlogin.events{parlogin.event.kind=logout," + iss + "} 1",
				"parlogin.login.duration{" + iss + "} count=1",
			})

			// Spans: discovery (in New, without parent), then one per call of the login, each
			// under the app's request that made it.
			spans := rec.Ended()
			parents := make(map[trace.SpanID]string)
			for _, s := range spans {
				parents[s.SpanContext().SpanID()] = s.Name()
			}
			var calls []string
			for _, s := range spans {
				if s.SpanKind() != trace.SpanKindClient {
					continue
				}
				call := s.Name() + " " + attrs(s)["http.response.status_code"].String()
				if parent, ok := parents[s.Parent().SpanID()]; ok {
					call += " in " + parent
				} else if s.Parent().IsValid() {
					t.Errorf("span %s: parent %v not recorded", s.Name(), s.Parent().SpanID())
				}
				calls = append(calls, call)
			}
			want := []string{
				"discovery 200",
				"par 201 in GET /private",
				"token 200 in GET /auth/callback",
				"jwks 200 in GET /auth/callback",
				"userinfo 200 in GET /auth/callback",
			}
			if !slices.Equal(calls, want) {
				t.Errorf("client spans:\n got %s\nwant %s", strings.Join(calls, "\n     "), strings.Join(want, "\n     "))
			}
			checkNoSecrets(t, spans, client.Secret, "alice")
		})
	}
}
