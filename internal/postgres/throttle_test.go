package postgres

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate/internal/throttle"
	"github.com/jwtgate/jwtgate/internal/throttle/throttletest"
)

// newLimiter returns db's limiter called name, failing tb if it cannot.
func newLimiter(tb testing.TB, db *DB, name string, p throttle.Policy, now func() time.Time) *Limiter {
	tb.Helper()
	l, err := db.Limiter(name, p, now)
	if err != nil {
		tb.Fatalf("Limiter(%q, %+v) = %v, want nil", name, p, err)
	}
	return l
}

// openInstances opens n stores on one fresh schema, as n jwtgate instances
// sharing a database would, each with a pool of up to conns connections
// and the run-time parameters given as name, value pairs.
func openInstances(tb testing.TB, n, conns int, params ...string) []*DB {
	tb.Helper()
	u, err := url.Parse(freshSchema(tb))
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("pool_max_conns", strconv.Itoa(conns))
	for i := 0; i+1 < len(params); i += 2 {
		q.Set(params[i], params[i+1])
	}
	u.RawQuery = q.Encode()
	dbs := make([]*DB, n)
	for i := range dbs {
		if dbs[i], err = Open(tb.Context(), u.String()); err != nil {
			tb.Fatalf("Open() #%d = %v, want nil", i, err)
		}
		tb.Cleanup(func() { dbs[i].Close() })
	}
	return dbs
}

// row reads the stored state of key: how many failures it remembers and
// its strikes (-1, -1 if it has no row).
func row(t *testing.T, db *DB, name, key string) (fails, strikes int) {
	t.Helper()
	fails, strikes = -1, -1
	err := db.pool.QueryRow(t.Context(), `SELECT cardinality(fails), strikes FROM throttle WHERE limiter = $1 AND key_hash = $2`,
		name, keyHash(key)).Scan(&fails, &strikes)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		t.Fatalf("reading the row of %q: %v", key, err)
	}
	return fails, strikes
}

// rows counts the rows of the limiter called name.
func rows(t *testing.T, db *DB, name string) int {
	t.Helper()
	var n int
	if err := db.pool.QueryRow(t.Context(), `SELECT count(*) FROM throttle WHERE limiter = $1`, name).Scan(&n); err != nil {
		t.Fatalf("counting rows of %s: %v", name, err)
	}
	return n
}

// TestLimiterContract runs the suite every throttle.Limiter must pass.
// Each limiter it asks for has a name of its own, which isolates it from
// the others on the one schema, clock and sweeps included.
func TestLimiterContract(t *testing.T) {
	db := openTest(t)
	var n atomic.Int64
	throttletest.Run(t, func(t *testing.T, p throttle.Policy, now func() time.Time) throttle.Limiter {
		return newLimiter(t, db, "contract"+strconv.FormatInt(n.Add(1), 10), p, now)
	})
}

// TestLimiterMatchesMemory runs random operations at random times on a
// Limiter and on a throttle.Memory with one clock: every answer must be the
// same. Time only moves forward here: when a clock steps back past the
// moment a key expired, Memory has dropped the key if it touched or swept
// it since, while the table remembers it until its row is swept or
// rewritten, and the two may differ (TestLimiterClockStepsBack covers a
// step back within the window). Commits are not flushed, which changes
// nothing here but the test's speed.
func TestLimiterMatchesMemory(t *testing.T) {
	ctx := t.Context()
	db := openInstances(t, 1, 4, "synchronous_commit", "off")[0]
	for seed := range uint64(4) {
		t.Run("seed "+strconv.FormatUint(seed, 10), func(t *testing.T) {
			r := rand.New(rand.NewPCG(seed, 1))
			p := throttle.Policy{MaxFailures: 1 + r.IntN(4), Window: time.Duration(1+r.IntN(60)) * time.Second,
				BanTime: time.Duration(1+r.IntN(1000)) * time.Millisecond}
			p.MaxBan = p.BanTime * time.Duration(1+r.IntN(20))
			clock := throttletest.NewClock(throttletest.T0)
			mem := throttle.NewMemory(p, clock.Now)
			l := newLimiter(t, db, "diff"+strconv.FormatUint(seed, 10), p, clock.Now)
			keys := []string{"user:a", "user:b", "\x00\xff"}
			for i := range 1000 {
				if r.IntN(2) == 0 {
					clock.Advance(time.Duration(r.Int64N(int64(p.MaxBan) + int64(p.Window)/4)))
				}
				key := keys[r.IntN(len(keys))]
				var want, got time.Duration
				var err error
				op := "Fail"
				switch o := r.IntN(10); {
				case o < 3:
					op = "Check"
					want, _ = mem.Check(ctx, key)
					got, err = l.Check(ctx, key)
				case o < 9:
					want, _ = mem.Fail(ctx, key)
					got, err = l.Fail(ctx, key)
				default:
					op = "Reset"
					mem.Reset(ctx, key)
					err = l.Reset(ctx, key)
				}
				if err != nil || got != want {
					t.Fatalf("policy %+v, op %d at %v: %s(%q) = %v, %v; Memory says %v",
						p, i, clock.Now().Sub(throttletest.T0), op, key, got, err, want)
				}
			}
		})
	}
}

