package parloginredis

import (
	"context"
	"fmt"
	"time"
)

// Defaults of [New] and [NewStore].
const (
	// DefaultKeyPrefix starts the name of every key this package writes.
	DefaultKeyPrefix = "parlogin:"
	// DefaultTimeout bounds each call to Redis, in addition to the caller's context: parlogin
	// answers 503 rather than keep a request waiting for a Redis that does not answer.
	DefaultTimeout = 3 * time.Second
)

// Option configures [New].
type Option func(*options)

type options struct {
	prefix  string
	timeout time.Duration
}

// WithKeyPrefix sets the prefix of every key that the Shared writes; the default is
// [DefaultKeyPrefix]. Apps that share one Redis use distinct prefixes. Use the same prefix on
// every replica of an app, and do not let it contain "{}": the keys of the log share a Redis
// Cluster hash tag, "{log}".
func WithKeyPrefix(prefix string) Option {
	return func(o *options) { o.prefix = prefix }
}

// WithTimeout bounds each call to Redis; the default is [DefaultTimeout]. Zero or less leaves
// only the caller's context.
func WithTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout = d }
}

// call runs f, which talks to Redis, and returns its result, or an error once ctx ends or timeout
// has passed, whichever comes first. what names the operation in errors.
//
// go-redis honours a context's deadline on the socket only when the client was created with
// ContextTimeoutEnabled; otherwise it waits for its own ReadTimeout, and retries. The client is
// the app's, so call does not rely on it: f runs in a goroutine with the bounded context, and
// call stops waiting when that context ends. A command still in flight then finishes, or fails,
// in the background within go-redis's own timeouts; its outcome is unknown to the caller, who
// got an error.
func call[T any](ctx context.Context, timeout time.Duration, what string, f func(context.Context) (T, error)) (T, error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var zero T
	if err := ctx.Err(); err != nil {
		return zero, fmt.Errorf("parloginredis: %s: %w", what, err)
	}
	if ctx.Done() == nil { // neither a deadline nor a cancellation: nothing to stop waiting for
		v, err := f(ctx)
		if err != nil {
			return zero, fmt.Errorf("parloginredis: %s: %w", what, err)
		}
		return v, nil
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1) // buffered: a late answer does not block the goroutine
	go func() {
		v, err := f(ctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			return zero, fmt.Errorf("parloginredis: %s: %w", what, r.err)
		}
		return r.v, nil
	case <-ctx.Done():
		return zero, fmt.Errorf("parloginredis: %s: redis did not answer in time: %w", what, context.Cause(ctx))
	}
}
