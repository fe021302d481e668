package password

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestLimiterBound: at most running hashes run at once and at most waiting
// wait; from one flow, the rest are refused at once with ErrBusy.
func TestLimiterBound(t *testing.T) {
	l := NewLimiter(2, 2, 100)
	release := make(chan struct{})
	var running, peak atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() {
			errs <- l.Do(context.Background(), "ip:203.0.113.1", nil, func() {
				n := running.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				<-release
				running.Add(-1)
			})
		})
	}
	// 4 can be in (2 running + 2 waiting); the other 6 are refused at once.
	busy := 0
	for range 6 {
		if err := <-errs; errors.Is(err, ErrBusy) {
			busy++
		}
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Do = %v for an admitted caller", err)
		}
	}
	if busy != 6 {
		t.Errorf("refused %d callers, want 6", busy)
	}
	if peak.Load() > 2 {
		t.Errorf("peak concurrency %d, want <= 2", peak.Load())
	}
}

// harness drives a Limiter with hashes that run until the test lets them
// finish, so the order in which waits start is observed exactly, without
// timing.
type harness struct {
	t       *testing.T
	l       *Limiter
	started chan string
	mu      sync.Mutex
	release map[string]chan struct{}
	results map[string]chan error
}

func newHarness(t *testing.T, l *Limiter) *harness {
	return &harness{t: t, l: l, started: make(chan string, 100),
		release: make(map[string]chan struct{}), results: make(map[string]chan error)}
}

// start calls Do for the call name in flow with capped keys, and returns
// once the call runs, waits, or was refused.
func (h *harness) start(ctx context.Context, name, flow string, capped ...string) {
	h.t.Helper()
	rel, res := make(chan struct{}), make(chan error, 1)
	h.mu.Lock()
	h.release[name], h.results[name] = rel, res
	h.mu.Unlock()
	before := h.l.Waiting()
	go func() {
		res <- h.l.Do(ctx, flow, capped, func() { h.started <- name; <-rel })
	}()
	// Settled: admitted (one more in), or answered at once. An eviction
	// keeps Waiting equal but answers another call, so wait for an answer.
	for h.l.Waiting() == before && len(res) == 0 {
		time.Sleep(100 * time.Microsecond)
		if h.anyAnswered(name) {
			break
		}
	}
}

// anyAnswered reports whether some call other than except has returned
// (an eviction).
func (h *harness) anyAnswered(except string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	for n, r := range h.results {
		if n != except && len(r) > 0 {
			return true
		}
	}
	return false
}

// result waits for name's Do to return.
func (h *harness) result(name string) error {
	h.mu.Lock()
	r := h.results[name]
	h.mu.Unlock()
	err := <-r
	r <- err // keep it readable
	return err
}

// next returns the name of the next call to start running.
func (h *harness) next() string { return <-h.started }

// finish lets the running call name end.
func (h *harness) finish(name string) {
	h.mu.Lock()
	close(h.release[name])
	h.mu.Unlock()
	if err := h.result(name); err != nil {
		h.t.Errorf("Do(%s) = %v after running", name, err)
	}
}

// order finishes running calls one by one, starting with first, and
// returns the order in which the next n calls started.
func (h *harness) order(first string, n int) []string {
	var got []string
	cur := first
	for range n {
		h.finish(cur)
		cur = h.next()
		got = append(got, cur)
	}
	h.finish(cur)
	return got
}

type call struct {
	name, flow string
	capped     []string
}

