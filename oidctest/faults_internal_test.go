package oidctest

import (
	"context"
	"testing"
	"time"
)

func TestWaitDelay(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	closed := make(chan struct{})
	close(closed)
	tests := []struct {
		name   string
		ctx    context.Context
		delay  time.Duration
		closed chan struct{}
		want   bool
	}{
		{"no delay", context.Background(), 0, nil, true},
		{"no delay, context done", cancelled, 0, nil, false},
		{"delay elapses", context.Background(), time.Millisecond, nil, true},
		{"context done before the delay", cancelled, time.Hour, nil, false},
		{"server closed before the delay", context.Background(), time.Hour, closed, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := waitDelay(tc.ctx, tc.delay, tc.closed); got != tc.want {
				t.Errorf("waitDelay = %v, want %v", got, tc.want)
			}
		})
	}
}
