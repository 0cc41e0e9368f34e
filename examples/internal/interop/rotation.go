package interop

import (
	"context"
	"crypto/rand"
	"strings"
	"testing"
	"time"

	"github.com/parlogin/parlogin"
	"github.com/parlogin/parlogin/examples/internal/browser"
	"github.com/parlogin/parlogin/examples/internal/exampletest"
)

// SecretRotation rotates the example's client secret at run time, the app first, against
// oidc-provider: while the provider still has the previous secret, it refuses assertions signed
// with the new one (invalid_client) and parlogin signs again with the previous; once the client is
// registered with the new secret, that one is accepted. No login fails.
func SecretRotation(t *testing.T, app exampletest.App) {
	p := Start(t)
	a := StartApp(t, p, app, "HS256", nil, nil)
	login := func(step string) {
		t.Helper()
		if page := Login(t, browser.NewT(t, nil), a.URL, "/private", "alice"); !strings.Contains(page.Body, `<strong id="sub">alice</strong>`) {
			t.Fatalf("%s: login ended on %d %s", step, page.Status, page.URL)
		}
	}
	newSecret := rand.Text() + rand.Text() + rand.Text()
	if err := a.Auth.SetClientSecret(newSecret, time.Hour); err != nil {
		t.Fatal(err)
	}
	login("the app has the new secret, the provider the previous one")
	if !strings.Contains(a.Log.String(), "accepted the previous one") {
		t.Fatalf("the fallback to the previous secret is not logged:\n%s", a.Log)
	}
	c := a.Client
	c.Secret = newSecret
	p.Register(t, c) // the provider's turn
	login("both have the new secret")
	if !strings.Contains(a.Log.String(), "the provider accepted the new client secret") {
		t.Fatalf("the new secret's acceptance is not logged:\n%s", a.Log)
	}
}

// ClockOffset runs logins with the app's clock two minutes off oidc-provider's, ahead and behind:
// parlogin measures the offset from the provider's Date headers and corrects the assertions' times
// and the ID token's checks, which would fail otherwise (oidc-provider refuses an assertion that
// has expired by its clock, and parlogin an ID token issued in its future).
func ClockOffset(t *testing.T, app exampletest.App) {
	p := Start(t)
	for _, offset := range []time.Duration{2 * time.Minute, -2 * time.Minute} {
		t.Run(offset.String(), func(t *testing.T) {
			var offsets []time.Duration
			a := StartApp(t, p, app, "HS256", nil, func(c *parlogin.Config) {
				c.Now = func() time.Time { return time.Now().Add(offset) }
				c.OnEvent = func(_ context.Context, e parlogin.Event) {
					if e.Kind == parlogin.EventClockOffset {
						offsets = append(offsets, e.Duration)
					}
				}
			})
			if page := Login(t, browser.NewT(t, nil), a.URL, "/private", "alice"); !strings.Contains(page.Body, `<strong id="sub">alice</strong>`) {
				t.Fatalf("login with the app's clock %v off: %d %s", offset, page.Status, page.URL)
			}
			if len(offsets) == 0 || (offsets[len(offsets)-1]+offset).Abs() > 2*time.Second {
				t.Fatalf("measured offsets %v, want about %v", offsets, -offset)
			}
		})
	}
}
