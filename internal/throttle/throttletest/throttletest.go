// Package throttletest is the contract every throttle.Limiter meets, as one
// test suite: the in-memory limiter runs it, and so must a shared one (Redis,
// PostgreSQL) before it may replace it.
package throttletest

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/throttle"
)

// Clock is a clock that moves only when told, so time tests are exact. It
// is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock stopped at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time; pass c.Now where a func() time.Time is wanted.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// T0 is where every case's clock starts: an arbitrary instant, not the zero
// time, so an implementation that confuses "unset" with "the epoch" fails.
var T0 = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// policy is the suite's policy: small numbers keep the cases readable.
var policy = throttle.Policy{MaxFailures: 3, Window: 10 * time.Minute, BanTime: time.Minute, MaxBan: 5 * time.Minute}

type op string

const (
	check op = "Check"
	fail  op = "Fail"
	reset op = "Reset"
)

// step is one call: at is the time since T0, key "" means alice, want is
// the wait Check or Fail must return. After every Fail the suite also calls
// Check at the same instant and wants the same wait.
type step struct {
	at   time.Duration
	op   op
	key  string
	want time.Duration
}

const alice = "user:alice"

// locked are the steps that lock alice at 0 for policy.BanTime.
var locked = []step{
	{at: 0, op: fail, want: 0},
	{at: 0, op: fail, want: 0},
	{at: 0, op: fail, want: time.Minute},
}

func then(base []step, more ...step) []step { return append(append([]step(nil), base...), more...) }

const (
	s = time.Second
	m = time.Minute
)

var cases = []struct {
	name  string
	steps []step
}{
	{name: "below the threshold nothing waits", steps: []step{
		{at: 0, op: fail, want: 0},
		{at: 1 * m, op: fail, want: 0},
		{at: 9 * m, op: check, want: 0},
	}},
	{name: "Check counts nothing", steps: []step{
		{at: 0, op: check, want: 0},
		{at: 0, op: check, want: 0},
		{at: 0, op: check, want: 0},
		{at: 0, op: fail, want: 0},
		{at: 0, op: fail, want: 0},
		{at: 0, op: check, want: 0},
	}},
	{name: "MaxFailures within Window lock for BanTime", steps: []step{
		{at: 0, op: fail, want: 0},
		{at: 1 * m, op: fail, want: 0},
		{at: 2 * m, op: fail, want: 1 * m},
		{at: 2*m + 30*s, op: check, want: 30 * s},
		{at: 3*m - 1*s, op: check, want: 1 * s},
		{at: 3 * m, op: check, want: 0},
	}},
	{name: "failures while locked neither extend nor escalate", steps: then(locked,
		step{at: 10 * s, op: fail, want: 50 * s},
		step{at: 59 * s, op: fail, want: 1 * s},
		step{at: 1 * m, op: check, want: 0},
		step{at: 1 * m, op: fail, want: 2 * m},
		step{at: 1*m + 30*s, op: fail, want: 90 * s},
		step{at: 3 * m, op: check, want: 0},
	)},
	{name: "each lock after a lock doubles up to MaxBan", steps: then(locked,
		step{at: 1 * m, op: fail, want: 2 * m},
		step{at: 3 * m, op: fail, want: 4 * m},
		step{at: 7 * m, op: fail, want: 5 * m},
		step{at: 12 * m, op: fail, want: 5 * m},
		step{at: 16 * m, op: check, want: 1 * m},
	)},
	{name: "backoff is remembered until Window after the lock ends", steps: then(locked,
		step{at: 11*m - 1*s, op: fail, want: 2 * m},
	)},
	{name: "a quiet Window after a lock forgets the key", steps: then(locked,
		step{at: 11 * m, op: fail, want: 0},
		step{at: 11 * m, op: fail, want: 0},
		step{at: 11 * m, op: fail, want: 1 * m},
	)},
	{name: "a failure counts for exactly Window", steps: []step{
		{at: 0, op: fail, want: 0},
		{at: 5 * m, op: fail, want: 0},
		{at: 10 * m, op: fail, want: 0}, // the first is forgotten: two remain
		{at: 15*m - 1*s, op: fail, want: 1 * m},
	}},
	{name: "failures older than Window are forgotten", steps: []step{
		{at: 0, op: fail, want: 0},
		{at: 0, op: fail, want: 0},
		{at: 10 * m, op: fail, want: 0},
		{at: 10 * m, op: check, want: 0},
		{at: 10 * m, op: fail, want: 0},
		{at: 10 * m, op: fail, want: 1 * m},
	}},
	{name: "Reset clears a lock and the backoff", steps: then(locked,
		step{at: 1 * m, op: fail, want: 2 * m},
		step{at: 90 * s, op: reset},
		step{at: 90 * s, op: check, want: 0},
		step{at: 90 * s, op: fail, want: 0},
		step{at: 90 * s, op: fail, want: 0},
		step{at: 90 * s, op: fail, want: 1 * m},
	)},
	{name: "Reset clears counted failures", steps: []step{
		{at: 0, op: fail, want: 0},
		{at: 0, op: fail, want: 0},
		{at: 0, op: reset},
		{at: 0, op: fail, want: 0},
		{at: 0, op: fail, want: 0},
		{at: 0, op: fail, want: 1 * m},
	}},
	{name: "Reset of an unknown key is harmless", steps: []step{
		{at: 0, op: reset, key: "user:nobody"},
		{at: 0, op: check, key: "user:nobody", want: 0},
	}},
	{name: "keys are independent", steps: then(locked,
		step{at: 0, op: check, key: "ip:203.0.113.7", want: 0},
		step{at: 0, op: fail, key: "ip:203.0.113.7", want: 0},
		step{at: 0, op: fail, key: "ip:203.0.113.7", want: 0},
		step{at: 0, op: reset, key: "ip:203.0.113.7"},
		step{at: 30 * s, op: check, want: 30 * s},
	)},
	{name: "keys are exact bytes", steps: then(locked,
		step{at: 0, op: check, key: "user:Alice", want: 0},
		step{at: 0, op: check, key: "user:alice ", want: 0},
		step{at: 0, op: check, key: "user:alice\x00", want: 0},
		step{at: 0, op: fail, key: "\x00\xff", want: 0},
		step{at: 0, op: fail, key: "\x00\xff", want: 0},
		step{at: 0, op: fail, key: "\x00\xff", want: 1 * m},
		step{at: 0, op: check, key: "\x00", want: 0},
	)},
}

