package parlogin

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// The provider's clock decides whether a client assertion is valid yet or expired, and its ID
// tokens' times are compared with the app's: an app clock two minutes behind PingOne's fails every
// login. parlogin measures the offset between the two clocks from the Date header of the
// provider's answers (discovery, JWKS, PAR, token…), and compares with the provider's time, the
// app's clock plus the offset, wherever a time of the provider is at stake.
const (
	// maxClockOffset bounds the offset applied: beyond it, the app's clock (or the provider's)
	// is wrong, and correcting it silently would hide that; nothing is applied, loudly. It also
	// bounds how far a forged Date header could move the app's view of the provider's time.
	maxClockOffset = 5 * time.Minute
	// clockOffsetReported is the change of the applied offset that is worth an event.
	clockOffsetReported = time.Second
	// clockWarnEvery bounds the warnings about an offset beyond maxClockOffset.
	clockWarnEvery = time.Minute
)

// clockOffset estimates the offset of the provider's clock from the app's.
type clockOffset struct {
	now    func() time.Time // the app's clock
	logger *slog.Logger
	emit   func(context.Context, Event)

	applied atomic.Int64 // nanoseconds; 0 while beyond maxClockOffset

	mu       sync.Mutex
	estimate time.Duration
	samples  int
	reported time.Duration // the applied offset last reported in an event
	warnedAt time.Time
}

// providerNow returns the provider's time: the app's clock corrected by the applied offset.
func (c *clockOffset) providerNow() time.Time {
	return c.now().Add(time.Duration(c.applied.Load()))
}

// observe takes a sample from an answer of the provider: its Date header, and the app's time when
// the request was sent and when the answer came.
func (c *clockOffset) observe(ctx context.Context, date string, sent, received time.Time) {
	d, err := http.ParseTime(date)
	if err != nil {
		return
	}
	// Date has a resolution of one second, truncated when the answer was made: its middle, against
	// the middle of the round trip.
	sample := d.Add(time.Second / 2).Sub(sent.Add(received.Sub(sent) / 2))

	c.mu.Lock()
	if c.samples == 0 {
		c.estimate = sample
	} else {
		c.estimate += (sample - c.estimate) / 4 // smoothed: one odd answer moves it a little
	}
	c.samples++
	estimate := c.estimate
	applied := estimate
	warn := false
	if applied > maxClockOffset || applied < -maxClockOffset {
		applied = 0
		if now := c.now(); now.Sub(c.warnedAt) >= clockWarnEvery {
			c.warnedAt, warn = now, true
		}
	}
	c.applied.Store(int64(applied))
	report := applied-c.reported >= clockOffsetReported || c.reported-applied >= clockOffsetReported
	if report {
		c.reported = applied
	}
	c.mu.Unlock()

	if warn {
		c.logger.ErrorContext(ctx, "parlogin: the app's clock and the provider's differ by more than parlogin corrects: fix the clock (NTP)",
			"offset", estimate.Round(time.Second), "max", maxClockOffset)
	}
	if report {
		c.logger.InfoContext(ctx, "parlogin: clock offset to the provider", "offset", applied.Round(time.Millisecond))
		c.emit(ctx, Event{Kind: EventClockOffset, Duration: applied})
	}
}
