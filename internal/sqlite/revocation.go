package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
)

// RevokeSessions revokes every live session f selects and appends one feed
// entry per session, in one immediate transaction, so the feed never misses
// a revoked session nor announces one that was not.
func (db *DB) RevokeSessions(ctx context.Context, f jwtgate.SessionFilter, at, until time.Time) ([]string, error) {
	tx, err := db.w.BeginTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: revoke sessions: %w", err)
	}
	defer tx.Rollback()
	// "Live" here means not revoked; an expired session is revoked too, which
	// is harmless and keeps the query simple.
	var rows *sql.Rows
	if f.ID != "" {
		rows, err = tx.QueryContext(ctx, `
			UPDATE sessions SET revoked_at = ?
			WHERE id = ? AND (? = 0 OR user_id = ?) AND revoked_at IS NULL
			RETURNING id`, sqlrow.Millis(at), f.ID, f.UserID, f.UserID)
	} else {
		rows, err = tx.QueryContext(ctx, `
			UPDATE sessions SET revoked_at = ?
			WHERE user_id = ? AND id <> ? AND revoked_at IS NULL
			RETURNING id`, sqlrow.Millis(at), f.UserID, f.ExceptID)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: revoke sessions: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: revoke sessions: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: revoke sessions: %w", err)
	}
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `INSERT INTO revocations (session_id, expires_at) VALUES (?, ?)`, id, sqlrow.Millis(until)); err != nil {
			return nil, fmt.Errorf("sqlite: revoke sessions: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: revoke sessions: %w", err)
	}
	return ids, nil
}

// RevokeToken appends a feed entry for one access token.
func (db *DB) RevokeToken(ctx context.Context, jti string, until time.Time) error {
	if _, err := db.w.ExecContext(ctx, `INSERT INTO revocations (token_id, expires_at) VALUES (?, ?)`, jti, sqlrow.Millis(until)); err != nil {
		return fmt.Errorf("sqlite: revoke token: %w", err)
	}
	return nil
}

// Revocations returns up to limit unexpired entries after since.
func (db *DB) Revocations(ctx context.Context, since int64, now time.Time, limit int) ([]jwtgate.Revocation, error) {
	rows, err := db.db.QueryContext(ctx, `
		SELECT seq, coalesce(session_id, ''), coalesce(token_id, ''), expires_at FROM revocations
		WHERE seq > ? AND expires_at > ? ORDER BY seq LIMIT ?`, since, sqlrow.Millis(now), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: revocations: %w", err)
	}
	defer rows.Close()
	var out []jwtgate.Revocation
	for rows.Next() {
		var r jwtgate.Revocation
		var exp int64
		if err := rows.Scan(&r.Seq, &r.SessionID, &r.TokenID, &exp); err != nil {
			return nil, fmt.Errorf("sqlite: revocations: %w", err)
		}
		r.ExpiresAt = sqlrow.Time(exp)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: revocations: %w", err)
	}
	return out, nil
}

// PruneRevocations deletes entries that expired before t.
func (db *DB) PruneRevocations(ctx context.Context, t time.Time) (int, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM revocations WHERE expires_at < ?`, sqlrow.Millis(t))
	if err != nil {
		return 0, fmt.Errorf("sqlite: prune revocations: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// LastRevocationSeq returns the highest seq ever assigned: AUTOINCREMENT
// keeps it in sqlite_sequence even after the rows are pruned.
func (db *DB) LastRevocationSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := db.db.QueryRowContext(ctx, `SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'revocations'), 0)`).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("sqlite: last revocation seq: %w", err)
	}
	return seq, nil
}
