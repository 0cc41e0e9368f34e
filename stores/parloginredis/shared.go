package parloginredis

import (
	"context"
	"errors"
	"time"

	"github.com/parlogin/parlogin"
	"github.com/redis/go-redis/v9"
)

// Shared is a [parlogin.Shared] in Redis: give every replica of an app a Shared with the same
// key prefix, on the same Redis, as [parlogin.Config.Shared]. Create it with [New]; it is safe
// for concurrent use.
//
// Claims and values are kept under the prefix + "shared:" + key. Their expiries are absolute
// times (PXAT) that Redis's clock decides, not parlogin.Config.Now: keep the clocks of the app's
// hosts and of Redis in step, as parlogin's own checks need anyway. (A test clock set behind
// Redis's would make claims expire at once, and replays pass.)
//
// The log ([Shared.Publish], [Shared.Read]) is a sorted set of the messages by sequence number,
// a sorted set of the numbers by expiry, and a hash of the last number and an epoch, a random
// token naming the log's history. Each Publish deletes expired messages wherever they are in the
// log (expiries differ from message to message), so the log's memory stays that of the messages
// live at the last Publish; a Redis stream, whose memory is freed a node of up to 100 entries at
// a time, would keep expired messages alive beside each live one. When Redis loses the log (a
// restart without persistence, a failover to a replica behind), the next Publish starts a new
// history, and a cursor of an older one reads the new history from its start: no message
// published since is missed.
//
// Every method fails when Redis cannot be reached, or does not answer within the context or the
// timeout ([WithTimeout]); the error wraps go-redis's error or the context's, so that
// errors.Is(err, context.DeadlineExceeded) and a *net.OpError can be told apart.
type Shared struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
	log     logKeys
}

var _ parlogin.Shared = (*Shared)(nil)

// New returns a [Shared] that keeps parlogin's shared state in the Redis of client: a single
// server, a Sentinel failover set or a Cluster. The client stays the app's to configure and close.
func New(client redis.UniversalClient, opts ...Option) *Shared {
	o := options{prefix: DefaultKeyPrefix, timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	return &Shared{client: client, prefix: o.prefix, timeout: o.timeout, log: newLogKeys(o.prefix)}
}

func (s *Shared) key(key string) string { return s.prefix + "shared:" + key }

// pxat returns exp as a PXAT argument, in Unix milliseconds: Redis refuses a time before 1970, so
// times before then become the earliest it accepts, which has passed. The command is spelled out
// rather than built with go-redis's SetArgs, whose ExpireAt is EXAT, whole seconds, in some
// versions.
func pxat(exp time.Time) int64 {
	return max(exp.UnixMilli(), 1)
}

// Claim stores key until exp unless it is stored already (SET NX PXAT), and reports whether it
// stored it: of concurrent claims of one key, from any replica, Redis lets exactly one succeed.
// A claimed key holds an empty value.
func (s *Shared) Claim(ctx context.Context, key string, exp time.Time) (bool, error) {
	return call(ctx, s.timeout, "claiming a key", func(ctx context.Context) (bool, error) {
		err := s.client.Do(ctx, "SET", s.key(key), "", "NX", "PXAT", pxat(exp)).Err()
		if errors.Is(err, redis.Nil) {
			return false, nil // stored already
		}
		return err == nil, err
	})
}

// Set stores value under key until exp (SET PXAT), replacing any earlier value or claim.
func (s *Shared) Set(ctx context.Context, key string, value []byte, exp time.Time) error {
	_, err := call(ctx, s.timeout, "setting a key", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.client.Do(ctx, "SET", s.key(key), value, "PXAT", pxat(exp)).Err()
	})
	return err
}

// Get returns the value stored under key, or nil and no error when there is none (expired,
// deleted, or never stored). The value of a claimed key is empty but not nil.
func (s *Shared) Get(ctx context.Context, key string) ([]byte, error) {
	return call(ctx, s.timeout, "getting a key", func(ctx context.Context) ([]byte, error) {
		v, err := s.client.Get(ctx, s.key(key)).Bytes()
		switch {
		case errors.Is(err, redis.Nil):
			return nil, nil
		case err != nil:
			return nil, err
		case v == nil:
			return []byte{}, nil
		}
		return v, nil
	})
}

// Delete removes key, if it is stored.
func (s *Shared) Delete(ctx context.Context, key string) error {
	_, err := call(ctx, s.timeout, "deleting a key", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.client.Del(ctx, s.key(key)).Err()
	})
	return err
}
