package postgres

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate/internal/throttle"
)

// Brute-force counters shared by a cluster.
//
// A Limiter is throttle.Memory with its state in the table throttle
// (migrations/00004_throttle.sql), so that the per-account and per-address
// limits hold for every instance sharing the database, not for each one
// apart. It computes exactly what Memory computes, and meets the same
// contract (internal/throttle/throttletest): the sliding window, the locks
// doubling up to MaxBan, failures during a lock changing nothing, Reset, and
// forgetting a key a quiet Window after its last lock or failure.
//
// One row holds one key of one limiter: the failures within the window (a
// BIGINT[], fewer than MaxFailures ≤ 100, empty once the key has been
// locked), the strikes, when the lock ends, and when the row has nothing
// left to remember (expires_at). The primary key is the limiter's name and
// the SHA-256 of the key: keys are any bytes, which text cannot hold, and a
// hash keeps user names and addresses out of the table.
//
// Times are the limiter's clock (now), sent as parameters, never the
// server's: several instances agree as far as their clocks agree (keep them
// synchronized; a skew shifts windows and lock ends by as much), and tests
// can move time. They are unix nanoseconds, so waits are exact Durations.
//
// Atomicity. Fail is one INSERT … ON CONFLICT DO UPDATE whose new values
// are computed in SQL from the row as it is when the statement holds its
// lock (failSQL): the first failure of a key inserts its row, any later one
// updates it, and concurrent failures, from any number of processes, queue
// on the row lock and each sees the state its predecessor left. No failure
// is lost and exactly one imposes each lock. It is one statement and one
// round trip, so the row lock is never held across the network. A row past
// its expires_at reads as a key never seen, so an expired row needs no
// deleting before it is reused, and deleting it changes nothing.
//
// Check is one read by primary key, with no lock and no write. Reset
// deletes the row.
//
// Expiry. Rows of quiet keys would pile up, since most keys (a mistyped
// password, a sprayed user name) are never seen again. So Fail, once per
// sweepEvery in each process, also deletes up to sweepBatch of this
// limiter's expired rows, found by the index on (limiter, expires_at) and
// skipping rows that another transaction holds; if it found a full batch,
// the next Fail sweeps again. Each Fail adds at most one key and, while
// there is a backlog, removes up to sweepBatch, so the table holds the keys
// that failed within the last Window plus the longest lock, and little
// more; one Fail's extra work is bounded by one batch. Sweep does the same
// to the end, for a timer that empties the table while no failures come.
//
// Every instance must give a limiter name the same Policy: the rows carry
// no policy, and each Fail applies its own.
type Limiter struct {
	db          *DB
	name        string
	now         func() time.Time
	window      int64   // Policy.Window in nanoseconds
	maxFailures int     // Policy.MaxFailures
	bans        []int64 // Policy.BanFor(1), BanFor(2), … up to the first that is MaxBan, in nanoseconds
	maxBan      int64   // Policy.MaxBan in nanoseconds
	nextSweep   atomic.Int64
}

var _ throttle.Limiter = (*Limiter)(nil)

const (
	// maxStrikes caps the lock counter, as throttle.Memory does; BanFor has
	// long reached MaxBan.
	maxStrikes = 64
	// sweepEvery is how often Fail sweeps one limiter's expired rows in
	// one process, unless the last sweep found a full batch;
	// sweepBatch is how many rows one sweeping DELETE removes at most.
	sweepEvery = time.Minute
	sweepBatch = 1000
	// maxLimiterName bounds a limiter's name, which is part of every row's key.
	maxLimiterName = 64
)

