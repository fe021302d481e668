package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jwtgate/jwtgate"
)

// CreateSession inserts s. It returns an error wrapping jwtgate.ErrNotFound
// if s.UserID names no user (the user was deleted meanwhile), and one
// wrapping jwtgate.ErrConflict if a session with s.ID exists.
func (db *DB) CreateSession(ctx context.Context, s *jwtgate.Session) error {
	_, err := db.db.ExecContext(ctx, `
		INSERT INTO sessions (id, user_id, created_at, expires_at, revoked_at, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.UserID, millis(s.CreatedAt), millis(s.ExpiresAt), nullMillis(s.RevokedAt),
		s.IP, s.UserAgent)
	switch {
	case isForeignKeyViolation(err):
		return fmt.Errorf("sqlite: create session for user %d: %w", s.UserID, jwtgate.ErrNotFound)
	case isUniqueViolation(err):
		return fmt.Errorf("sqlite: create session %s: %w", s.ID, jwtgate.ErrConflict)
	case err != nil:
		return fmt.Errorf("sqlite: create session %s: %w", s.ID, err)
	}
	return nil
}

// SessionByID finds a session. It returns an error wrapping
// jwtgate.ErrNotFound if there is none.
func (db *DB) SessionByID(ctx context.Context, id string) (*jwtgate.Session, error) {
	var (
		s                = jwtgate.Session{ID: id}
		created, expires int64
		revoked          sql.NullInt64
	)
	err := db.db.QueryRowContext(ctx, `
		SELECT user_id, created_at, expires_at, revoked_at, ip, user_agent
		FROM sessions WHERE id = ?`, id).
		Scan(&s.UserID, &created, &expires, &revoked, &s.IP, &s.UserAgent)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: session %s: %w", id, jwtgate.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: session %s: %w", id, err)
	}
	s.CreatedAt = fromMillis(created)
	s.ExpiresAt = fromMillis(expires)
	s.RevokedAt = fromNullMillis(revoked)
	return &s, nil
}

// RevokeSession marks the session revoked at at. Revoking a revoked session
// keeps the first time, so a replayed logout cannot move it, and is not an
// error. It returns an error wrapping jwtgate.ErrNotFound if there is no
// such session.
func (db *DB) RevokeSession(ctx context.Context, id string, at time.Time) error {
	res, err := db.db.ExecContext(ctx, `
		UPDATE sessions SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`,
		millis(at), id)
	return oneRow(res, err, "revoke session %s", id)
}
