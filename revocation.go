package jwtgate

import (
	"context"
	"time"
)

// Revocation is one entry of the revocation feed: a session or a single
// access token that must be refused although its token has not expired.
// Every instance, and every service using the verify package, follows the
// feed, so a logout takes effect everywhere within seconds.
type Revocation struct {
	Seq       int64  // position in the feed, assigned by the store; the feed's cursor
	SessionID string // exactly one of SessionID and TokenID is set
	TokenID   string
	// ExpiresAt is when every token the entry affects has expired, after
	// which the entry can be forgotten.
	ExpiresAt time.Time
}

// SessionFilter selects sessions to revoke: the one with ID (checked to
// belong to UserID when UserID is set), or, with ID empty, every live
// session of UserID except ExceptID.
type SessionFilter struct {
	ID       string
	UserID   int64
	ExceptID string
}

// RevocationStore keeps the revocation feed. Implementations are safe for
// concurrent use.
type RevocationStore interface {
	// RevokeSessions marks every live session matched by f revoked at `at`
	// and appends a feed entry expiring at until for each, in one
	// transaction. It returns the ids revoked (none is not an error).
	RevokeSessions(ctx context.Context, f SessionFilter, at, until time.Time) ([]string, error)
	// RevokeToken appends a feed entry for one access token by its jti.
	RevokeToken(ctx context.Context, jti string, until time.Time) error
	// Revocations returns up to limit entries with Seq > since that expire
	// after now, in Seq order.
	Revocations(ctx context.Context, since int64, now time.Time, limit int) ([]Revocation, error)
	// LastRevocationSeq returns the highest Seq ever assigned (0 for none),
	// pruned entries included, so a cursor beyond it can be recognised as
	// not from this feed (a restored or replaced database).
	LastRevocationSeq(ctx context.Context) (int64, error)
	// PruneRevocations deletes entries that expired before t.
	PruneRevocations(ctx context.Context, t time.Time) (int, error)
}