// Run tests the Limiter contract. newLimiter returns a new, empty limiter
// with policy p that reads the time from now; a shared implementation must
// take its time from now too (passing it to the store), and must isolate
// the limiters of parallel calls, for example by a key prefix per call.
func Run(t *testing.T, newLimiter func(t *testing.T, p throttle.Policy, now func() time.Time) throttle.Limiter) {
	t.Run("schedule", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				clock := NewClock(T0)
				l := newLimiter(t, policy, clock.Now)
				for _, st := range tc.steps {
					clock.Set(T0.Add(st.at))
					call(t, l, st)
				}
			})
		}
	})
	t.Run("zero policy takes the defaults", func(t *testing.T) {
		clock := NewClock(T0)
		l := newLimiter(t, throttle.Policy{}, clock.Now)
		d := throttle.Policy{}.WithDefaults()
		for i := 1; i < d.MaxFailures; i++ {
			call(t, l, step{op: fail, want: 0})
		}
		call(t, l, step{op: fail, want: d.BanTime})
		clock.Advance(d.BanTime)
		call(t, l, step{op: fail, want: 2 * d.BanTime})
	})
	t.Run("MaxFailures 1 locks on the first failure", func(t *testing.T) {
		clock := NewClock(T0)
		l := newLimiter(t, throttle.Policy{MaxFailures: 1, BanTime: 10 * s, MaxBan: 15 * s}, clock.Now)
		call(t, l, step{op: fail, want: 10 * s})
		clock.Advance(10 * s)
		call(t, l, step{op: fail, want: 15 * s})
	})
	t.Run("concurrent failures are all counted", func(t *testing.T) {
		testConcurrent(t, newLimiter)
	})
}

// call runs st against l and reports a mismatch.
func call(t *testing.T, l throttle.Limiter, st step) {
	t.Helper()
	ctx := t.Context()
	key := st.key
	if key == "" {
		key = alice
	}
	var (
		got time.Duration
		err error
	)
	switch st.op {
	case check:
		got, err = l.Check(ctx, key)
	case fail:
		got, err = l.Fail(ctx, key)
	case reset:
		if err := l.Reset(ctx, key); err != nil {
			t.Fatalf("Reset(%q) at %v: %v", key, st.at, err)
		}
		return
	}
	if err != nil {
		t.Fatalf("%s(%q) at %v: %v", st.op, key, st.at, err)
	}
	if got != st.want {
		t.Errorf("%s(%q) at %v = %v, want %v", st.op, key, st.at, got, st.want)
	}
	if st.op == fail {
		if got, err := l.Check(ctx, key); err != nil || got != st.want {
			t.Errorf("Check(%q) at %v after Fail = %v, %v; want %v, nil", key, st.at, got, err, st.want)
		}
	}
}

