package main

import (
	"context"
	"flag"
	"fmt"
	neturl "net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/password"
	"github.com/jwtgate/jwtgate/token"
)

// benchHelp is the rest of `jwtgate bench --help`.
const benchHelp = `Measures, on this machine, what capacity planning needs: the time of one
argon2id hash at jwtgate's parameters, logins per second (bounded by that
hash), access-token verifications per second with and without the
verified-token cache, and refresh-token rotations per second against the
store (each a durable write). It then suggests argon2id parameters for a
target login latency.

By default it works on a throwaway SQLite file. With --db it uses that store
and creates, then deletes, a user named bench-<random>: point it at a
staging database, not production.
`

// benchFlags defines `jwtgate bench`.
func benchFlags(fs *flag.FlagSet) func(cmdIO, []string) error {
	dbURL := fs.String("db", "", "store to measure (default: a throwaway SQLite file)")
	dur := fs.Duration("duration", 2*time.Second, "how long each measurement runs")
	target := fs.Duration("target", 100*time.Millisecond, "login latency to suggest argon2id parameters for")
	return func(c cmdIO, _ []string) error { return bench(c, *dbURL, dur, target) }
}

func bench(c cmdIO, dbURL string, dur, target *time.Duration) error {
	if *dur <= 0 || *target <= 0 {
		return usagef("--duration and --target must be positive")
	}
	url := dbURL
	if url == "" {
		dir, err := os.MkdirTemp("", "jwtgate-bench")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		url = "sqlite:" + filepath.Join(dir, "bench.db")
	}
	ctx := c.ctx
	store, err := openStore(ctx, url)
	if err != nil {
		return err
	}
	defer store.Close()
	kr, err := auth.NewKeyring(ctx, store, auth.KeyringOptions{Alg: token.EdDSA, PublishDelay: 10 * time.Minute, TokenLifetime: time.Hour})
	if err != nil {
		return err
	}
	// Generous limits: the benchmark must measure the work, not the throttle.
	svc, err := auth.New(ctx, store, kr, auth.Options{Issuer: "http://bench", AccessTTL: time.Hour})
	if err != nil {
		return err
	}
	name := "bench-" + token.NewID()[:8]
	const pw = "bench-password-123"
	if _, err := svc.CreateUser(ctx, name, pw, nil); err != nil {
		return err
	}
	defer svc.DeleteUser(context.WithoutCancel(ctx), name)

	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "machine\t%d CPUs (GOMAXPROCS %d), %s/%s\n", runtime.NumCPU(), runtime.GOMAXPROCS(0), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(tw, "store\t%s\n", redactURL(url))

	// One hash at the configured parameters, median of a few; then the
	// bare hash function on every core at once, which is what logins can
	// reach at best (hashes in parallel share memory bandwidth, so this is
	// less than cores ÷ one hash's time).
	hashTime := medianHash(password.OWASP, 7)
	p := password.OWASP
	workers := runtime.GOMAXPROCS(0)
	hashes := parallel(*dur, workers, func() error {
		_, err := password.Hash(pw, p)
		return err
	})
	fmt.Fprintf(tw, "argon2id hash (m=%d KiB, t=%d, p=%d)\t%s each; %.0f/s on %d cores in parallel\n",
		p.Memory, p.Time, p.Threads, hashTime.Round(time.Microsecond), hashes, workers)

	// Logins in parallel, as the server runs them (bounded by the hashing queue).
	logins := parallel(*dur, workers, func() error {
		_, err := svc.Login(ctx, name, pw, auth.Client{IP: "192.0.2.1"})
		return err
	})
	fmt.Fprintf(tw, "logins\t%.0f/s (%.2f× the bare hash)\n", logins, logins/hashes)

	tok, err := svc.Login(ctx, name, pw, auth.Client{})
	if err != nil {
		return err
	}
	verifier := token.NewVerifier(kr, []string{token.EdDSA}, token.VerifierOptions{Issuer: "http://bench"})
	cold := parallel(*dur, runtime.GOMAXPROCS(0), func() error { _, err := verifier.Verify(tok.Access); return err })
	warm := parallel(*dur, runtime.GOMAXPROCS(0), func() error { _, err := svc.Verify(tok.Access); return err })
	fmt.Fprintf(tw, "verifications (signature checked)\t%.0f/s\n", cold)
	fmt.Fprintf(tw, "verifications (cached, revocation checked)\t%.0f/s\n", warm)

	// Refresh rotations: one chain per worker, each rotation a transaction.
	var chains sync.Map
	var next atomic.Int64
	refreshes := parallel(*dur, runtime.GOMAXPROCS(0), func() error {
		id := next.Add(1) % int64(runtime.GOMAXPROCS(0))
		v, ok := chains.Load(id)
		if !ok {
			t, err := svc.Login(ctx, name, pw, auth.Client{})
			if err != nil {
				return err
			}
			v = t.Refresh
		}
		t, err := svc.Refresh(ctx, v.(string), auth.Client{})
		if err != nil {
			return err
		}
		chains.Store(id, t.Refresh)
		return nil
	})
	fmt.Fprintf(tw, "refresh rotations (durable writes)\t%.0f/s\n", refreshes)

	// Suggest: keep OWASP's memory, scale iterations to the target; never
	// below OWASP's t=2.
	perIter := hashTime / time.Duration(p.Time)
	t := max(int(*target/perIter), int(p.Time))
	fmt.Fprintf(tw, "suggested for a %s login\tm=%d KiB, t=%d, p=1 (about %s per hash; at least OWASP's m=19456,t=2)\n",
		*target, p.Memory, t, (perIter * time.Duration(t)).Round(time.Millisecond))
	return tw.Flush()
}

func medianHash(p password.Params, n int) time.Duration {
	times := make([]time.Duration, n)
	for i := range times {
		start := time.Now()
		_, _ = password.Hash("bench-password-123", p)
		times[i] = time.Since(start)
	}
	slices.Sort(times)
	return times[n/2]
}

// parallel runs f from workers goroutines for d and returns successes/s.
func parallel(d time.Duration, workers int, f func() error) float64 {
	var ok atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	start := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				if f() == nil {
					ok.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return float64(ok.Load()) / time.Since(start).Seconds()
}

// redactURL hides a password in a store URL before printing it.
func redactURL(s string) string {
	u, err := neturl.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, has := u.User.Password(); has {
		u.User = neturl.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
