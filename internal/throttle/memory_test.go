package throttle_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/throttle"
	"github.com/jwtgate/jwtgate/internal/throttle/throttletest"
)

func TestMemoryContract(t *testing.T) {
	throttletest.Run(t, func(t *testing.T, p throttle.Policy, now func() time.Time) throttle.Limiter {
		return throttle.NewMemory(p, now)
	})
}

// TestMemoryBounded sprays three times the cap of distinct keys, as an
// attacker cycling through random user names would.
func TestMemoryBounded(t *testing.T) {
	const maxKeys = 1000
	ctx := t.Context()
	clock := throttletest.NewClock(throttletest.T0)
	m := throttle.NewMemoryCap(throttle.DefaultAccountPolicy, clock.Now, maxKeys)
	for i := range 3 * maxKeys {
		if _, err := m.Fail(ctx, fmt.Sprintf("user:spray%d", i)); err != nil {
			t.Fatal(err)
		}
		if n := m.Len(); n > maxKeys {
			t.Fatalf("after %d distinct keys Len() = %d, want ≤ %d", i+1, n, maxKeys)
		}
	}
	if n := m.Len(); n != maxKeys {
		t.Errorf("Len() = %d, want %d (full, not emptied)", n, maxKeys)
	}
}

// TestMemoryEvictionKeepsEvidence checks that spraying fresh keys into a
// full Memory evicts the sprayed keys, not a locked key or one that is
// close to locking: otherwise spraying would reset a victim's counter.
func TestMemoryEvictionKeepsEvidence(t *testing.T) {
	const maxKeys = 100
	p := throttle.DefaultAccountPolicy
	ctx := t.Context()
	clock := throttletest.NewClock(throttletest.T0)
	m := throttle.NewMemoryCap(p, clock.Now, maxKeys)
	fail := func(key string, n int) {
		for range n {
			if _, err := m.Fail(ctx, key); err != nil {
				t.Fatal(err)
			}
		}
	}
	fail("user:locked", p.MaxFailures)
	fail("user:almost", p.MaxFailures-1)
	clock.Advance(time.Second) // the spray is newer, so it expires later
	for i := range 3 * maxKeys {
		fail(fmt.Sprintf("user:spray%d", i), 1)
	}
	for _, tt := range []struct {
		name string
		key  string
		op   func() (time.Duration, error)
		want time.Duration
	}{
		{name: "locked key stays locked", key: "user:locked", op: func() (time.Duration, error) { return m.Check(ctx, "user:locked") }, want: p.BanTime - time.Second},
		{name: "counted failures survive", key: "user:almost", op: func() (time.Duration, error) { return m.Fail(ctx, "user:almost") }, want: p.BanTime},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := tt.op(); err != nil || got != tt.want {
				t.Errorf("%s after spraying %d keys = %v, %v; want %v, nil", tt.key, 3*maxKeys, got, err, tt.want)
			}
		})
	}
}

// TestMemorySweepsIdleKeys checks that expired keys leave memory without
// being touched again: Memory sweeps at most a minute after they expire.
func TestMemorySweepsIdleKeys(t *testing.T) {
	p := throttle.DefaultAccountPolicy
	ctx := t.Context()
	clock := throttletest.NewClock(throttletest.T0)
	m := throttle.NewMemory(p, clock.Now)
	for i := range 50 {
		if _, err := m.Fail(ctx, fmt.Sprintf("user:idle%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	for range p.MaxFailures {
		if _, err := m.Fail(ctx, "user:locked"); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(p.BanTime)
	if _, err := m.Fail(ctx, "user:locked"); err != nil { // second lock: ends at 3m, forgotten at 18m
		t.Fatal(err)
	}
	for _, tt := range []struct {
		at   time.Duration
		want int
	}{
		{at: p.Window - time.Second, want: 51},
		{at: p.Window + time.Minute, want: 1},
		{at: 3*time.Minute + p.Window + time.Minute, want: 0},
	} {
		clock.Set(throttletest.T0.Add(tt.at))
		if _, err := m.Check(ctx, "user:unrelated"); err != nil {
			t.Fatal(err)
		}
		if got := m.Len(); got != tt.want {
			t.Errorf("Len() at %v = %d, want %d", tt.at, got, tt.want)
		}
	}
}

func TestNewMemoryPanics(t *testing.T) {
	for _, tt := range []struct {
		name    string
		p       throttle.Policy
		maxKeys int
	}{
		{name: "invalid policy", p: throttle.Policy{MaxFailures: -1}, maxKeys: 10},
		{name: "no room", p: throttle.Policy{}, maxKeys: 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("NewMemoryCap(%+v, nil, %d) did not panic", tt.p, tt.maxKeys)
				}
			}()
			throttle.NewMemoryCap(tt.p, nil, tt.maxKeys)
		})
	}
}

// BenchmarkCheck measures the hot path, which every login attempt takes
// twice (account and address), with the real clock.
func BenchmarkCheck(b *testing.B) {
	ctx := b.Context()
	m := throttle.NewMemory(throttle.DefaultAccountPolicy, nil)
	for i := range 10_000 {
		m.Fail(ctx, fmt.Sprintf("user:u%d", i))
	}
	for range throttle.DefaultAccountPolicy.MaxFailures {
		m.Fail(ctx, "user:locked")
	}
	for _, key := range []string{"user:unknown", "user:u42", "user:locked"} {
		b.Run(key, func(b *testing.B) {
			for b.Loop() {
				m.Check(ctx, key)
			}
		})
	}
	b.Run("parallel", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				m.Check(ctx, "user:u42")
			}
		})
	})
}

// BenchmarkFailSpray measures a full Memory taking new keys, each of which
// evicts one.
func BenchmarkFailSpray(b *testing.B) {
	ctx := b.Context()
	m := throttle.NewMemoryCap(throttle.DefaultIPPolicy, nil, 10_000)
	keys := make([]string, 100_000)
	for i := range keys {
		keys[i] = fmt.Sprintf("ip:198.51.%d.%d", i/256, i%256)
	}
	i := 0
	for b.Loop() {
		m.Fail(ctx, keys[i%len(keys)])
		i++
	}
}