// Limiter returns the limiter called name (say "account" or "ip"), with
// policy p (zero fields take their defaults), reading the time from now
// (time.Now if nil). Limiters of one name share their counts, in this
// process and in every other on the database; limiters of different names
// never do. It returns an error if p.Validate does, or if name is empty,
// longer than 64 bytes, or not storable text.
func (db *DB) Limiter(name string, p throttle.Policy, now func() time.Time) (*Limiter, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("postgres: limiter %q: %w", name, err)
	}
	if name == "" || len(name) > maxLimiterName || !storable(name) {
		return nil, fmt.Errorf("postgres: limiter %q: the name must be 1 to %d bytes of UTF-8 without NUL", name, maxLimiterName)
	}
	if now == nil {
		now = time.Now
	}
	p = p.WithDefaults()
	l := &Limiter{db: db, name: name, now: now, window: int64(p.Window), maxFailures: p.MaxFailures, maxBan: int64(p.MaxBan)}
	for s := 1; s <= maxStrikes; s++ {
		ban := p.BanFor(s)
		l.bans = append(l.bans, int64(ban))
		if ban >= p.MaxBan {
			break
		}
	}
	return l, nil
}

// Name returns the limiter's name.
func (l *Limiter) Name() string { return l.name }

// keyHash is the stored form of key.
func keyHash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// wait is how long a key locked until until waits at now.
func wait(until, now int64) time.Duration {
	return time.Duration(max(until-now, 0))
}

// Check implements throttle.Limiter: one read by primary key. A row that
// has expired has a lock that ended, so its expiry need not be read.
func (l *Limiter) Check(ctx context.Context, key string) (time.Duration, error) {
	now := l.now().UnixNano()
	var until int64
	err := l.db.pool.QueryRow(ctx, `SELECT locked_until FROM throttle WHERE limiter = $1 AND key_hash = $2`,
		l.name, keyHash(key)).Scan(&until)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, fmt.Errorf("postgres: throttle %s: check: %w", l.name, err)
	}
	return wait(until, now), nil
}

// failNext computes the state of a key after one more failure, the steps
// of throttle.Memory.Fail, from its state before: the row that PRIOR
// stands for (fails, strikes, locked_until, expires_at). Its parameters are
// those of failSQL.
const failNext = `
	SELECT CASE WHEN s.strikes = 0 THEN f.fails ELSE '{}' END,
	       s.strikes,
	       u.locked_until,
	       CASE WHEN s.strikes = 0 THEN f.fails[cardinality(f.fails)] ELSE u.locked_until END + q.win
	FROM (SELECT $3::bigint, $4::bigint, $5::integer, $6::bigint[], $7::bigint) AS q (now, win, max_failures, bans, max_ban),
	     (PRIOR) AS p (fails, strikes, locked_until, expires_at),
	     -- The key as it is now: a row past its expiry is a key never seen.
	     LATERAL (SELECT p.expires_at > q.now) AS a (alive),
	     LATERAL (SELECT CASE WHEN a.alive THEN p.fails ELSE '{}' END,
	                     CASE WHEN a.alive THEN p.strikes ELSE 0 END,
	                     CASE WHEN a.alive THEN p.locked_until ELSE 0 END) AS c (fails, strikes, locked_until),
	     LATERAL (SELECT c.strikes > 0 AND q.now < c.locked_until) AS l (locked),
	     -- Before the first lock: the failures still within the window, and
	     -- this one, never before the last, so that the log stays sorted
	     -- should the clock step back.
	     LATERAL (SELECT ARRAY(SELECT x FROM unnest(c.fails) AS x WHERE x > q.now - q.win ORDER BY x)) AS w (live),
	     LATERAL (SELECT w.live || greatest(q.now, w.live[cardinality(w.live)])) AS f (fails),
	     LATERAL (SELECT CASE
	         WHEN l.locked THEN c.strikes                          -- locked: nothing changes
	         WHEN c.strikes > 0 THEN least(c.strikes + 1, 64)      -- failing again after a lock: lock again, longer (64: maxStrikes)
	         WHEN cardinality(f.fails) >= q.max_failures THEN 1    -- the threshold: the first lock
	         ELSE 0 END) AS s (strikes),
	     LATERAL (SELECT CASE
	         WHEN l.locked THEN c.locked_until
	         WHEN s.strikes > 0 THEN q.now + coalesce(q.bans[s.strikes], q.max_ban)
	         ELSE 0 END) AS u (locked_until)`

