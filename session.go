package jwtgate

import (
	"context"
	"time"
)

// Session is one login: the thing a refresh token keeps alive and a logout
// ends. Access tokens carry its ID as the "sid" claim.
type Session struct {
	ID        string // random, URL-safe; not a secret (it appears in tokens)
	UserID    int64
	CreatedAt time.Time
	ExpiresAt time.Time  // absolute end of the session
	RevokedAt *time.Time // nil while live
	IP        string
	UserAgent string
}

// Live reports whether s is neither revoked nor expired at now.
func (s *Session) Live(now time.Time) bool {
	return s.RevokedAt == nil && now.Before(s.ExpiresAt)
}

// SessionStore keeps sessions. Implementations are safe for concurrent use.
type SessionStore interface {
	// CreateSession inserts s.
	CreateSession(ctx context.Context, s *Session) error
	// SessionByID finds a session. ErrNotFound if none.
	SessionByID(ctx context.Context, id string) (*Session, error)
	// RevokeSession marks a session revoked at the given time; revoking an
	// already revoked session keeps the first time and is not an error.
	// ErrNotFound if no such session.
	RevokeSession(ctx context.Context, id string, at time.Time) error
}
