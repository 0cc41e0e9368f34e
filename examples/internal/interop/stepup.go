package interop

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/examples/internal/browser"
	"github.com/parlogin/parlogin/examples/internal/exampletest"
)

// The authentication context classes of the harness (interop/op/server.mjs): a password, and a
// password with a second factor, which it asserts when acr_values ask for it.
const (
	acrPassword = "urn:example:pwd"
	acrMFA      = "urn:example:mfa"
)

// stepUpRoutes adds to the example's routes a page for each Policy of the step-up tests, and
// /whoami for any signed-in user; each answers the user's authentication as JSON.
func stepUpRoutes(app exampletest.App) exampletest.App {
	return exampletest.App{Config: app.Config, Routes: func(auth *parlogin.Middleware, saveTokens bool) http.Handler {
		show := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u, _ := parlogin.FromContext(r.Context())
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(authentication{Subject: u.Subject, ACR: u.ACR, AuthTime: u.AuthTime.Unix()})
		})
		mux := http.NewServeMux()
		mux.Handle("/", app.Routes(auth, saveTokens))
		mux.Handle("GET /whoami", auth.Require(show))
		mux.Handle("GET /mfa", auth.RequirePolicy(parlogin.Policy{ACR: []string{acrMFA}, PromptLogin: true})(show))
		mux.Handle("GET /mfa-if-asked", auth.RequirePolicy(parlogin.Policy{ACR: []string{acrMFA}})(show))
		mux.Handle("GET /recent", auth.RequirePolicy(parlogin.Policy{MaxAge: 5 * time.Minute})(show))
		return mux
	}}
}

// authentication is what the step-up pages answer.
type authentication struct {
	Subject  string `json:"sub"`
	ACR      string `json:"acr"`
	AuthTime int64  `json:"auth_time"`
}

// StepUp checks step-up authentication against oidc-provider (OpenID Connect's acr_values and
// max_age; RFC 9470's Policy), through routes protected with auth.RequirePolicy that the test adds
// to the example's: a signed-in user who authenticated with a password, or too long ago, is sent
// through a new pushed login that asks for what the route's Policy demands, and comes back with
// it; the provider's answer is held to it.
func StepUp(t *testing.T, app exampletest.App) {
	p := Start(t)
	app = stepUpRoutes(app)

	t.Run("acr with prompt=login", func(t *testing.T) {
		a, pushed := startStepUpApp(t, p, app, false)
		b := browser.NewT(t, nil)
		Login(t, b, a.URL, "/private", "alice")
		// oidc-provider puts an acr in ID tokens only when acr_values ask for one.
		if who := whoami(t, b, a.URL+"/whoami"); who.ACR != "" {
			t.Fatalf("after a plain login: %+v, want no acr", who)
		}
		// A script's call cannot be sent to sign in: it is told what to ask for (RFC 9470 §3).
		api := b.Fetch(a.URL + "/mfa")
		if challenge := api.Header.Get("WWW-Authenticate"); api.Status != http.StatusUnauthorized ||
			!strings.Contains(challenge, `error="insufficient_user_authentication"`) || !strings.Contains(challenge, `acr_values="`+acrMFA+`"`) {
			t.Fatalf("a script's call to /mfa = %d, WWW-Authenticate: %s", api.Status, challenge)
		}

		page := b.Get(a.URL + "/mfa") // a navigation: the step-up
		if !strings.Contains(page.Body, `name="login"`) {
			t.Fatalf("/mfa did not lead to the provider's login page (prompt=login): %d %s", page.Status, page.URL)
		}
		step := pushed.last(t)
		if step.Get("acr_values") != acrMFA || step.Get("prompt") != "login" || step.Has("max_age") {
			t.Fatalf("the step-up's pushed request asked for %v, want acr_values=%s and prompt=login", step, acrMFA)
		}
		page = signIn(t, b, page, "alice")
		var got authentication
		if page.URL.Path != "/mfa" || json.Unmarshal([]byte(page.Body), &got) != nil ||
			got.Subject != "alice" || got.ACR != acrMFA {
			t.Fatalf("after the step-up: %d %s %s, want /mfa for alice with acr %s", page.Status, page.URL, page.Body, acrMFA)
		}
		if log := a.Log.String(); !strings.Contains(log, `msg="parlogin: step-up" sub=alice unmet=acr`) {
			t.Fatalf("the app's log does not report the step-up:\n%s", log)
		}
		if who := whoami(t, b, a.URL+"/whoami"); who.ACR != acrMFA {
			t.Fatalf("the session after the step-up: %+v", who)
		}
	})

	// oidc-provider treats acr_values as voluntary (OpenID Connect Core §3.1.2.1): for a user
	// signed in already, it answers at once with the acr of that sign-in. parlogin refuses the
	// answer and keeps the session it had.
	t.Run("acr without prompt=login", func(t *testing.T) {
		a, pushed := startStepUpApp(t, p, app, false)
		b := browser.NewT(t, nil)
		Login(t, b, a.URL, "/private", "alice")
		before := whoami(t, b, a.URL+"/whoami")
		page := b.Get(a.URL + "/mfa-if-asked")
		if step := pushed.last(t); step.Get("acr_values") != acrMFA || step.Has("prompt") {
			t.Fatalf("the step-up's pushed request asked for %v, want acr_values=%s and no prompt", step, acrMFA)
		}
		if page.Status != http.StatusBadGateway || page.URL.Path != "/auth/callback" ||
			!strings.Contains(page.Body, "The answer of the sign-in service could not be verified") {
			t.Fatalf("a step-up answered with a password's acr: %d %s\n%s\nwant parlogin's 502 page", page.Status, page.URL, page.Body)
		}
		if log := a.Log.String(); !strings.Contains(log, `acr \"`+acrPassword+`\" is not one of the requested acr_values`) {
			t.Fatalf("the app's log does not say why the step-up failed:\n%s", log)
		}
		if who := whoami(t, b, a.URL+"/whoami"); who.ACR != before.ACR || who.AuthTime != before.AuthTime {
			t.Fatalf("the session after the failed step-up: %+v, want the first one, %+v", who, before)
		}
	})

	t.Run("max_age", func(t *testing.T) {
		a, pushed := startStepUpApp(t, p, app, true)
		b := browser.NewT(t, nil)
		// Signed in ten minutes ago, as far as the provider knows: the harness's auth_age.
		page := b.Get(a.URL + "/private")
		page = b.Submit(page, map[string]string{"login": "alice", "password": "any", "auth_age": "600"})
		if strings.Contains(page.Body, `value="consent"`) {
			b.Submit(page, nil)
		}
		first := whoami(t, b, a.URL+"/whoami")
		if age := time.Since(time.Unix(first.AuthTime, 0)); age < 10*time.Minute || age > 11*time.Minute {
			t.Fatalf("auth_time %v ago, want ten minutes", age)
		}

		page = b.Get(a.URL + "/recent") // at most five minutes: the step-up
		if step := pushed.last(t); step.Get("max_age") != "300" || step.Has("prompt") || step.Has("acr_values") {
			t.Fatalf("the step-up's pushed request asked for %v, want max_age=300 only", step)
		}
		// oidc-provider honours max_age: its session is older, so it asks for the password again.
		if !strings.Contains(page.Body, `name="login"`) {
			t.Fatalf("/recent did not lead to the provider's login page: %d %s", page.Status, page.URL)
		}
		page = signIn(t, b, page, "alice")
		var got authentication
		if page.URL.Path != "/recent" || json.Unmarshal([]byte(page.Body), &got) != nil || got.Subject != "alice" {
			t.Fatalf("after the step-up: %d %s %s", page.Status, page.URL, page.Body)
		}
		if age := time.Since(time.Unix(got.AuthTime, 0)); age > time.Minute {
			t.Fatalf("after the step-up auth_time is %v ago, want now", age)
		}
		if log := a.Log.String(); !strings.Contains(log, `msg="parlogin: step-up" sub=alice unmet=max_age`) {
			t.Fatalf("the app's log does not report the step-up:\n%s", log)
		}
		n := pushed.count()
		if page := b.Get(a.URL + "/recent"); page.URL.Path != "/recent" || pushed.count() != n {
			t.Fatalf("a recent authentication was sent to authenticate again: %s, %d pushed requests", page.URL, pushed.count()-n)
		}
	})
}