// failSQL records a failure: $1 the limiter's name, $2 the key's hash, $3
// now, $4 Window, $5 MaxFailures, $6 the bans by strike, $7 MaxBan (times
// and durations in nanoseconds). The INSERT applies failNext to a key never
// seen; if the row exists, the UPDATE applies it to the row as it is once
// the statement holds the row's lock, which is what makes concurrent
// failures queue rather than overwrite each other. It returns when the key's
// lock ends (0 if it has none).
var failSQL = `
	INSERT INTO throttle AS t (limiter, key_hash, fails, strikes, locked_until, expires_at)
	SELECT $1::text, $2::bytea, n.* FROM (` + strings.Replace(failNext, "PRIOR", `VALUES ('{}'::bigint[], 0, 0::bigint, 0::bigint)`, 1) + `) AS n
	ON CONFLICT (limiter, key_hash) DO UPDATE SET (fails, strikes, locked_until, expires_at) =
	(` + strings.Replace(failNext, "PRIOR", `SELECT t.fails, t.strikes, t.locked_until, t.expires_at`, 1) + `)
	RETURNING locked_until`

// Fail implements throttle.Limiter in one statement (failSQL). A failure
// while key is locked changes nothing and returns the wait that remains.
// Once per sweepEvery, or at once after a full batch, it then deletes a
// batch of expired rows; an error there is not Fail's (the failure was
// recorded), and a later sweep tries again.
func (l *Limiter) Fail(ctx context.Context, key string) (time.Duration, error) {
	now := l.now().UnixNano()
	var until int64
	err := l.db.pool.QueryRow(ctx, failSQL, l.name, keyHash(key), now, l.window, l.maxFailures, l.bans, l.maxBan).Scan(&until)
	if err != nil {
		return 0, fmt.Errorf("postgres: throttle %s: fail: %w", l.name, err)
	}
	if next := l.nextSweep.Load(); now >= next && l.nextSweep.CompareAndSwap(next, now+int64(sweepEvery)) {
		if n, err := l.sweepBatch(ctx, now); err == nil && n == sweepBatch {
			l.nextSweep.Store(now) // a backlog: the next Fail continues
		}
	}
	return wait(until, now), nil
}

// Reset implements throttle.Limiter.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	_, err := l.db.pool.Exec(ctx, `DELETE FROM throttle WHERE limiter = $1 AND key_hash = $2`, l.name, keyHash(key))
	if err != nil {
		return fmt.Errorf("postgres: throttle %s: reset: %w", l.name, err)
	}
	return nil
}

// Sweep deletes this limiter's rows that have nothing left to remember,
// a batch at a time until none is left, and reports how many. Fail sweeps
// by itself; Sweep is for a timer, so that the table empties while no
// failures come. Instances sweeping at once do not wait for each other, nor
// for Fail: rows that another transaction holds are left for a later sweep.
func (l *Limiter) Sweep(ctx context.Context) (int, error) {
	now := l.now().UnixNano()
	total := 0
	for {
		n, err := l.sweepBatch(ctx, now)
		total += n
		if err != nil || n < sweepBatch {
			return total, err
		}
	}
}

// sweepBatch deletes up to sweepBatch of this limiter's rows that expired
// by now.
func (l *Limiter) sweepBatch(ctx context.Context, now int64) (int, error) {
	tag, err := l.db.pool.Exec(ctx, `
		DELETE FROM throttle WHERE limiter = $1 AND key_hash IN (
			SELECT key_hash FROM throttle WHERE limiter = $1 AND expires_at <= $2
			LIMIT $3 FOR UPDATE SKIP LOCKED)`, l.name, now, sweepBatch)
	if err != nil {
		return 0, fmt.Errorf("postgres: throttle %s: sweep: %w", l.name, err)
	}
	return int(tag.RowsAffected()), nil
}
