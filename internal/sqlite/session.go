package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
)

// CreateSession inserts s. It returns an error wrapping jwtgate.ErrNotFound
// if s.UserID names no user (the user was deleted meanwhile), and one
// wrapping jwtgate.ErrConflict if a session with s.ID exists.
func (db *DB) CreateSession(ctx context.Context, s *jwtgate.Session) error {
	return insertSession(ctx, db.w, s)
}

// StartSession inserts s, its first refresh token and, unless ev is nil,
// the audit event of the login (setting ev.ID) in one transaction, so one
// commit: the same errors as CreateSession, and on any error nothing is
// stored.
func (db *DB) StartSession(ctx context.Context, s *jwtgate.Session, rt *jwtgate.RefreshToken, ev *jwtgate.AuditEvent) error {
	tx, err := db.w.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: start session: %w", err)
	}
	defer tx.Rollback()
	if err := insertSession(ctx, tx, s); err != nil {
		return err
	}
	if err := insertRefreshToken(ctx, tx, rt); err != nil {
		return err
	}
	if ev != nil {
		if err := insertAudit(ctx, tx, ev); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: start session: %w", err)
	}
	return nil
}

func insertSession(ctx context.Context, ex execer, s *jwtgate.Session) error {
	lastUsed := s.LastUsedAt
	if lastUsed.IsZero() {
		lastUsed = s.CreatedAt
	}
	_, err := ex.ExecContext(ctx, `
		INSERT INTO sessions (id, user_id, created_at, expires_at, last_used_at, revoked_at, ip, user_agent, amr)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.UserID, sqlrow.Millis(s.CreatedAt), sqlrow.Millis(s.ExpiresAt), sqlrow.Millis(lastUsed), sqlrow.NullMillis(s.RevokedAt),
		s.IP, s.UserAgent, sqlrow.AMR(s.AMR))
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
	s, err := sqlrow.ScanSession(db.db.QueryRowContext(ctx, `SELECT `+sqlrow.SessionColumns+` FROM sessions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: session %s: %w", id, jwtgate.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: session %s: %w", id, err)
	}
	return s, nil
}

