package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
)

// ottColumns is the column list scanOneTimeToken reads, in its order.
const ottColumns = `id, hash, purpose, user_id, email, data, created_by, created_at, expires_at, used_at`

// nullID maps the domain's 0 ("no user": an invitation) to NULL, which the
// foreign key to users accepts.
func nullID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}

// CreateOneTimeToken stores t, voiding the same owner's unused tokens of
// the same purpose in the same transaction.
func (db *DB) CreateOneTimeToken(ctx context.Context, t *jwtgate.OneTimeToken) error {
	if !storable(t.Purpose) || !storable(t.Email) || !storable(t.Data) {
		return fmt.Errorf("postgres: create token: %w: purpose, email or data cannot be stored (invalid UTF-8 or NUL)", jwtgate.ErrInvalid)
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var err error
		if t.UserID != 0 {
			_, err = tx.Exec(ctx, `DELETE FROM one_time_tokens WHERE used_at IS NULL AND purpose = $1 AND user_id = $2`, t.Purpose, t.UserID)
		} else {
			_, err = tx.Exec(ctx, `DELETE FROM one_time_tokens WHERE used_at IS NULL AND purpose = $1 AND user_id IS NULL AND email = $2`, t.Purpose, t.Email)
		}
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, `
			INSERT INTO one_time_tokens (hash, purpose, user_id, email, data, created_by, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
			t.Hash, t.Purpose, nullID(t.UserID), t.Email, t.Data, t.CreatedBy, sqlrow.Millis(t.CreatedAt), sqlrow.Millis(t.ExpiresAt)).Scan(&t.ID)
	})
	switch {
	case isUniqueViolation(err):
		return fmt.Errorf("postgres: create %s token: %w", t.Purpose, jwtgate.ErrConflict)
	case isForeignKeyViolation(err):
		return fmt.Errorf("postgres: create %s token for user %d: %w", t.Purpose, t.UserID, jwtgate.ErrNotFound)
	case err != nil:
		return fmt.Errorf("postgres: create %s token: %w", t.Purpose, err)
	}
	return nil
}

// SpendOneTimeToken marks the token used, in one UPDATE whose WHERE holds
// every condition: under READ COMMITTED a concurrent spender re-checks
// used_at after the winner commits and changes nothing.
func (db *DB) SpendOneTimeToken(ctx context.Context, purpose string, hash []byte, now time.Time) (*jwtgate.OneTimeToken, error) {
	if !storable(purpose) {
		return nil, fmt.Errorf("postgres: spend token: %w", jwtgate.ErrNotFound)
	}
	t, err := scanOneTimeToken(db.pool.QueryRow(ctx, `
		UPDATE one_time_tokens SET used_at = $1
		WHERE hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1
		RETURNING `+ottColumns, sqlrow.Millis(now), hash, purpose))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: spend %s token: %w", purpose, jwtgate.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: spend %s token: %w", purpose, err)
	}
	return t, nil
}

// OneTimeToken returns the live token with this purpose and hash.
func (db *DB) OneTimeToken(ctx context.Context, purpose string, hash []byte, now time.Time) (*jwtgate.OneTimeToken, error) {
	if !storable(purpose) {
		return nil, fmt.Errorf("postgres: token: %w", jwtgate.ErrNotFound)
	}
	t, err := scanOneTimeToken(db.pool.QueryRow(ctx, `
		SELECT `+ottColumns+` FROM one_time_tokens
		WHERE hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3`, hash, purpose, sqlrow.Millis(now)))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: %s token: %w", purpose, jwtgate.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: %s token: %w", purpose, err)
	}
	return t, nil
}

// DeleteOneTimeTokens removes userID's unused tokens of purpose ("" = all).
func (db *DB) DeleteOneTimeTokens(ctx context.Context, userID int64, purpose string) (int, error) {
	if !storable(purpose) {
		return 0, nil
	}
	q, args := `DELETE FROM one_time_tokens WHERE used_at IS NULL AND user_id = $1`, []any{userID}
	if purpose != "" {
		q, args = q+` AND purpose = $2`, append(args, purpose)
	}
	tag, err := db.pool.Exec(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("postgres: delete tokens of user %d: %w", userID, err)
	}
	return int(tag.RowsAffected()), nil
}

// PendingOneTimeTokens lists unused, unexpired tokens of purpose, newest first.
func (db *DB) PendingOneTimeTokens(ctx context.Context, purpose string, now time.Time) ([]jwtgate.OneTimeToken, error) {
	if !storable(purpose) {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, `
		SELECT `+ottColumns+` FROM one_time_tokens
		WHERE purpose = $1 AND used_at IS NULL AND expires_at > $2
		ORDER BY created_at DESC, id DESC`, purpose, sqlrow.Millis(now))
	if err != nil {
		return nil, fmt.Errorf("postgres: pending %s tokens: %w", purpose, err)
	}
	out, err := collect(rows, func(row pgx.CollectableRow) (jwtgate.OneTimeToken, error) {
		t, err := scanOneTimeToken(row)
		if err != nil {
			return jwtgate.OneTimeToken{}, err
		}
		return *t, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: pending %s tokens: %w", purpose, err)
	}
	return out, nil
}

// RevokeOneTimeToken deletes the unused token id.
func (db *DB) RevokeOneTimeToken(ctx context.Context, id int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM one_time_tokens WHERE id = $1 AND used_at IS NULL`, id)
	if err != nil {
		return fmt.Errorf("postgres: revoke token %d: %w", id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: revoke token %d: %w", id, jwtgate.ErrNotFound)
	}
	return nil
}

// DeleteOneTimeTokensBefore removes tokens expired or used before t.
func (db *DB) DeleteOneTimeTokensBefore(ctx context.Context, t time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM one_time_tokens WHERE expires_at < $1 OR used_at < $1`, sqlrow.Millis(t))
	if err != nil {
		return 0, fmt.Errorf("postgres: delete old tokens: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

func scanOneTimeToken(r pgx.Row) (*jwtgate.OneTimeToken, error) {
	var t jwtgate.OneTimeToken
	var userID, used *int64
	var created, expires int64
	if err := r.Scan(&t.ID, &t.Hash, &t.Purpose, &userID, &t.Email, &t.Data, &t.CreatedBy, &created, &expires, &used); err != nil {
		return nil, err
	}
	if userID != nil {
		t.UserID = *userID
	}
	t.CreatedAt, t.ExpiresAt = sqlrow.Time(created), sqlrow.Time(expires)
	if used != nil {
		u := sqlrow.Time(*used)
		t.UsedAt = &u
	}
	return &t, nil
}
