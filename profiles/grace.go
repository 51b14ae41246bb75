package profiles

import (
	"context"
	"errors"
	"sync"
	"time"
)

// GracePeriod is how long a renewal whose request may already have reached
// the network goes on after an interruption (Ctrl-C, SIGTERM): long enough
// to read the answer and store a rotated refresh token, which the network
// has already made the only valid one.
const GracePeriod = 10 * time.Second

// ErrNotStarted: the work was interrupted before it reached the network;
// nothing was sent, nothing can have been lost.
var ErrNotStarted = errors.New("not started: interrupted")

type abortKey struct{}

// WithAbort attaches a second, harder stop to ctx: cancelling ctx (the
// first Ctrl-C) stops new renewals but lets those in flight finish within
// GracePeriod; abort being done (a second Ctrl-C) ends them at once, and
// those then report that their grant may be lost.
func WithAbort(ctx, abort context.Context) context.Context {
	return context.WithValue(ctx, abortKey{}, abort)
}

// inFlight is the context for work that must finish once it has begun (a
// renewal's request and the storing of its answer): it outlives ctx's
// cancellation by at most GracePeriod, and ends with the abort context or
// at ctx's deadline.
// release must be called when the work is done.
func (m *Manager) inFlight(ctx context.Context) (work context.Context, release func()) {
	work, cancel := context.WithCancel(context.WithoutCancel(ctx))
	if d, ok := ctx.Deadline(); ok {
		// A caller's deadline is a bound it chose; only an interruption
		// gets the grace period.
		var cancelD context.CancelFunc
		work, cancelD = context.WithDeadline(work, d)
		prev := cancel
		cancel = func() { cancelD(); prev() }
	}
	var mu sync.Mutex
	var timer *time.Timer
	stopGrace := context.AfterFunc(ctx, func() {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return // work ends at the same deadline
		}
		mu.Lock()
		defer mu.Unlock()
		timer = time.AfterFunc(m.grace(), cancel)
	})
	stopAbort := func() bool { return false }
	if abort, ok := ctx.Value(abortKey{}).(context.Context); ok && abort != nil {
		stopAbort = context.AfterFunc(abort, cancel)
	}
	return work, func() {
		stopGrace()
		stopAbort()
		mu.Lock()
		if timer != nil {
			timer.Stop()
		}
		mu.Unlock()
		cancel()
	}
}

func (m *Manager) grace() time.Duration {
	if m.opts.Grace > 0 {
		return m.opts.Grace
	}
	return GracePeriod
}
