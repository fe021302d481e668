package postgres

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate"
)

// follower reads the feed as a verify middleware does: from a cursor, a
// page at a time, never going back.
type follower struct {
	db     *DB
	cursor int64
	seen   map[string]int // entry (session or token id) → times seen
}

func newFollower(db *DB) *follower { return &follower{db: db, seen: map[string]int{}} }

// poll reads what is new since the cursor and reports how many entries it
// got. Seqs must come strictly after the cursor and in increasing order.
// It reports failures with t.Errorf, so it may run in another goroutine.
func (f *follower) poll(t *testing.T, ctx context.Context, now time.Time, limit int) int {
	t.Helper()
	total := 0
	for {
		page, err := f.db.Revocations(ctx, f.cursor, now, limit)
		if err != nil {
			t.Errorf("Revocations(since %d) = %v, want nil", f.cursor, err)
			return total
		}
		for _, r := range page {
			if r.Seq <= f.cursor {
				t.Errorf("Revocations(since %d) returned seq %d, want > %d, ascending", f.cursor, r.Seq, f.cursor)
			}
			f.cursor = r.Seq
			f.seen[r.SessionID+r.TokenID]++
		}
		total += len(page)
		if len(page) < limit {
			return total
		}
	}
}

// TestRevocationFeedWaitsForEarlierSeq shows the problem the feed's lock
// solves, step by step. An insert draws seq n and has not committed; a
// second revocation comes. Without the lock it would draw n+1 and commit
// first, a follower would read n+1 and move its cursor past n, and n,
// committed a moment later, would never reach that follower. With the
// lock the second revocation waits, so followers see n, then n+1.
func TestRevocationFeedWaitsForEarlierSeq(t *testing.T) {
	ctx := t.Context()
	db := openTest(t)
	until := time.Now().Add(time.Hour)
	f := newFollower(db)

	// A slow revoker: its entry is inserted, its seq drawn, not committed.
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	if err := appendFeed(ctx, tx, feedTokens, []string{"slow"}, until); err != nil {
		t.Fatalf("appendFeed(slow) = %v, want nil", err)
	}

	done := make(chan error, 1)
	go func() { done <- db.RevokeToken(ctx, "fast", until) }()
	// Wait until the fast revoker is queued on the feed's lock (as the
	// server sees it, not as a sleep guesses it), or has finished, which
	// it must not.
	fastDone := false
	deadline := time.Now().Add(10 * time.Second)
	for !fastDone {
		var waiting int
		err := db.pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks
			WHERE locktype = 'advisory' AND NOT granted
			AND classid = $1::bigint::oid AND objid = 'revocations'::regclass::oid`, lockClass).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		select {
		case err := <-done:
			t.Errorf("RevokeToken(fast) = %v while an earlier entry was uncommitted; want it to wait for that entry", err)
			fastDone = true
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("RevokeToken(fast) neither waits for the feed's lock nor returns after 10s")
		}
	}
	if n := f.poll(t, ctx, time.Now(), 10); n != 0 {
		t.Errorf("follower read %d entries while the first was uncommitted, want 0", n)
	}

	if err := tx.Commit(ctx); err != nil {
		t.Fatalf("Commit(slow) = %v", err)
	}
	if !fastDone {
		if err := <-done; err != nil {
			t.Fatalf("RevokeToken(fast) = %v, want nil", err)
		}
	}
	f.poll(t, ctx, time.Now(), 10)
	for _, id := range []string{"slow", "fast"} {
		if f.seen[id] != 1 {
			t.Errorf("follower saw %q %d times, want once", id, f.seen[id])
		}
	}
	all, err := db.Revocations(ctx, 0, time.Now(), 10)
	if err != nil || len(all) != 2 || all[0].TokenID != "slow" || all[1].TokenID != "fast" {
		t.Errorf("Revocations(0) = %+v, %v; want slow, then fast", all, err)
	}
}

// TestRevocationFeedConcurrent has many revokers (sessions and tokens) at
// once while a follower polls with its cursor in small pages: it must see
// every entry exactly once, whatever the interleaving of commits.
func TestRevocationFeedConcurrent(t *testing.T) {
	ctx := t.Context()
	dbURL := freshSchema(t)
	db, err := Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// The follower is another instance, with its own pool: on the writers'
	// pool it would mostly wait for a connection while they write.
	other, err := Open(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	now := time.Now()
	until := now.Add(time.Hour)
	const writers, each = 8, 40

	u := &jwtgate.User{Name: "feed", PasswordHash: "h"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	for w := range writers {
		for i := range each / 2 {
			s := &jwtgate.Session{ID: fmt.Sprintf("s-%d-%d", w, i), UserID: u.ID, CreatedAt: now, ExpiresAt: until}
			if err := db.CreateSession(ctx, s); err != nil {
				t.Fatal(err)
			}
		}
	}

	f := newFollower(other)
	var writing atomic.Bool
	writing.Store(true)
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		for writing.Load() && !t.Failed() {
			f.poll(t, ctx, now, 3)
		}
		f.poll(t, ctx, now, 3) // what committed after the last poll
	}()

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				var err error
				switch {
				case i%2 == 0:
					_, err = db.RevokeSessions(ctx, jwtgate.SessionFilter{ID: fmt.Sprintf("s-%d-%d", w, i/2)}, now, until)
				case i%4 == 1:
					err = db.RevokeToken(ctx, fmt.Sprintf("t-%d-%d", w, i), until)
				default:
					// A revoker slow to commit after drawing its seq (a
					// network hiccup before COMMIT, a slow fsync): the case
					// in which a later seq could otherwise commit first.
					err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
						if err := appendFeed(ctx, tx, feedTokens, []string{fmt.Sprintf("t-%d-%d", w, i)}, until); err != nil {
							return err
						}
						time.Sleep(time.Duration(rand.IntN(2000)) * time.Microsecond)
						return nil
					})
				}
				if err != nil {
					t.Errorf("revoking #%d of writer %d: %v", i, w, err)
				}
			}
		})
	}
	wg.Wait()
	writing.Store(false)
	<-followed

	missed := 0
	for w := range writers {
		for i := range each {
			id := fmt.Sprintf("t-%d-%d", w, i)
			if i%2 == 0 {
				id = fmt.Sprintf("s-%d-%d", w, i/2)
			}
			if n := f.seen[id]; n != 1 {
				missed++
				t.Errorf("follower saw %s %d times, want once", id, n)
			}
		}
	}
	if len(f.seen) != writers*each || missed > 0 {
		t.Errorf("follower saw %d distinct entries (%d wrong), want %d", len(f.seen), missed, writers*each)
	}
}
