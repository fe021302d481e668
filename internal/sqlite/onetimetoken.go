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

// ottColumns is the column list scanOneTimeToken reads, in its order.
const ottColumns = `id, hash, purpose, user_id, email, data, created_by, created_at, expires_at, used_at`

// nullID maps the domain's 0 ("no user": an invitation) to NULL, which the
// foreign key to users accepts.
func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

// CreateOneTimeToken stores t, voiding the same owner's unused tokens of
// the same purpose in the same transaction.
func (db *DB) CreateOneTimeToken(ctx context.Context, t *jwtgate.OneTimeToken) error {
	tx, err := db.w.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: create %s token: %w", t.Purpose, err)
	}
	defer tx.Rollback()
	if t.UserID != 0 {
		_, err = tx.ExecContext(ctx, `DELETE FROM one_time_tokens WHERE used_at IS NULL AND purpose = ? AND user_id = ?`, t.Purpose, t.UserID)
	} else {
		_, err = tx.ExecContext(ctx, `DELETE FROM one_time_tokens WHERE used_at IS NULL AND purpose = ? AND user_id IS NULL AND email = ?`, t.Purpose, t.Email)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create %s token: %w", t.Purpose, err)
	}
	err = tx.QueryRowContext(ctx, `
		INSERT INTO one_time_tokens (hash, purpose, user_id, email, data, created_by, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		t.Hash, t.Purpose, nullID(t.UserID), t.Email, t.Data, t.CreatedBy, sqlrow.Millis(t.CreatedAt), sqlrow.Millis(t.ExpiresAt)).Scan(&t.ID)
	switch {
	case isUniqueViolation(err):
		return fmt.Errorf("sqlite: create %s token: %w", t.Purpose, jwtgate.ErrConflict)
	case isForeignKeyViolation(err):
		return fmt.Errorf("sqlite: create %s token for user %d: %w", t.Purpose, t.UserID, jwtgate.ErrNotFound)
	case err != nil:
		return fmt.Errorf("sqlite: create %s token: %w", t.Purpose, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: create %s token: %w", t.Purpose, err)
	}
	return nil
}

// SpendOneTimeToken marks the token used, in one UPDATE whose WHERE holds
// every condition: of concurrent spenders exactly one changes the row.
func (db *DB) SpendOneTimeToken(ctx context.Context, purpose string, hash []byte, now time.Time) (*jwtgate.OneTimeToken, error) {
	tx, err := db.w.BeginTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: spend %s token: %w", purpose, err)
	}
	defer tx.Rollback()
	t, err := scanOneTimeToken(tx.QueryRowContext(ctx, `
		UPDATE one_time_tokens SET used_at = ?
		WHERE hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?
		RETURNING `+ottColumns, sqlrow.Millis(now), hash, purpose, sqlrow.Millis(now)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: spend %s token: %w", purpose, jwtgate.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: spend %s token: %w", purpose, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: spend %s token: %w", purpose, err)
	}
	return t, nil
}

// OneTimeToken returns the live token with this purpose and hash.
func (db *DB) OneTimeToken(ctx context.Context, purpose string, hash []byte, now time.Time) (*jwtgate.OneTimeToken, error) {
	t, err := scanOneTimeToken(db.db.QueryRowContext(ctx, `
		SELECT `+ottColumns+` FROM one_time_tokens
		WHERE hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?`, hash, purpose, sqlrow.Millis(now)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: %s token: %w", purpose, jwtgate.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: %s token: %w", purpose, err)
	}
	return t, nil
}

// DeleteOneTimeTokens removes userID's unused tokens of purpose ("" = all).
func (db *DB) DeleteOneTimeTokens(ctx context.Context, userID int64, purpose string) (int, error) {
	res, err := db.w.ExecContext(ctx, `
		DELETE FROM one_time_tokens WHERE used_at IS NULL AND user_id = ? AND (? = '' OR purpose = ?)`,
		userID, purpose, purpose)
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete tokens of user %d: %w", userID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete tokens of user %d: %w", userID, err)
	}
	return int(n), nil
}

// PendingOneTimeTokens lists unused, unexpired tokens of purpose, newest first.
func (db *DB) PendingOneTimeTokens(ctx context.Context, purpose string, now time.Time) ([]jwtgate.OneTimeToken, error) {
	rows, err := db.db.QueryContext(ctx, `
		SELECT `+ottColumns+` FROM one_time_tokens
		WHERE purpose = ? AND used_at IS NULL AND expires_at > ?
		ORDER BY created_at DESC, id DESC`, purpose, sqlrow.Millis(now))
	if err != nil {
		return nil, fmt.Errorf("sqlite: pending %s tokens: %w", purpose, err)
	}
	defer rows.Close()
	var out []jwtgate.OneTimeToken
	for rows.Next() {
		t, err := scanOneTimeToken(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: pending %s tokens: %w", purpose, err)
		}
		out = append(out, *t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: pending %s tokens: %w", purpose, err)
	}
	return out, nil
}

// RevokeOneTimeToken deletes the unused token id.
func (db *DB) RevokeOneTimeToken(ctx context.Context, id int64) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM one_time_tokens WHERE id = ? AND used_at IS NULL`, id)
	if err != nil {
		return fmt.Errorf("sqlite: revoke token %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: revoke token %d: %w", id, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: revoke token %d: %w", id, jwtgate.ErrNotFound)
	}
	return nil
}

// DeleteOneTimeTokensBefore removes tokens expired or used before t.
func (db *DB) DeleteOneTimeTokensBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := db.w.ExecContext(ctx, `
		DELETE FROM one_time_tokens WHERE expires_at < ? OR used_at < ?`, sqlrow.Millis(t), sqlrow.Millis(t))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete old tokens: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete old tokens: %w", err)
	}
	return int(n), nil
}

// rowScanner is what *sql.Row and *sql.Rows share.
type rowScanner interface{ Scan(dest ...any) error }

func scanOneTimeToken(r rowScanner) (*jwtgate.OneTimeToken, error) {
	var t jwtgate.OneTimeToken
	var userID sql.NullInt64
	var created, expires int64
	var used *int64
	if err := r.Scan(&t.ID, &t.Hash, &t.Purpose, &userID, &t.Email, &t.Data, &t.CreatedBy, &created, &expires, &used); err != nil {
		return nil, err
	}
	t.UserID = userID.Int64
	t.CreatedAt, t.ExpiresAt, t.UsedAt = sqlrow.Time(created), sqlrow.Time(expires), sqlrow.NullTime(used)
	return &t, nil
}
