package parlogin

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
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
	// clockSamples is how many of the latest samples the estimate is the median of: one or two odd
	// answers (a provider node with a wrong clock) do not move it, and a change of either clock
	// shows within three answers.
	clockSamples = 5
)

// clockOffset estimates the offset of the provider's clock from the app's.
type clockOffset struct {
	now    func() time.Time // the app's clock
	logger *slog.Logger
	emit   func(context.Context, Event)

	applied atomic.Int64 // nanoseconds; 0 while beyond maxClockOffset

	mu       sync.Mutex
	samples  [clockSamples]time.Duration // the latest, in a ring
	taken    int                         // samples taken, up to clockSamples
	next     int                         // where in the ring the next sample goes
	reported time.Duration               // the applied offset last reported in an event
	warnedAt time.Time
}

// estimate returns the median of the samples; of two middle ones, the smaller offset, so that an
// odd second answer does not move the first by half its error. c.mu is held.
func (c *clockOffset) estimate() time.Duration {
	sorted := c.samples
	s := sorted[:c.taken]
	slices.Sort(s)
	mid := s[len(s)/2]
	if len(s)%2 == 0 && s[len(s)/2-1].Abs() < mid.Abs() {
		mid = s[len(s)/2-1]
	}
	return mid
}

// providerNow returns the provider's time: the app's clock corrected by the applied offset.
func (c *clockOffset) providerNow() time.Time {
	return c.now().Add(time.Duration(c.applied.Load()))
}

// observe takes a sample from an answer of the provider: its Date header, and the app's time when
// the request was sent and when the answer came. An answer with an Age header comes from a cache
// (RFC 9111 §5.1): its Date is the provider's time when the cache got it, not now.
func (c *clockOffset) observe(ctx context.Context, h http.Header, sent, received time.Time) {
	if h.Get("Age") != "" {
		return
	}
	d, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return
	}
	// Date has a resolution of one second, truncated when the answer was made: its middle, against
	// the middle of the round trip.
	sample := d.Add(time.Second / 2).Sub(sent.Add(received.Sub(sent) / 2))

	c.mu.Lock()
	c.samples[c.next] = sample
	c.next = (c.next + 1) % clockSamples
	c.taken = min(c.taken+1, clockSamples)
	estimate := c.estimate()
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
