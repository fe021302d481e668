package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
)

// SetUserEmail sets e.UserID's address, replacing any.
func (db *DB) SetUserEmail(ctx context.Context, e jwtgate.UserEmail) error {
	if !storable(e.Address) {
		return fmt.Errorf("postgres: set email of user %d: %w: address cannot be stored (invalid UTF-8 or NUL)", e.UserID, jwtgate.ErrInvalid)
	}
	_, err := db.pool.Exec(ctx, `
		INSERT INTO user_emails (user_id, address, address_key, verified_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id) DO UPDATE SET
			address = excluded.address, address_key = excluded.address_key, verified_at = excluded.verified_at`,
		e.UserID, e.Address, jwtgate.EmailKey(e.Address), sqlrow.NullMillis(e.VerifiedAt))
	switch {
	case isUniqueViolation(err):
		return fmt.Errorf("postgres: set email of user %d: %w: the address belongs to another user", e.UserID, jwtgate.ErrConflict)
	case isForeignKeyViolation(err):
		return fmt.Errorf("postgres: set email of user %d: %w", e.UserID, jwtgate.ErrNotFound)
	case err != nil:
		return fmt.Errorf("postgres: set email of user %d: %w", e.UserID, err)
	}
	return nil
}

// UserEmail returns userID's address.
func (db *DB) UserEmail(ctx context.Context, userID int64) (*jwtgate.UserEmail, error) {
	e, err := scanUserEmail(db.pool.QueryRow(ctx,
		`SELECT user_id, address, verified_at FROM user_emails WHERE user_id = $1`, userID))
	if err != nil {
		return nil, fmt.Errorf("postgres: email of user %d: %w", userID, err)
	}
	return e, nil
}

// UserEmailByAddress finds an address by jwtgate.EmailKey.
func (db *DB) UserEmailByAddress(ctx context.Context, addr string) (*jwtgate.UserEmail, error) {
	if !storable(addr) {
		return nil, fmt.Errorf("postgres: email by address: %w", jwtgate.ErrNotFound)
	}
	e, err := scanUserEmail(db.pool.QueryRow(ctx,
		`SELECT user_id, address, verified_at FROM user_emails WHERE address_key = $1`, jwtgate.EmailKey(addr)))
	if err != nil {
		return nil, fmt.Errorf("postgres: email by address: %w", err)
	}
	return e, nil
}

// DeleteUserEmail removes userID's address.
func (db *DB) DeleteUserEmail(ctx context.Context, userID int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM user_emails WHERE user_id = $1`, userID)
	if err != nil {
		return fmt.Errorf("postgres: delete email of user %d: %w", userID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete email of user %d: %w", userID, jwtgate.ErrNotFound)
	}
	return nil
}

// UserEmails returns the addresses of the users in ids that have one.
func (db *DB) UserEmails(ctx context.Context, ids []int64) (map[int64]jwtgate.UserEmail, error) {
	rows, err := db.pool.Query(ctx, `SELECT user_id, address, verified_at FROM user_emails WHERE user_id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: emails of users: %w", err)
	}
	list, err := collect(rows, func(row pgx.CollectableRow) (jwtgate.UserEmail, error) {
		e, err := scanUserEmail(row)
		if err != nil {
			return jwtgate.UserEmail{}, err
		}
		return *e, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: emails of users: %w", err)
	}
	out := make(map[int64]jwtgate.UserEmail, len(list))
	for _, e := range list {
		out[e.UserID] = e
	}
	return out, nil
}

func scanUserEmail(r pgx.Row) (*jwtgate.UserEmail, error) {
	var e jwtgate.UserEmail
	var verified *int64
	err := r.Scan(&e.UserID, &e.Address, &verified)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, jwtgate.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	if verified != nil {
		v := sqlrow.Time(*verified)
		e.VerifiedAt = &v
	}
	return &e, nil
}