// startStepUpApp starts app against p, as a client whose ID tokens always carry auth_time when
// authTime is set, and returns it with the pushed authorization requests it sends.
func startStepUpApp(t *testing.T, p *Provider, app exampletest.App, authTime bool) (*App, *pushedRequests) {
	t.Helper()
	pushed := &pushedRequests{}
	client := &http.Client{Transport: pushed.recorder(http.DefaultTransport)}
	return startApp(t, p, app, exampletest.Public{}, client, Client{AuthAlg: "HS256", RequireAuthTime: authTime}, nil, nil), pushed
}

func whoami(t *testing.T, b *browser.T, target string) authentication {
	t.Helper()
	var who authentication
	if page := b.Fetch(target); page.Status != http.StatusOK || json.Unmarshal([]byte(page.Body), &who) != nil {
		t.Fatalf("%s = %d %s", target, page.Status, page.Body)
	}
	return who
}

// pushedRequests are the parameters of the pushed authorization requests an app sent, read by a
// transport of its HTTP client (oidc-provider's PAR endpoint is /request).
type pushedRequests struct {
	mu   sync.Mutex
	list []url.Values
}

func (ps *pushedRequests) recorder(next http.RoundTripper) http.RoundTripper {
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		if r.Method == http.MethodPost && r.URL.Path == "/request" && r.Body != nil {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				return nil, err
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			params, _ := url.ParseQuery(string(body))
			params.Del("client_assertion")
			ps.mu.Lock()
			ps.list = append(ps.list, params)
			ps.mu.Unlock()
		}
		return next.RoundTrip(r)
	})
}

func (ps *pushedRequests) last(t *testing.T) url.Values {
	t.Helper()
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if len(ps.list) == 0 {
		t.Fatal("no pushed authorization request")
	}
	return ps.list[len(ps.list)-1]
}

func (ps *pushedRequests) count() int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return len(ps.list)
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
