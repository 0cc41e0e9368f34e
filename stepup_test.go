package parlogin

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/parlogin/parlogin/oidctest"
)

var mfa = Policy{ACR: []string{"urn:example:mfa", "urn:example:hwk"}, MaxAge: 5 * time.Minute}

// stepUpHarness is an app whose /pay route demands mfa, and whose user signed in with a password.
func stepUpHarness(t *testing.T, clk *clock, opts ...func(*Config)) (*harness, *eventLog) {
	t.Helper()
	var events eventLog
	h := newHarness(t, harnessOptions{config: func(c *Config) {
		c.Now = clk.Now
		c.OnEvent = events.add
		for _, o := range opts {
			o(c)
		}
	}})
	h.op.SetClock(clk.Now)
	routes := h.routes()
	mux := http.NewServeMux()
	mux.Handle("/pay", h.auth.RequirePolicy(mfa)(whoami))
	mux.Handle("/", routes)
	h.serve(mux)
	h.login("/private")
	return h, &events
}

func TestStepUp(t *testing.T) {
	clk := newClock()
	h, events := stepUpHarness(t, clk)
	before := h.cookie("__Host-parlogin")

	resp := h.api("/pay")
	if resp.StatusCode != http.StatusUnauthorized || !errors.Is(h.errs.last(), ErrInsufficientAuthentication) {
		t.Fatalf("API call without the acr = %d, %v", resp.StatusCode, h.errs.last())
	}
	want := `Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="urn:example:mfa urn:example:hwk", max_age=300`
	if got := resp.Header.Get("WWW-Authenticate"); got != want {
		t.Errorf("WWW-Authenticate = %s\nwant %s", got, want)
	}

	toProvider := h.toProvider("/pay?amount=10")
	par := h.op.Requests(EndpointPAR)
	if q := par[len(par)-1]; q.Get("acr_values") != "urn:example:mfa urn:example:hwk" || q.Get("max_age") != "300" || q.Has("prompt") {
		t.Fatalf("step-up pushed %v", q)
	}
	if e, ok := events.last(EventStepUp); !ok || e.Subject != "alice" || e.Reason != "" {
		t.Errorf("step-up event %+v", e)
	}
	page := h.follow(h.callback(h.authorize(toProvider)))
	if got := jsonBody(t, page); got["sub"] != "alice" || got["path"] != "/pay?amount=10" {
		t.Fatalf("after the step-up: %v", got)
	}
	u := mustUser(t, h.auth, page.Request)
	if u.ACR != "urn:example:mfa" || len(u.AMR) == 0 {
		t.Errorf("session after the step-up: acr %q amr %v", u.ACR, u.AMR)
	}
	if resp := h.api("/pay"); resp.StatusCode != http.StatusOK {
		t.Fatalf("API call after the step-up = %d", resp.StatusCode)
	}

	// The session from before the step-up does not meet the policy, whoever replays it.
	replay := newHarnessBrowser(h)
	replay.setCookie(before.Name, before.Value)
	if resp := replay.api("/pay"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the session from before the step-up, replayed = %d, want 401", resp.StatusCode)
	}

	// The authentication grows old: max_age asks for a new one.
	clk.Add(6 * time.Minute)
	h.op.SetClock(clk.Now)
	if resp := h.api("/pay"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("an authentication older than MaxAge = %d, want 401", resp.StatusCode)
	}
	if page := h.login("/pay"); jsonBody(t, page)["path"] != "/pay" {
		t.Errorf("after a second step-up: %s", readBody(page))
	}
}

// A provider that answers a lower acr than the step-up asked for is refused, as any login's; the
// user lands on an error page, not in a loop.
func TestStepUpLowerACR(t *testing.T) {
	clk := newClock()
	h, _ := stepUpHarness(t, clk)
	h.op.SetUser(oidctest.User{Subject: "alice", ACR: "urn:example:pwd"})
	resp := h.callback(h.authorize(h.toProvider("/pay")))
	if resp.StatusCode != http.StatusBadGateway || !errors.Is(h.errs.last(), ErrInvalidIDToken) {
		t.Fatalf("a lower acr: %d, %v", resp.StatusCode, h.errs.last())
	}
	if resp := h.api("/private"); resp.StatusCode != http.StatusOK {
		t.Fatalf("the session before the refused step-up = %d, want it kept", resp.StatusCode)
	}
}

// A step-up that comes back as another user replaces the session, and says so.
func TestStepUpAnotherUser(t *testing.T) {
	clk := newClock()
	h, events := stepUpHarness(t, clk)
	h.op.SetUser(oidctest.User{Subject: "bob"})
	page := h.follow(h.callback(h.authorize(h.toProvider("/pay"))))
	if got := jsonBody(t, page); got["sub"] != "bob" {
		t.Fatalf("after a step-up as bob: %v", got)
	}
	if e, ok := events.last(EventStepUp); !ok || e.Subject != "bob" || e.Reason != "subject_changed" {
		t.Errorf("event %+v, want a step-up that changed the subject", e)
	}
}

func TestStepUpPromptLogin(t *testing.T) {
	clk := newClock()
	h, _ := stepUpHarness(t, clk)
	routes := h.routes()
	h.serve(h.auth.RequirePolicy(Policy{MaxAge: time.Minute, PromptLogin: true})(routes))
	clk.Add(2 * time.Minute)
	h.toProvider("/private")
	par := h.op.Requests(EndpointPAR)
	if q := par[len(par)-1]; q.Get("prompt") != "login" || q.Get("max_age") != "60" || q.Has("acr_values") {
		t.Fatalf("step-up pushed %v", q)
	}
}

func TestPolicyCheck(t *testing.T) {
	at := time.Unix(1_800_000_000, 0)
	now := func() time.Time { return at }
	u := &User{ACR: "a", AuthTime: at.Add(-time.Minute)}
	for _, tc := range []struct {
		p    Policy
		want string
	}{
		{Policy{}, ""},
		{Policy{ACR: []string{"b", "a"}}, ""},
		{Policy{ACR: []string{"b"}}, "acr"},
		{Policy{MaxAge: 2 * time.Minute}, ""},
		{Policy{MaxAge: 30 * time.Second}, "max_age"},
	} {
		if got := tc.p.check(u, now, 0); got != tc.want {
			t.Errorf("%+v.check = %q, want %q", tc.p, got, tc.want)
		}
	}
	if got := (Policy{MaxAge: time.Hour}).check(&User{}, now, 0); got != "max_age" {
		t.Errorf("no auth_time against a MaxAge = %q", got)
	}
	if q := (Policy{ACR: []string{"x y"}, MaxAge: 1500 * time.Millisecond}).params(); q["max_age"] != "1" {
		t.Errorf("params %v", url.Values{"max_age": {q["max_age"]}})
	}
}
