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
	date := func(offset time.Duration) string { return app.Add(offset).UTC().Format(http.TimeFormat) }
	observe := func(offset time.Duration) time.Duration {
		c.observe(context.Background(), date(offset), app, app)
		return c.providerNow().Sub(app)
	}
	if got := observe(2 * time.Minute); (got - 2*time.Minute).Abs() > time.Second {
		t.Fatalf("after one sample 2 min ahead: %v", got)
	}
	if len(events) != 1 || (events[0].Duration-2*time.Minute).Abs() > time.Second {
		t.Fatalf("events %+v", events)
	}
	// One odd answer moves the estimate a quarter of the way, not all of it.
	if got := observe(6 * time.Minute); got < 2*time.Minute || got > 4*time.Minute {
		t.Fatalf("after one odd sample: %v", got)
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
	c.observe(context.Background(), "not a date", app, app)
	if got := c.providerNow().Sub(app); got != 0 {
		t.Fatalf("a malformed Date changed the offset to %v", got)
	}
}