// TestLimiterFairOrder: with one slot, in which order queued calls start.
// The first call of each case runs at once; the rest queue in the order
// given.
func TestLimiterFairOrder(t *testing.T) {
	tests := []struct {
		name  string
		calls []call
		want  []string // start order after the first call
	}{
		{
			name:  "one flow is first come first served",
			calls: []call{{name: "a1", flow: "a"}, {name: "a2", flow: "a"}, {name: "a3", flow: "a"}},
			want:  []string{"a2", "a3"},
		},
		{
			name: "a sparse flow goes before a backlog",
			calls: []call{{name: "a1", flow: "a"}, {name: "a2", flow: "a"}, {name: "a3", flow: "a"},
				{name: "a4", flow: "a"}, {name: "b1", flow: "b"}},
			want: []string{"b1", "a2", "a3", "a4"},
		},
		{
			name: "backlogged flows take turns",
			calls: []call{{name: "a1", flow: "a"}, {name: "a2", flow: "a"}, {name: "a3", flow: "a"}, {name: "a4", flow: "a"},
				{name: "b1", flow: "b"}, {name: "b2", flow: "b"}, {name: "b3", flow: "b"}},
			want: []string{"b1", "a2", "b2", "a3", "b3", "a4"},
		},
		{
			name: "many sparse flows behind a flood each go before it",
			calls: []call{{name: "a1", flow: "a"}, {name: "a2", flow: "a"}, {name: "a3", flow: "a"},
				{name: "b1", flow: "b"}, {name: "a4", flow: "a"}, {name: "c1", flow: "c"}, {name: "d1", flow: "d"}},
			want: []string{"b1", "c1", "d1", "a2", "a3", "a4"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, NewLimiter(1, 100, 100))
			for i, c := range tt.calls {
				h.start(t.Context(), c.name, c.flow, c.capped...)
				if i == 0 {
					if got := h.next(); got != c.name {
						t.Fatalf("first call started %s, want %s", got, c.name)
					}
				}
			}
			if got := h.order(tt.calls[0].name, len(tt.want)); !slices.Equal(got, tt.want) {
				t.Errorf("start order = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestLimiterHammeringPushesItselfBack: a flow is charged for its
// refused requests too, so a flow that hammers the server sorts its next
// request behind a steady flow that asked once per turn.
func TestLimiterHammeringPushesItselfBack(t *testing.T) {
	h := newHarness(t, NewLimiter(1, 100, 2))
	ctx := t.Context()
	h.start(ctx, "a1", "a", "ip:a")
	h.next()
	h.start(ctx, "a2", "a", "ip:a")
	for i := range 5 {
		name := "a-refused" + string(rune('0'+i))
		h.start(ctx, name, "a", "ip:a")
		if err := h.result(name); !errors.Is(err, ErrTooMany) {
			t.Fatalf("Do(%s) with ip:a at its cap = %v, want ErrTooMany", name, err)
		}
	}
	for _, name := range []string{"b1", "b2", "b3", "b4"} {
		h.start(ctx, name, "b", "ip:b"+name) // b's calls capped apart, so all queue
	}
	h.finish("a1")
	if got := h.next(); got != "b1" {
		t.Fatalf("after a1, %s started, want b1 (sparse)", got)
	}
	h.start(ctx, "a3", "a", "ip:a")
	// Without charging refusals a3 would sort between b3 and b4.
	if got, want := h.order("b1", 5), []string{"a2", "b2", "b3", "b4", "a3"}; !slices.Equal(got, want) {
		t.Errorf("start order = %v, want %v", got, want)
	}
}

// TestLimiterCaps: a capped key (an address, an account) has at most
// perKey calls running or waiting, whatever flows they come from, and
// frees its place when a call ends. Other keys are not affected.
func TestLimiterCaps(t *testing.T) {
	h := newHarness(t, NewLimiter(1, 100, 2))
	ctx := t.Context()
	for i, c := range []struct {
		call
		want error
	}{
		{call: call{name: "x1", flow: "ip:x", capped: []string{"ip:x", "user:bob"}}},
		{call: call{name: "y1", flow: "ip:y", capped: []string{"ip:y", "user:bob"}}},
		{call: call{name: "z1", flow: "ip:z", capped: []string{"ip:z", "user:bob"}}, want: ErrTooMany},
		{call: call{name: "x2", flow: "ip:x", capped: []string{"ip:x", "user:alice"}}},
		{call: call{name: "x3", flow: "ip:x", capped: []string{"ip:x", "user:carol"}}, want: ErrTooMany},
	} {
		h.start(ctx, c.name, c.flow, c.capped...)
		if i == 0 {
			h.next()
		}
		if c.want != nil {
			if err := h.result(c.name); !errors.Is(err, c.want) {
				t.Errorf("Do(%s %v) = %v, want %v", c.name, c.capped, err, c.want)
			}
		}
	}
	if got := h.l.Waiting(); got != 3 {
		t.Fatalf("Waiting() = %d, want 3 (x1 running, y1 and x2 queued)", got)
	}
	h.finish("x1") // bob and ip:x have a place again
	h.start(ctx, "w1", "ip:w", "ip:w", "user:bob")
	if got := h.l.Waiting(); got != 3 {
		t.Errorf("Waiting() after x1 ended and w1 came = %d, want 3", got)
	}
	for range 3 {
		h.finish(h.next())
	}
}

// TestLimiterFullQueue: when the queue is full, an arrival that sorts
// before the worst waiter takes its place (the waiter gets ErrBusy); one
// that does not is refused with ErrBusy.
func TestLimiterFullQueue(t *testing.T) {
	h := newHarness(t, NewLimiter(1, 2, 100))
	ctx := t.Context()
	h.start(ctx, "a1", "a")
	h.next()
	h.start(ctx, "a2", "a")
	h.start(ctx, "a3", "a")
	h.start(ctx, "b1", "b")
	if err := h.result("a3"); !errors.Is(err, ErrBusy) {
		t.Errorf("Do(a3) after sparse b1 came to a full queue = %v, want ErrBusy", err)
	}
	h.start(ctx, "a4", "a")
	if err := h.result("a4"); !errors.Is(err, ErrBusy) {
		t.Errorf("Do(a4) at a full queue = %v, want ErrBusy", err)
	}
	if got, want := h.order("a1", 2), []string{"b1", "a2"}; !slices.Equal(got, want) {
		t.Errorf("start order = %v, want %v", got, want)
	}
}

// TestLimiterCancel: a caller whose context ends while waiting leaves the
// queue and its key's place, without running.
func TestLimiterCancel(t *testing.T) {
	h := newHarness(t, NewLimiter(1, 100, 1))
	h.start(t.Context(), "a1", "a", "ip:a")
	h.next()
	ctx, cancel := context.WithCancel(t.Context())
	h.start(ctx, "b1", "b", "ip:b")
	cancel()
	if err := h.result("b1"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Do(b1) after cancel = %v, want context.Canceled", err)
	}
	if got := h.l.Waiting(); got != 1 {
		t.Errorf("Waiting() after a cancelled wait = %d, want 1", got)
	}
	h.start(t.Context(), "b2", "b", "ip:b") // ip:b's place was given back
	if got, want := h.order("a1", 1), []string{"b2"}; !slices.Equal(got, want) {
		t.Errorf("start order = %v, want %v", got, want)
	}
}

// TestLimiterSparseBeforeEqualTag: once virtual time has moved on, a new
// arrival of an idle flow gets the same tag as waits queued earlier by
// backlogged flows, and still goes first.
func TestLimiterSparseBeforeEqualTag(t *testing.T) {
	h := newHarness(t, NewLimiter(1, 100, 100))
	ctx := t.Context()
	h.start(ctx, "x1", "x")
	h.next()
	for _, c := range []call{{name: "x2", flow: "x"}, {name: "y1", flow: "y"}, {name: "y2", flow: "y"}} {
		h.start(ctx, c.name, c.flow)
	}
	h.finish("x1")
	if got := h.next(); got != "y1" {
		t.Fatalf("after x1, %s started, want y1", got)
	}
	h.finish("y1")
	if got := h.next(); got != "x2" {
		t.Fatalf("after y1, %s started, want x2", got)
	}
	h.start(ctx, "z1", "z") // same tag as y2, but z was idle
	if got, want := h.order("x2", 2), []string{"z1", "y2"}; !slices.Equal(got, want) {
		t.Errorf("start order = %v, want %v", got, want)
	}
}