// TestLimiterClockStepsBack checks what Memory does when the clock steps
// back within the window: a failure is never recorded before the last one,
// so the log stays sorted and the failure counts for a Window from then.
func TestLimiterClockStepsBack(t *testing.T) {
	ctx := t.Context()
	db := openTest(t)
	p := throttle.Policy{MaxFailures: 3, Window: 10 * time.Minute, BanTime: time.Minute, MaxBan: 5 * time.Minute}
	clock := throttletest.NewClock(throttletest.T0)
	mem := throttle.NewMemory(p, clock.Now)
	l := newLimiter(t, db, "account", p, clock.Now)
	for _, st := range []struct {
		at   time.Duration
		want time.Duration
	}{
		{at: 10 * time.Minute, want: 0},
		{at: 0, want: 0},                                              // recorded at 10m
		{at: 20*time.Minute - time.Second, want: time.Minute},         // both still count
		{at: 20*time.Minute - 30*time.Second, want: 89 * time.Second}, // locked until 20m59s
	} {
		clock.Set(throttletest.T0.Add(st.at))
		mw, _ := mem.Fail(ctx, "user:alice")
		got, err := l.Fail(ctx, "user:alice")
		if err != nil || got != st.want || mw != st.want {
			t.Errorf("Fail at %v = %v, %v; want %v, nil (Memory says %v)", st.at, got, err, st.want, mw)
		}
	}
}

func TestLimiterInvalid(t *testing.T) {
	db := openTest(t)
	for _, tt := range []struct {
		name string
		p    throttle.Policy
	}{
		{name: "account", p: throttle.Policy{MaxFailures: throttle.MaxMaxFailures + 1}},
		{name: "account", p: throttle.Policy{BanTime: time.Hour, MaxBan: time.Minute}},
		{name: "", p: throttle.Policy{}},
		{name: "a\x00", p: throttle.Policy{}},
		{name: "\xff", p: throttle.Policy{}},
		{name: strings.Repeat("a", maxLimiterName+1), p: throttle.Policy{}},
	} {
		if l, err := db.Limiter(tt.name, tt.p, nil); err == nil {
			t.Errorf("Limiter(%q, %+v) = %v, nil; want an error", tt.name, tt.p, l)
		}
	}
}

