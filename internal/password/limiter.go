package password

import (
	"context"
	"errors"
	"runtime"
)

// ErrBusy is returned by Limiter.Do when the wait queue is full: the caller
// should answer 503 with Retry-After rather than queue without bound.
var ErrBusy = errors.New("password: hashing queue full")

// Limiter bounds how many hashes run at once (each argon2id hash holds its
// memory parameter for its whole run) and how many callers may wait, so a
// login flood costs bounded memory and is shed quickly.
type Limiter struct {
	slots chan struct{}
	queue chan struct{}
}

// NewLimiter allows running hashes at once and waiting more in line. Zero
// values pick defaults: running = GOMAXPROCS, waiting = 4 × running.
func NewLimiter(running, waiting int) *Limiter {
	if running <= 0 {
		running = runtime.GOMAXPROCS(0)
	}
	if waiting <= 0 {
		waiting = 4 * running
	}
	return &Limiter{slots: make(chan struct{}, running), queue: make(chan struct{}, running+waiting)}
}

// Do runs f when a slot is free. It returns ErrBusy at once if the queue is
// full, or ctx.Err() if ctx ends while waiting. Safe for concurrent use.
func (l *Limiter) Do(ctx context.Context, f func()) error {
	select {
	case l.queue <- struct{}{}:
	default:
		return ErrBusy
	}
	defer func() { <-l.queue }()
	select {
	case l.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-l.slots }()
	f()
	return nil
}

// Waiting reports how many callers are queued or running (for metrics).
func (l *Limiter) Waiting() int { return len(l.queue) }
