package jwtgate

import (
	"context"
	"time"
)

// Session is one login: the thing a refresh token keeps alive and a logout
// ends. Access tokens carry its ID as the "sid" claim.
type Session struct {
	ID         string // random, URL-safe; not a secret (it appears in tokens)
	UserID     int64
	CreatedAt  time.Time
	ExpiresAt  time.Time  // absolute end of the session
	LastUsedAt time.Time  // last login or refresh; the idle timeout counts from it
	RevokedAt  *time.Time // nil while live
	IP         string
	UserAgent  string
	// AMR are the authentication methods the login used (RFC 8176 values:
	// "pwd", "otp", "hwk", "swk", "user", "mfa"). Every access token of
	// the session carries them, refreshed ones too. Stored with the session
	// ("pwd" when empty: sessions from before amr were password logins).
	AMR []string
}

// Live reports whether s is neither revoked nor expired at now.
func (s *Session) Live(now time.Time) bool {
	return s.RevokedAt == nil && now.Before(s.ExpiresAt)
}

// RefreshToken is the stored form of a refresh token: only its SHA-256 hash
// is kept, so a copy of the database yields no usable token. A refresh token
// is spent by its first use, which creates its successor.
type RefreshToken struct {
	Hash      []byte // SHA-256 of the token
	SessionID string
	CreatedAt time.Time
	SpentAt   *time.Time // nil until used
}

// SessionStore keeps sessions and their refresh tokens. Implementations are
// safe for concurrent use.
type SessionStore interface {
	// CreateSession inserts s (LastUsedAt defaults to CreatedAt). ErrNotFound
	// if s.UserID names no user; ErrConflict if s.ID exists.
	CreateSession(ctx context.Context, s *Session) error
	// StartSession inserts s, its first refresh token rt and, unless ev is
	// nil, the audit event ev that records the login (setting ev.ID), all
	// in one transaction: one durable write per login instead of two, and
	// no session without its event or event without its session. Errors as
	// CreateSession's; on any error nothing is stored.
	StartSession(ctx context.Context, s *Session, rt *RefreshToken, ev *AuditEvent) error
	// SessionsByUser returns the user's sessions, newest first, including
	// revoked and expired ones that have not been purged.
	SessionsByUser(ctx context.Context, userID int64) ([]Session, error)
	// CreateRefreshToken inserts a refresh token. ErrNotFound if its session
	// does not exist.
	CreateRefreshToken(ctx context.Context, rt *RefreshToken) error
	// RefreshTokenByHash finds a refresh token by hash. ErrNotFound if none.
	RefreshTokenByHash(ctx context.Context, hash []byte) (*RefreshToken, error)
	// SpendRefreshToken atomically marks the token spent at `at` unless it
	// already was, inserts next (its successor) and sets the session's
	// LastUsedAt, all in one transaction. It reports false, changing
	// nothing, if the token was already spent: exactly one of any number of
	// concurrent callers gets true. ErrNotFound if there is no such token.
	SpendRefreshToken(ctx context.Context, hash []byte, at time.Time, next *RefreshToken) (bool, error)
	// SessionByID finds a session. ErrNotFound if none.
	SessionByID(ctx context.Context, id string) (*Session, error)
	// EvictSessions caps the user's live sessions (not revoked, not expired
	// at `at`): if there are more than max, it keeps the keep most recently
	// used (by LastUsedAt, then CreatedAt, then ID, newest first) and
	// revokes the others at `at`, appending a feed entry expiring at until
	// for each, in one transaction, as RevokeSessions does. It returns the
	// ids revoked (none is not an error). keep below max lets one eviction
	// make room for several logins.
	EvictSessions(ctx context.Context, userID int64, max, keep int, at, until time.Time) ([]string, error)
}