// SessionsByUser returns the user's sessions, newest first.
func (db *DB) SessionsByUser(ctx context.Context, userID int64) ([]jwtgate.Session, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+sqlrow.SessionColumns+` FROM sessions
		WHERE user_id = ? ORDER BY created_at DESC, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: sessions of user %d: %w", userID, err)
	}
	defer rows.Close()
	var out []jwtgate.Session
	for rows.Next() {
		s, err := sqlrow.ScanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: sessions of user %d: %w", userID, err)
		}
		out = append(out, *s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: sessions of user %d: %w", userID, err)
	}
	return out, nil
}

// CreateRefreshToken inserts rt. It returns an error wrapping
// jwtgate.ErrNotFound if its session does not exist.
func (db *DB) CreateRefreshToken(ctx context.Context, rt *jwtgate.RefreshToken) error {
	return insertRefreshToken(ctx, db.w, rt)
}

// execer is what *sql.DB and *sql.Tx share for writes.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func insertRefreshToken(ctx context.Context, ex execer, rt *jwtgate.RefreshToken) error {
	_, err := ex.ExecContext(ctx, `
		INSERT INTO refresh_tokens (hash, session_id, created_at, spent_at) VALUES (?, ?, ?, ?)`,
		rt.Hash, rt.SessionID, sqlrow.Millis(rt.CreatedAt), sqlrow.NullMillis(rt.SpentAt))
	switch {
	case isForeignKeyViolation(err):
		return fmt.Errorf("sqlite: create refresh token for session %s: %w", rt.SessionID, jwtgate.ErrNotFound)
	case isUniqueViolation(err):
		return fmt.Errorf("sqlite: create refresh token for session %s: %w", rt.SessionID, jwtgate.ErrConflict)
	case err != nil:
		return fmt.Errorf("sqlite: create refresh token for session %s: %w", rt.SessionID, err)
	}
	return nil
}

// RefreshTokenByHash finds a refresh token by its hash. It returns an error
// wrapping jwtgate.ErrNotFound if there is none.
func (db *DB) RefreshTokenByHash(ctx context.Context, hash []byte) (*jwtgate.RefreshToken, error) {
	rt := jwtgate.RefreshToken{Hash: hash}
	var created int64
	var spent *int64
	err := db.db.QueryRowContext(ctx, `SELECT session_id, created_at, spent_at FROM refresh_tokens WHERE hash = ?`, hash).
		Scan(&rt.SessionID, &created, &spent)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: refresh token: %w", jwtgate.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: refresh token: %w", err)
	}
	rt.CreatedAt = sqlrow.Time(created)
	rt.SpentAt = sqlrow.NullTime(spent)
	return &rt, nil
}

// SpendRefreshToken marks the token spent, inserts its successor and
// touches the session, in one immediate transaction: of concurrent callers
// exactly one sees the token unspent.
func (db *DB) SpendRefreshToken(ctx context.Context, hash []byte, at time.Time, next *jwtgate.RefreshToken) (bool, error) {
	tx, err := db.w.BeginTx(ctx)
	if err != nil {
		return false, fmt.Errorf("sqlite: spend refresh token: %w", err)
	}
	defer tx.Rollback()
	var sessionID string
	err = tx.QueryRowContext(ctx, `
		UPDATE refresh_tokens SET spent_at = ? WHERE hash = ? AND spent_at IS NULL
		RETURNING session_id`, sqlrow.Millis(at), hash).Scan(&sessionID)
	if errors.Is(err, sql.ErrNoRows) {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM refresh_tokens WHERE hash = ?`, hash).Scan(&n); err != nil {
			return false, fmt.Errorf("sqlite: spend refresh token: %w", err)
		}
		if n == 0 {
			return false, fmt.Errorf("sqlite: spend refresh token: %w", jwtgate.ErrNotFound)
		}
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("sqlite: spend refresh token: %w", err)
	}
	if err := insertRefreshToken(ctx, tx, next); err != nil {
		return false, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET last_used_at = ? WHERE id = ?`, sqlrow.Millis(at), sessionID); err != nil {
		return false, fmt.Errorf("sqlite: spend refresh token: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlite: spend refresh token: %w", err)
	}
	return true, nil
}

// EvictSessions revokes the user's live sessions beyond the keep most
// recently used when there are more than max. It first counts them on the
// read pool, so the common case (under the cap) costs no write
// transaction; the write transaction then chooses again, so concurrent
// logins never evict a session that is among the newest keep when it runs.
func (db *DB) EvictSessions(ctx context.Context, userID int64, max, keep int, at, until time.Time) ([]string, error) {
	var n int
	if err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM sessions
		WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?`, userID, sqlrow.Millis(at)).Scan(&n); err != nil {
		return nil, fmt.Errorf("sqlite: evict sessions of user %d: %w", userID, err)
	}
	if n <= max {
		return nil, nil
	}
	tx, err := db.w.BeginTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: evict sessions of user %d: %w", userID, err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `
		UPDATE sessions SET revoked_at = ?
		WHERE id IN (SELECT id FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?
			ORDER BY last_used_at DESC, created_at DESC, id DESC LIMIT -1 OFFSET ?)
		RETURNING id`, sqlrow.Millis(at), userID, sqlrow.Millis(at), keep)
	if err != nil {
		return nil, fmt.Errorf("sqlite: evict sessions of user %d: %w", userID, err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: evict sessions of user %d: %w", userID, err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: evict sessions of user %d: %w", userID, err)
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `INSERT INTO revocations (session_id, expires_at) VALUES (?, ?)`, id, sqlrow.Millis(until)); err != nil {
			return nil, fmt.Errorf("sqlite: evict sessions of user %d: %w", userID, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: evict sessions of user %d: %w", userID, err)
	}
	return ids, nil
}
