package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/throttle"
	"github.com/jwtgate/jwtgate/internal/throttle/throttletest"
)

// The tests need a Redis server at $JGTEST_REDIS_URL (default
// redis://127.0.0.1:6379/0). They skip when it cannot be reached, unless
// $JGTEST_REQUIRE_REDIS=1.
func serverURL() string {
	if u := os.Getenv("JGTEST_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// runPrefix starts the name of every limiter this test run creates, so runs
// sharing a server never see each other's keys.
var runPrefix = func() string {
	b := make([]byte, 6)
	rand.Read(b)
	return "jgtest-" + hex.EncodeToString(b)
}()

var nameSeq atomic.Int64

// openTest opens a client to the test server and closes it when tb ends.
func openTest(tb testing.TB) *Client {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Open(ctx, serverURL())
	if err != nil {
		if os.Getenv("JGTEST_REQUIRE_REDIS") == "1" {
			tb.Fatalf("Redis not reachable at %s: %v", strings.TrimPrefix(serverURL(), "redis://"), err)
		}
		tb.Skipf("Redis not reachable at 127.0.0.1:6379: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// newLimiter returns a limiter with a name of its own, whose keys are
// deleted when tb ends.
func newLimiter(tb testing.TB, c *Client, p throttle.Policy, now func() time.Time) *Limiter {
	tb.Helper()
	name := runPrefix + "-" + strconv.FormatInt(nameSeq.Add(1), 10)
	l, err := c.Limiter(name, p, now)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { deletePrefix(tb, c, l.Prefix()) })
	return l
}

// deletePrefix deletes every key that starts with prefix (which holds no
// glob characters).
func deletePrefix(tb testing.TB, c *Client, prefix string) {
	ctx := context.Background()
	iter := c.rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Errorf("scanning %s*: %v", prefix, err)
		return
	}
	for len(keys) > 0 {
		n := min(len(keys), 1000)
		if err := c.rdb.Del(ctx, keys[:n]...).Err(); err != nil {
			tb.Errorf("deleting %s*: %v", prefix, err)
			return
		}
		keys = keys[n:]
	}
}

func TestLimiterContract(t *testing.T) {
	c := openTest(t)
	throttletest.Run(t, func(t *testing.T, p throttle.Policy, now func() time.Time) throttle.Limiter {
		return newLimiter(t, c, p, now)
	})
}

// TestLimiterAcrossClients has two clients, as two instances would, share
// one limiter: their failures add up, and a lock holds for both.
func TestLimiterAcrossClients(t *testing.T) {
	ctx := t.Context()
	c1, c2 := openTest(t), openTest(t)
	clock := throttletest.NewClock(throttletest.T0)
	p := throttle.DefaultAccountPolicy
	l1 := newLimiter(t, c1, p, clock.Now)
	l2, err := c2.Limiter(l1.Name(), p, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	ls := []*Limiter{l1, l2}
	for i := range p.MaxFailures {
		want := time.Duration(0)
		if i == p.MaxFailures-1 {
			want = p.BanTime
		}
		if got, err := ls[i%2].Fail(ctx, "user:alice"); err != nil || got != want {
			t.Fatalf("failure %d on client %d = %v, %v; want %v, nil", i+1, i%2+1, got, err, want)
		}
	}
	clock.Advance(10 * time.Second)
	for i, l := range ls {
		if got, err := l.Check(ctx, "user:alice"); err != nil || got != p.BanTime-10*time.Second {
			t.Errorf("Check on client %d = %v, %v; want %v, nil", i+1, got, err, p.BanTime-10*time.Second)
		}
	}
	if err := l2.Reset(ctx, "user:alice"); err != nil {
		t.Fatal(err)
	}
	if got, err := l1.Check(ctx, "user:alice"); err != nil || got != 0 {
		t.Errorf("Check on client 1 after Reset on client 2 = %v, %v; want 0, nil", got, err)
	}
}

// TestLimiterConcurrentClients has 50 goroutines over two clients fail one
// key at one instant: exactly the 50th failure locks it.
func TestLimiterConcurrentClients(t *testing.T) {
	const goroutines = 50
	ctx := t.Context()
	c1, c2 := openTest(t), openTest(t)
	clock := throttletest.NewClock(throttletest.T0)
	p := throttle.Policy{MaxFailures: goroutines, Window: time.Hour, BanTime: time.Minute, MaxBan: time.Hour}
	l1 := newLimiter(t, c1, p, clock.Now)
	l2, err := c2.Limiter(l1.Name(), p, clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		locks atomic.Int64
		errs  = make(chan error, goroutines)
	)
	for g := range goroutines {
		l := []*Limiter{l1, l2}[g%2]
		wg.Go(func() {
			<-start
			w, err := l.Fail(ctx, "user:alice")
			if err != nil {
				errs <- err
			}
			if w != 0 {
				locks.Add(1)
				if w != p.BanTime {
					errs <- fmt.Errorf("wait %v, want %v", w, p.BanTime)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := locks.Load(); n != 1 {
		t.Errorf("%d concurrent failures imposed %d locks, want 1", goroutines, n)
	}
	for i, l := range []*Limiter{l1, l2} {
		if got, err := l.Check(ctx, "user:alice"); err != nil || got != p.BanTime {
			t.Errorf("Check on client %d = %v, %v; want %v, nil", i+1, got, err, p.BanTime)
		}
	}
}

// TestLimiterKeys checks the key layout: the prefix, the hashed key, and
// an expiry on every written key.
func TestLimiterKeys(t *testing.T) {
	ctx := t.Context()
	c := openTest(t)
	p := throttle.DefaultAccountPolicy
	l := newLimiter(t, c, p, nil)
	if _, err := l.Fail(ctx, "user:alice"); err != nil {
		t.Fatal(err)
	}
	keys, err := c.rdb.Keys(ctx, l.Prefix()+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	// sha256("user:alice")
	if len(keys) != 1 || len(strings.TrimPrefix(keys[0], l.Prefix())) != 64 || strings.Contains(keys[0], "alice") {
		t.Fatalf("keys = %q, want one: the prefix and a hex SHA-256", keys)
	}
	ttl, err := c.rdb.PTTL(ctx, keys[0]).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= p.Window || ttl > p.Window+p.MaxBan {
		t.Errorf("PTTL = %v, want in (%v, %v]", ttl, p.Window, p.Window+p.MaxBan)
	}
}

func TestLimiterErrors(t *testing.T) {
	c := openTest(t)
	for _, name := range []string{"", "a b", "a*", "a:b", strings.Repeat("x", 65)} {
		if _, err := c.Limiter(name, throttle.Policy{}, nil); err == nil {
			t.Errorf("Limiter(%q) succeeded, want an error", name)
		}
	}
	if _, err := c.Limiter("ok", throttle.Policy{MaxFailures: -1}, nil); err == nil {
		t.Error("Limiter with an invalid policy succeeded, want an error")
	}
	// A store that fails must say so, never "allowed".
	l := newLimiter(t, c, throttle.Policy{}, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := l.Check(ctx, "user:alice"); !errors.Is(err, context.Canceled) {
		t.Errorf("Check with a canceled context: err = %v, want context.Canceled", err)
	}
	if _, err := l.Fail(ctx, "user:alice"); !errors.Is(err, context.Canceled) {
		t.Errorf("Fail with a canceled context: err = %v, want context.Canceled", err)
	}
	c2 := openTest(t)
	l2, err := c2.Limiter(l.Name(), throttle.Policy{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c2.Close()
	if _, err := l2.Check(t.Context(), "user:alice"); err == nil {
		t.Error("Check on a closed client succeeded, want an error")
	}
	if _, err := l2.Fail(t.Context(), "user:alice"); err == nil {
		t.Error("Fail on a closed client succeeded, want an error")
	}
}

// TestOpenHidesPassword checks that Open's errors never quote the URL's
// password, whether the URL does not parse, is refused, or cannot connect.
func TestOpenHidesPassword(t *testing.T) {
	const secret = "s3cretPa55"
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for _, u := range []string{
		"redis://user:" + secret + "@127.0.0.1:1/0",
		"redis://user:" + secret + "@127.0.0.1:6379/x",
		"redis://user:" + secret + "@127.0.0.1:6379/0",
		"redis://user:" + secret + "@127.0.0.1:bad/0",
		"redis://user:" + secret + "@[::1/0",
		"redis://user:" + secret + "@127.0.0.1:6379/0?dial_timeout=x",
		"http://user:" + secret + "@127.0.0.1:6379/0",
	} {
		c, err := Open(ctx, u)
		if err == nil {
			c.Close()
			continue // a server that takes any password
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Open error quotes the password: %v", err)
		}
	}
}

func BenchmarkLimiter(b *testing.B) {
	ctx := b.Context()
	c := openTest(b)
	p := throttle.Policy{MaxFailures: throttle.MaxMaxFailures, Window: time.Hour, BanTime: time.Minute, MaxBan: time.Hour}
	l := newLimiter(b, c, p, nil)
	for i := range 10_000 {
		if _, err := l.Fail(ctx, "user:u"+strconv.Itoa(i)); err != nil {
			b.Fatal(err)
		}
	}
	throttletest.Bench(b, l, p)
}