// TestLimiterSharedByInstances is two instances (two pools) failing one
// account in turn: the key locks for both at exactly MaxFailures, and the
// lock, its backoff and Reset are the cluster's, not an instance's.
func TestLimiterSharedByInstances(t *testing.T) {
	ctx := t.Context()
	dbs := openInstances(t, 2, 4)
	clock := throttletest.NewClock(throttletest.T0)
	p := throttle.Policy{MaxFailures: 5, Window: 10 * time.Minute, BanTime: time.Minute, MaxBan: 4 * time.Minute}
	inst := []*Limiter{newLimiter(t, dbs[0], "account", p, clock.Now), newLimiter(t, dbs[1], "account", p, clock.Now)}
	ip := newLimiter(t, dbs[1], "ip", p, clock.Now) // another name: the same key is another counter
	const key = "user:alice"

	expect := func(what string, got time.Duration, err error, want time.Duration) {
		t.Helper()
		if err != nil || got != want {
			t.Fatalf("%s = %v, %v; want %v, nil", what, got, err, want)
		}
	}
	checkBoth := func(want time.Duration) {
		t.Helper()
		for i, l := range inst {
			got, err := l.Check(ctx, key)
			expect(fmt.Sprintf("instance %d: Check at %v", i, clock.Now().Sub(throttletest.T0)), got, err, want)
		}
	}

	for i := 1; i <= p.MaxFailures; i++ {
		want := time.Duration(0)
		if i == p.MaxFailures {
			want = p.BanTime
		}
		got, err := inst[i%2].Fail(ctx, key)
		expect(fmt.Sprintf("failure %d, on instance %d: Fail", i, i%2), got, err, want)
		if i < p.MaxFailures {
			checkBoth(0)
		}
	}
	checkBoth(p.BanTime)
	got, err := ip.Check(ctx, key)
	expect("Check of another limiter name", got, err, 0)

	clock.Advance(30 * time.Second)
	got, err = inst[0].Fail(ctx, key)
	expect("Fail while locked, instance 0", got, err, 30*time.Second)
	checkBoth(30 * time.Second) // neither extended nor escalated

	clock.Advance(30 * time.Second)
	checkBoth(0)
	got, err = inst[1].Fail(ctx, key)
	expect("Fail after the lock, instance 1", got, err, 2*p.BanTime)
	checkBoth(2 * p.BanTime)

	if err := inst[0].Reset(ctx, key); err != nil {
		t.Fatalf("instance 0: Reset = %v", err)
	}
	checkBoth(0)
	got, err = inst[1].Fail(ctx, key)
	expect("Fail after Reset on the other instance", got, err, 0)
}

