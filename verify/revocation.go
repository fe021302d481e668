package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
)

// maxRevokedIDLen bounds a sid or jti in the feed; jwtgate's are 22 bytes.
const maxRevokedIDLen = 256

// Preallocated, so that rejecting a revoked token costs no allocation.
var (
	errSessionRevoked = fmt.Errorf("%w: %w (its session)", ErrUnauthenticated, ErrRevoked)
	errTokenRevoked   = fmt.Errorf("%w: %w (its jti)", ErrUnauthenticated, ErrRevoked)
)

// revocations follows the issuer's revocation feed (see the package
// documentation for its wire format). Verify reads an immutable revSet
// through an atomic pointer; the polling goroutine builds a new one when
// entries arrive or expire.
type revocations struct {
	url   string
	fetch *fetcher
	now   func() time.Time
	grace time.Duration // entries are kept this long after their exp: the token leeway
	log   *slog.Logger

	set atomic.Pointer[revSet]

	// Used only by the polling goroutine (and by New before it starts it).
	cursor  string
	failing bool
}

type revSet struct {
	sids   map[string]int64 // session id -> exp, unix seconds
	jtis   map[string]int64 // token id -> exp
	minExp int64            // the earliest exp in the set, MaxInt64 when empty
}

func newRevocations(u string, f *fetcher, now func() time.Time, grace time.Duration, log *slog.Logger) *revocations {
	r := &revocations{url: u, fetch: f, now: now, grace: grace, log: log}
	r.set.Store(&revSet{minExp: math.MaxInt64})
	return r
}

// check returns an error wrapping ErrRevoked if the session sid or the
// token jti is revoked.
func (r *revocations) check(sid, jti string) error {
	s := r.set.Load()
	if sid != "" {
		if _, ok := s.sids[sid]; ok {
			return errSessionRevoked
		}
	}
	if jti != "" {
		if _, ok := s.jtis[jti]; ok {
			return errTokenRevoked
		}
	}
	return nil
}

// run polls every interval until ctx ends. A timer, not a ticker: a slow
// poll delays the next one instead of queueing it.
func (r *revocations) run(ctx context.Context, interval time.Duration) {
	t := time.NewTimer(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		r.pollAndLog(ctx)
		t.Reset(interval)
	}
}

// pollAndLog polls once and logs changes of health only, so a feed that is
// down for an hour makes two lines, not one every poll.
func (r *revocations) pollAndLog(ctx context.Context) {
	err := r.poll(ctx)
	switch {
	case err == nil:
		if r.failing {
			r.log.Info("verify: revocation feed answers again", "url", r.url)
			r.failing = false
		}
	case ctx.Err() != nil: // closing
	case !r.failing:
		r.log.Warn("verify: revocation feed unavailable; tokens revoked meanwhile are accepted until it answers",
			"url", r.url, "err", err)
		r.failing = true
	default:
		r.log.Debug("verify: revocation feed still unavailable", "url", r.url, "err", err)
	}
}

// poll reads the entries since the cursor and applies them. A 400 means
// the issuer no longer knows the cursor: start over from the full list. A
// page with entries is followed by another request at once, so a client
// far behind (the server caps a page) catches up now, not a page per
// interval; it stops at an empty page or a cursor that does not move.
func (r *revocations) poll(ctx context.Context) error {
	restarted := false
	for range maxFeedPagesPerPoll {
		before := r.cursor
		n, err := r.pollOnce(ctx)
		if se := (*statusError)(nil); errors.As(err, &se) && se.code == http.StatusBadRequest && r.cursor != "" && !restarted {
			r.log.Info("verify: revocation feed refused the cursor; reading it from the start", "url", r.url)
			r.cursor, restarted = "", true
			continue
		}
		if err != nil || n == 0 || r.cursor == before {
			return err
		}
	}
	return nil
}

// maxFeedPagesPerPoll bounds the catching up one poll does.
const maxFeedPagesPerPoll = 64

type feedEntry struct {
	SID string `json:"sid"`
	JTI string `json:"jti"`
	Exp int64  `json:"exp"`
}

// pollOnce makes one request and returns how many entries it carried.
func (r *revocations) pollOnce(ctx context.Context) (int, error) {
	u := r.url
	if r.cursor != "" {
		u += "?since=" + url.QueryEscape(r.cursor)
	}
	body, _, err := r.fetch.get(ctx, u, maxRevocationFeedLen)
	if err != nil {
		return 0, err
	}
	var feed struct {
		Cursor      string      `json:"cursor"`
		Revocations []feedEntry `json:"revocations"`
	}
	if err := json.Unmarshal(body, &feed); err != nil {
		return 0, fmt.Errorf("revocation feed %s: %w", r.url, err)
	}
	if len(feed.Cursor) > maxRevocationCursorLen {
		return 0, fmt.Errorf("revocation feed %s: cursor of %d bytes, limit %d", r.url, len(feed.Cursor), maxRevocationCursorLen)
	}
	r.apply(feed.Revocations)
	r.cursor = feed.Cursor
	return len(feed.Revocations), nil
}

// apply adds entries and drops expired ones, publishing a new set only if
// something changed.
func (r *revocations) apply(entries []feedEntry) {
	// Keep an entry while a token it covers may still pass exp with
	// leeway; one second more for the truncation to whole seconds.
	cutoff := r.now().Add(-r.grace - time.Second).Unix()
	old := r.set.Load()
	var add []feedEntry
	bad := 0
	for _, e := range entries {
		if (e.SID == "") == (e.JTI == "") || len(e.SID) > maxRevokedIDLen || len(e.JTI) > maxRevokedIDLen {
			bad++
			continue
		}
		if e.Exp <= cutoff {
			continue
		}
		known := old.jtis
		id := e.JTI
		if e.SID != "" {
			known, id = old.sids, e.SID
		}
		if exp, ok := known[id]; ok && exp >= e.Exp {
			continue
		}
		add = append(add, e)
	}
	if bad > 0 {
		r.log.Debug("verify: revocation feed entries without exactly one of sid and jti ignored", "count", bad)
	}
	if len(add) == 0 && old.minExp > cutoff {
		return
	}
	next := &revSet{
		sids:   make(map[string]int64, len(old.sids)),
		jtis:   make(map[string]int64, len(old.jtis)),
		minExp: math.MaxInt64,
	}
	put := func(m map[string]int64, id string, exp int64) {
		if exp <= cutoff {
			return
		}
		if cur, ok := m[id]; !ok || exp > cur {
			m[id] = exp
		}
		next.minExp = min(next.minExp, exp)
	}
	for id, exp := range old.sids {
		put(next.sids, id, exp)
	}
	for id, exp := range old.jtis {
		put(next.jtis, id, exp)
	}
	for _, e := range add {
		if e.SID != "" {
			put(next.sids, e.SID, e.Exp)
		} else {
			put(next.jtis, e.JTI, e.Exp)
		}
	}
	r.set.Store(next)
}
