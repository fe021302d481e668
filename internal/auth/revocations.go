package auth

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtgate/jwtgate"
)

// Revocations is this instance's copy of the revocation feed: the sessions
// and tokens that must be refused although their access tokens have not
// expired. Sync pulls new entries from the store (every instance calls it
// every second or so); Revoked is a lock-free lookup on the verify path.
type Revocations struct {
	store jwtgate.RevocationStore
	now   func() time.Time
	mu    sync.Mutex // serialises Sync; guards cursor
	// cursor is the Seq of the last entry read.
	cursor int64
	state  atomic.Pointer[revState]
}

// revState is immutable once published.
type revState struct {
	sids, jtis map[string]time.Time // id → when the entry may be forgotten
	nextExpiry time.Time            // earliest expiry, to know when to drop
}

// NewRevocations returns an empty set; call Sync to load it.
func NewRevocations(store jwtgate.RevocationStore, now func() time.Time) *Revocations {
	if now == nil {
		now = time.Now
	}
	r := &Revocations{store: store, now: now}
	r.state.Store(&revState{sids: map[string]time.Time{}, jtis: map[string]time.Time{}})
	return r
}

// Revoked reports whether a token with this sid or jti is revoked.
func (r *Revocations) Revoked(sid, jti string) bool {
	s := r.state.Load()
	if sid != "" {
		if _, ok := s.sids[sid]; ok {
			return true
		}
	}
	if jti != "" {
		if _, ok := s.jtis[jti]; ok {
			return true
		}
	}
	return false
}

// feedPage bounds one read of the feed.
const feedPage = 1000

// Sync reads entries added to the store since the last Sync and drops
// entries past their expiry.
func (r *Revocations) Sync(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.now()
	var fresh []jwtgate.Revocation
	for {
		page, err := r.store.Revocations(ctx, r.cursor, now, feedPage)
		if err != nil {
			return fmt.Errorf("auth: sync revocations: %w", err)
		}
		fresh = append(fresh, page...)
		if len(page) > 0 {
			r.cursor = page[len(page)-1].Seq
		}
		if len(page) < feedPage {
			break
		}
	}
	old := r.state.Load()
	if len(fresh) == 0 && (old.nextExpiry.IsZero() || now.Before(old.nextExpiry)) {
		return nil // nothing changed: no copy
	}
	next := &revState{sids: maps.Clone(old.sids), jtis: maps.Clone(old.jtis)}
	for _, e := range fresh {
		if e.SessionID != "" {
			next.sids[e.SessionID] = e.ExpiresAt
		} else {
			next.jtis[e.TokenID] = e.ExpiresAt
		}
	}
	for _, m := range []map[string]time.Time{next.sids, next.jtis} {
		for id, exp := range m {
			if !exp.After(now) {
				delete(m, id)
			} else if next.nextExpiry.IsZero() || exp.Before(next.nextExpiry) {
				next.nextExpiry = exp
			}
		}
	}
	r.state.Store(next)
	return nil
}

// Len reports how many entries are held (for metrics and tests).
func (r *Revocations) Len() int {
	s := r.state.Load()
	return len(s.sids) + len(s.jtis)
}

// feedLimit bounds one answer of the public feed; a client far behind gets
// the rest on its next poll.
const feedLimit = 10000

// RevocationFeed returns the feed entries after since that have not expired,
// and the cursor a client passes next (since itself when nothing is new).
func (s *Service) RevocationFeed(ctx context.Context, since int64) ([]jwtgate.Revocation, int64, error) {
	entries, err := s.store.Revocations(ctx, since, s.o.Now(), feedLimit)
	if err != nil {
		return nil, 0, fmt.Errorf("auth: revocation feed: %w", err)
	}
	cursor := since
	if len(entries) > 0 {
		cursor = entries[len(entries)-1].Seq
	} else if since > 0 {
		// Nothing new: make sure the cursor came from this feed. One past
		// its end (a restored or replaced database) would otherwise wait
		// silently until new entries overtook it, missing every revocation
		// in between; clients answered 400 start over from the beginning.
		last, err := s.store.LastRevocationSeq(ctx)
		if err != nil {
			return nil, 0, fmt.Errorf("auth: revocation feed: %w", err)
		}
		if since > last {
			return nil, 0, fmt.Errorf("%w: cursor %d is past the end of the feed (%d); start again without one", jwtgate.ErrInvalid, since, last)
		}
	}
	return entries, cursor, nil
}
