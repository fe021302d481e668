package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
)

// SetUserEmail sets e.UserID's address, replacing any.
func (db *DB) SetUserEmail(ctx context.Context, e jwtgate.UserEmail) error {
	_, err := db.w.ExecContext(ctx, `
		INSERT INTO user_emails (user_id, address, address_key, verified_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET
			address = excluded.address, address_key = excluded.address_key, verified_at = excluded.verified_at`,
		e.UserID, e.Address, jwtgate.EmailKey(e.Address), sqlrow.NullMillis(e.VerifiedAt))
	switch {
	case isUniqueViolation(err):
		return fmt.Errorf("sqlite: set email of user %d: %w: the address belongs to another user", e.UserID, jwtgate.ErrConflict)
	case isForeignKeyViolation(err):
		return fmt.Errorf("sqlite: set email of user %d: %w", e.UserID, jwtgate.ErrNotFound)
	case err != nil:
		return fmt.Errorf("sqlite: set email of user %d: %w", e.UserID, err)
	}
	return nil
}

// UserEmail returns userID's address.
func (db *DB) UserEmail(ctx context.Context, userID int64) (*jwtgate.UserEmail, error) {
	e, err := scanUserEmail(db.db.QueryRowContext(ctx,
		`SELECT user_id, address, verified_at FROM user_emails WHERE user_id = ?`, userID))
	if err != nil {
		return nil, fmt.Errorf("sqlite: email of user %d: %w", userID, err)
	}
	return e, nil
}

// UserEmailByAddress finds an address by jwtgate.EmailKey.
func (db *DB) UserEmailByAddress(ctx context.Context, addr string) (*jwtgate.UserEmail, error) {
	e, err := scanUserEmail(db.db.QueryRowContext(ctx,
		`SELECT user_id, address, verified_at FROM user_emails WHERE address_key = ?`, jwtgate.EmailKey(addr)))
	if err != nil {
		return nil, fmt.Errorf("sqlite: email by address: %w", err)
	}
	return e, nil
}

// DeleteUserEmail removes userID's address.
func (db *DB) DeleteUserEmail(ctx context.Context, userID int64) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM user_emails WHERE user_id = ?`, userID)
	if err != nil {
		return fmt.Errorf("sqlite: delete email of user %d: %w", userID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: delete email of user %d: %w", userID, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: delete email of user %d: %w", userID, jwtgate.ErrNotFound)
	}
	return nil
}

// UserEmails returns the addresses of the users in ids that have one.
func (db *DB) UserEmails(ctx context.Context, ids []int64) (map[int64]jwtgate.UserEmail, error) {
	out := make(map[int64]jwtgate.UserEmail, len(ids))
	// In chunks: SQLite binds at most 32766 parameters per statement.
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := db.db.QueryContext(ctx, `SELECT user_id, address, verified_at FROM user_emails WHERE user_id IN (?`+
			strings.Repeat(",?", len(chunk)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: emails of users: %w", err)
		}
		for rows.Next() {
			e, err := scanUserEmail(rows)
			if err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlite: emails of users: %w", err)
			}
			out[e.UserID] = *e
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlite: emails of users: %w", err)
		}
		rows.Close()
	}
	return out, nil
}

func scanUserEmail(r rowScanner) (*jwtgate.UserEmail, error) {
	var e jwtgate.UserEmail
	var verified *int64
	err := r.Scan(&e.UserID, &e.Address, &verified)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, jwtgate.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	e.VerifiedAt = sqlrow.NullTime(verified)
	return &e, nil
}
