package parlogin

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"
)

func TestClockOffsetEstimate(t *testing.T) {
	app := time.Unix(1_800_000_000, 0)
	var events []Event
	c := &clockOffset{now: func() time.Time { return app }, logger: slog.New(slog.DiscardHandler),
		emit: func(_ context.Context, e Event) { events = append(events, e) }}
	answer := func(offset time.Duration, age string) time.Duration {
		h := http.Header{"Date": {app.Add(offset).UTC().Format(http.TimeFormat)}}
		if age != "" {
			h.Set("Age", age)
		}
		c.observe(context.Background(), h, app, app)
		return c.providerNow().Sub(app)
	}
	observe := func(offset time.Duration) time.Duration { return answer(offset, "") }
	near := func(got, want time.Duration) bool { return (got - want).Abs() <= time.Second }

	// A cached answer's Date is the time the cache got it (a discovery document behind a CDN):
	// not a sample.
	if got := answer(-16*time.Minute, "960"); got != 0 || len(events) != 0 {
		t.Fatalf("a cached answer with an old Date applied %v", got)
	}
	if got := observe(2 * time.Minute); !near(got, 2*time.Minute) {
		t.Fatalf("after one sample 2 min ahead: %v", got)
	}
	if len(events) != 1 || !near(events[0].Duration, 2*time.Minute) {
		t.Fatalf("events %+v", events)
	}
	// One or two odd answers, such as a provider node with a wrong clock, do not move it, nor
	// flip its sign.
	for i, odd := range []time.Duration{-16 * time.Minute, 4 * time.Minute} {
		if got := observe(odd); !near(got, 2*time.Minute) {
			t.Fatalf("after odd answer %d (%v): %v", i+1, odd, got)
		}
		observe(2 * time.Minute)
	}
	if got := observe(-3 * time.Minute); !near(got, 2*time.Minute) {
		t.Fatalf("after two odd answers among five: %v", got)
	}
	// A change of either clock shows within three answers.
	for range 3 {
		observe(time.Minute)
	}
	if got := c.providerNow().Sub(app); !near(got, time.Minute) {
		t.Fatalf("after three answers 1 min ahead: %v", got)
	}
	// A forged Date cannot push the applied offset beyond maxClockOffset: past it, nothing applies.
	for range 10 {
		if got := observe(3 * time.Hour); got.Abs() > maxClockOffset {
			t.Fatalf("applied %v, beyond %v", got, maxClockOffset)
		}
	}
	if got := c.providerNow().Sub(app); got != 0 {
		t.Fatalf("an estimate beyond the bound applies %v, want nothing", got)
	}
	c.observe(context.Background(), http.Header{"Date": {"not a date"}}, app, app)
	if got := c.providerNow().Sub(app); got != 0 {
		t.Fatalf("a malformed Date changed the offset to %v", got)
	}
}