// TestLimiterConcurrentInstances has 50 goroutines, spread over two
// instances, fail one key at one instant. The count must be exact: 49 at
// once leave 49 failures and no lock; 50 at once impose exactly one lock;
// 50 more during the lock change nothing.
func TestLimiterConcurrentInstances(t *testing.T) {
	ctx := t.Context()
	const goroutines = 50
	dbs := openInstances(t, 2, goroutines/2)
	clock := throttletest.NewClock(throttletest.T0)
	p := throttle.Policy{MaxFailures: goroutines, Window: time.Hour, BanTime: time.Minute, MaxBan: time.Hour}
	inst := []*Limiter{newLimiter(t, dbs[0], "account", p, clock.Now), newLimiter(t, dbs[1], "account", p, clock.Now)}

	// failAtOnce fails key n times at once, over both instances, and
	// returns the waits.
	failAtOnce := func(t *testing.T, key string, n int) []time.Duration {
		t.Helper()
		waits := make([]time.Duration, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for g := range n {
			wg.Go(func() {
				<-start
				waits[g], errs[g] = inst[g%2].Fail(ctx, key)
			})
		}
		close(start)
		wg.Wait()
		for g, err := range errs {
			if err != nil {
				t.Fatalf("goroutine %d: Fail(%q) = %v", g, key, err)
			}
		}
		return waits
	}
	locks := func(waits []time.Duration) (n int) {
		for _, w := range waits {
			if w != 0 {
				n++
			}
		}
		return n
	}

	t.Run("one fewer than MaxFailures", func(t *testing.T) {
		const key = "user:bob"
		if n := locks(failAtOnce(t, key, goroutines-1)); n != 0 {
			t.Errorf("%d failures at once imposed %d waits, want 0", goroutines-1, n)
		}
		if fails, strikes := row(t, dbs[0], "account", key); fails != goroutines-1 || strikes != 0 {
			t.Errorf("stored: %d failures, %d strikes; want %d, 0", fails, strikes, goroutines-1)
		}
		if got, err := inst[1].Fail(ctx, key); err != nil || got != p.BanTime {
			t.Errorf("the %dth Fail = %v, %v; want %v, nil", goroutines, got, err, p.BanTime)
		}
	})

	t.Run("MaxFailures lock once", func(t *testing.T) {
		const key = "user:alice"
		waits := failAtOnce(t, key, goroutines)
		if n := locks(waits); n != 1 {
			t.Errorf("%d failures at once imposed %d waits, want exactly 1", goroutines, n)
		}
		for _, w := range waits {
			if w != 0 && w != p.BanTime {
				t.Errorf("Fail under contention = %v, want 0 or %v", w, p.BanTime)
			}
		}
		if fails, strikes := row(t, dbs[1], "account", key); fails != 0 || strikes != 1 {
			t.Errorf("stored: %d failures, %d strikes; want 0, 1", fails, strikes)
		}
		// The same instant, locked: every failure returns the whole ban,
		// and none escalates.
		for _, w := range failAtOnce(t, key, goroutines) {
			if w != p.BanTime {
				t.Errorf("Fail while locked = %v, want %v", w, p.BanTime)
			}
		}
		if _, strikes := row(t, dbs[1], "account", key); strikes != 1 {
			t.Errorf("stored strikes after failures while locked = %d, want 1", strikes)
		}
		for i, l := range inst {
			if got, err := l.Check(ctx, key); err != nil || got != p.BanTime {
				t.Errorf("instance %d: Check = %v, %v; want %v, nil", i, got, err, p.BanTime)
			}
		}
	})
}

// TestLimiterSweep checks that the rows of quiet keys go, at exactly the
// time throttle.Memory forgets them, in batches, and only the limiter's
// own; and that Fail sweeps without being asked.
func TestLimiterSweep(t *testing.T) {
	ctx := t.Context()
	db := openTest(t)
	clock := throttletest.NewClock(throttletest.T0)
	p := throttle.DefaultAccountPolicy // Window 15m, BanTime 1m
	l := newLimiter(t, db, "account", p, clock.Now)
	other := newLimiter(t, db, "ip", p, clock.Now)
	fail := func(l *Limiter, key string, n int) {
		t.Helper()
		for range n {
			if _, err := l.Fail(ctx, key); err != nil {
				t.Fatalf("Fail(%q) = %v", key, err)
			}
		}
	}
	sweep := func(want int) {
		t.Helper()
		if got, err := l.Sweep(ctx); err != nil || got != want {
			t.Errorf("Sweep() at %v = %d, %v; want %d, nil", clock.Now().Sub(throttletest.T0), got, err, want)
		}
	}

	for i := range 50 {
		fail(l, "user:idle"+strconv.Itoa(i), 1) // forgotten at 15m
	}
	fail(l, "user:locked", p.MaxFailures)
	fail(other, "ip:203.0.113.7", 1)
	clock.Advance(p.BanTime)
	fail(l, "user:locked", 1) // second lock: ends at 3m, forgotten at 18m
	if n := rows(t, db, "account"); n != 51 {
		t.Fatalf("rows = %d, want 51", n)
	}

	clock.Set(throttletest.T0.Add(p.Window - time.Nanosecond))
	sweep(0)
	clock.Set(throttletest.T0.Add(p.Window))
	sweep(50)
	clock.Set(throttletest.T0.Add(3*time.Minute + p.Window - time.Nanosecond))
	sweep(0)
	if got, err := l.Fail(ctx, "user:locked"); err != nil || got != 4*p.BanTime {
		t.Errorf("Fail(user:locked) just before it is forgotten = %v, %v; want %v (third lock)", got, err, 4*p.BanTime)
	}
	clock.Advance(4*p.BanTime + p.Window - time.Nanosecond) // a Window after the third lock ends
	sweep(0)
	clock.Advance(time.Nanosecond)
	sweep(1)
	if n := rows(t, db, "account"); n != 0 {
		t.Errorf("rows after sweeping everything = %d, want 0", n)
	}
	if n := rows(t, db, "ip"); n != 1 {
		t.Errorf("rows of another limiter after sweeping = %d, want 1 (its own sweeps remove them)", n)
	}

	// expired inserts n rows that expire now, tagged with tag.
	expired := func(tag string, n int) {
		t.Helper()
		if _, err := db.pool.Exec(ctx, `INSERT INTO throttle (limiter, key_hash, expires_at)
			SELECT 'account', sha256(($1 || i)::bytea), $2 FROM generate_series(1, $3) AS i`,
			tag, clock.Now().UnixNano(), n); err != nil {
			t.Fatal(err)
		}
	}
	expect := func(what string, want int) {
		t.Helper()
		if n := rows(t, db, "account"); n != want {
			t.Errorf("rows %s = %d, want %d", what, n, want)
		}
	}

	// Sweep: more than a batch, in one call.
	expired("a", 2*sweepBatch+500)
	sweep(2*sweepBatch + 500)

	// Fail sweeps by itself, at most once per sweepEvery.
	for i := range 10 {
		fail(l, "user:spray"+strconv.Itoa(i), 1)
	}
	clock.Advance(p.Window)
	fail(l, "user:new", 1) // the last sweep was long ago: this one sweeps
	expect("after a Fail a Window later", 1)
	expired("b", 5)
	clock.Advance(sweepEvery - time.Nanosecond)
	fail(l, "user:new", 1)
	expect("after a Fail within sweepEvery of the last sweep", 6)
	clock.Advance(time.Nanosecond)
	fail(l, "user:new", 1)
	expect("after a Fail sweepEvery after the last sweep", 1)

	// A backlog: Fail sweeps one batch, and the next Fail goes on until a
	// batch comes back short.
	clock.Advance(sweepEvery)
	expired("c", 2*sweepBatch+500)
	fail(l, "user:new", 1)
	expect("after the first Fail over a backlog", 1+sweepBatch+500)
	fail(l, "user:new", 1)
	expect("after the second", 1+500)
	fail(l, "user:new", 1)
	expect("after the third", 1)
	expired("d", 5)
	fail(l, "user:new", 1)
	expect("after a Fail that followed a short batch", 6)
}

// TestLimiterStoreErrors checks that a store that cannot answer is an
// error, never an "allowed".
func TestLimiterStoreErrors(t *testing.T) {
	ctx := t.Context()
	db := openTest(t)
	l := newLimiter(t, db, "account", throttle.Policy{}, nil)
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := l.Check(canceled, "user:alice"); err == nil {
		t.Error("Check with a canceled context = nil error, want one")
	}
	db.Close()
	if w, err := l.Check(ctx, "user:alice"); err == nil {
		t.Errorf("Check on a closed store = %v, nil; want an error", w)
	}
	if w, err := l.Fail(ctx, "user:alice"); err == nil {
		t.Errorf("Fail on a closed store = %v, nil; want an error", w)
	}
	if err := l.Reset(ctx, "user:alice"); err == nil {
		t.Error("Reset on a closed store = nil, want an error")
	}
	if _, err := l.Sweep(ctx); err == nil {
		t.Error("Sweep on a closed store = nil error, want one")
	}
}

// BenchmarkLimiter measures the limiter with the real clock among 10000
// keys that have failed once. A login calls Check twice (account and
// address); a wrong password adds two Fails. Each Fail commits, so its
// time is mostly the server's WAL flush: "durable" is the limiter as it
// runs, "unflushed" the same on connections with synchronous_commit off,
// which shows the cost of the statement itself.
func BenchmarkLimiter(b *testing.B) {
	b.Run("durable", func(b *testing.B) { benchLimiter(b, openTest(b)) })
	b.Run("unflushed", func(b *testing.B) { benchLimiter(b, openInstances(b, 1, 4, "synchronous_commit", "off")[0]) })
}

func benchLimiter(b *testing.B, db *DB) {
	ctx := b.Context()
	p := throttle.Policy{MaxFailures: throttle.MaxMaxFailures, Window: time.Hour, BanTime: time.Minute, MaxBan: time.Hour}
	l := newLimiter(b, db, "account", p, nil)
	if _, err := db.pool.Exec(ctx, `INSERT INTO throttle (limiter, key_hash, fails, expires_at)
		SELECT 'account', sha256(('user:u' || i)::bytea), ARRAY[$1::bigint], $1::bigint + $2
		FROM generate_series(0, 9999) AS i`, time.Now().UnixNano(), int64(p.Window)); err != nil {
		b.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `ANALYZE throttle`); err != nil {
		b.Fatal(err)
	}
	throttletest.Bench(b, l, p)
}