// testConcurrent has many goroutines fail one key at one instant. Exactly
// one failure, the MaxFailures-th, must impose the lock; one fewer must
// impose none. A limiter that loses an update under contention fails one or
// the other.
func testConcurrent(t *testing.T, newLimiter func(t *testing.T, p throttle.Policy, now func() time.Time) throttle.Limiter) {
	const goroutines, each = 10, 10 // goroutines × each = MaxFailures
	p := throttle.Policy{MaxFailures: goroutines * each, Window: time.Hour, BanTime: time.Minute, MaxBan: time.Hour}
	for _, tc := range []struct {
		name      string
		failures  int
		wantLocks int
	}{
		{name: "MaxFailures failures lock once", failures: goroutines * each, wantLocks: 1},
		{name: "one fewer locks never", failures: goroutines*each - 1, wantLocks: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			clock := NewClock(T0)
			l := newLimiter(t, p, clock.Now)
			var (
				wg    sync.WaitGroup
				mu    sync.Mutex
				locks []time.Duration
				errs  []error
			)
			for g := range goroutines {
				wg.Go(func() {
					for i := range each {
						if g*each+i >= tc.failures {
							return
						}
						// A second key per goroutine checks that keys do not
						// bleed into each other under contention.
						own := fmt.Sprintf("user:g%d", g)
						_, err1 := l.Fail(ctx, own)
						wait, err := l.Fail(ctx, alice)
						mu.Lock()
						if wait != 0 {
							locks = append(locks, wait)
						}
						if err != nil || err1 != nil {
							errs = append(errs, fmt.Errorf("%v, %v", err, err1))
						}
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if len(errs) > 0 {
				t.Fatalf("Fail errors: %v", errs)
			}
			if len(locks) != tc.wantLocks {
				t.Errorf("%d concurrent Fail(%q) returned %d waits %v, want %d", tc.failures, alice, len(locks), locks, tc.wantLocks)
			}
			for _, w := range locks {
				if w != p.BanTime {
					t.Errorf("Fail(%q) under contention = %v, want %v", alice, w, p.BanTime)
				}
			}
			if tc.wantLocks == 0 {
				// One more failure must be the one that locks.
				call(t, l, step{op: fail, want: p.BanTime})
			}
			call(t, l, step{op: check, want: p.BanTime})
			for g := range goroutines {
				call(t, l, step{op: check, key: fmt.Sprintf("user:g%d", g), want: 0})
			}
		})
	}
}

// Bench runs the same sub-benchmarks on any Limiter: Check on unknown,
// counted and locked keys, Fail on new, counted and locked keys, and
// parallel variants. The caller seeds failures on keys "user:u0" to
// "user:u9999" (each below the lock threshold) in whatever way is fast for
// its store; Bench locks "user:locked" itself with p.MaxFailures failures.
func Bench(b *testing.B, l throttle.Limiter, p throttle.Policy) {
	ctx := b.Context()
	for range p.MaxFailures {
		if _, err := l.Fail(ctx, "user:locked"); err != nil {
			b.Fatal(err)
		}
	}
	run := func(name string, op func(int) (time.Duration, error)) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := op(i); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
	run("Check/unknown", func(int) (time.Duration, error) { return l.Check(ctx, "user:unknown") })
	run("Check/counted", func(int) (time.Duration, error) { return l.Check(ctx, "user:u42") })
	run("Check/locked", func(int) (time.Duration, error) { return l.Check(ctx, "user:locked") })
	var fresh atomic.Int64
	run("Fail/new key", func(int) (time.Duration, error) {
		return l.Fail(ctx, "user:fresh"+strconv.FormatInt(fresh.Add(1), 10))
	})
	run("Fail/counted key", func(i int) (time.Duration, error) { return l.Fail(ctx, "user:u"+strconv.Itoa(i%10000)) })
	run("Fail/locked key", func(int) (time.Duration, error) { return l.Fail(ctx, "user:locked") })
	parallel := func(name string, op func() error) {
		b.Run(name, func(b *testing.B) {
			b.SetParallelism(4)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := op(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
	parallel("Check/parallel", func() error { _, err := l.Check(ctx, "user:u42"); return err })
	parallel("Fail/parallel, new keys", func() error {
		_, err := l.Fail(ctx, "user:par"+strconv.FormatInt(fresh.Add(1), 10))
		return err
	})
	parallel("Fail/parallel, one key", func() error { _, err := l.Fail(ctx, "user:hot"); return err })
}
