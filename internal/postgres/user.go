package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
)

// CreateUser inserts u and sets u.ID. It returns an error wrapping
// jwtgate.ErrConflict if the name, compared by jwtgate.NameKey, is taken,
// and one wrapping jwtgate.ErrInvalid if a field is not storable text
// (invalid UTF-8 or NUL, which SQLite would keep and PostgreSQL refuses).
func (db *DB) CreateUser(ctx context.Context, u *jwtgate.User) error {
	roles, err := sqlrow.JoinRoles(u.Roles)
	if err != nil {
		return fmt.Errorf("postgres: create user %q: %w", u.Name, err)
	}
	var id int64
	err = db.pool.QueryRow(ctx, `
		INSERT INTO users (name, name_key, password_hash, roles, disabled, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		RETURNING id`,
		u.Name, jwtgate.NameKey(u.Name), u.PasswordHash, roles, u.Disabled,
		sqlrow.Millis(u.CreatedAt), sqlrow.Millis(u.UpdatedAt)).Scan(&id)
	switch {
	case isUniqueViolation(err):
		return fmt.Errorf("postgres: create user %q: %w", u.Name, jwtgate.ErrConflict)
	case isUnstorable(err):
		// Not err: its message quotes the offending bytes, which may be
		// the hash's.
		return fmt.Errorf("postgres: create user %q: %w: a field cannot be stored (invalid UTF-8, NUL or too long)", u.Name, jwtgate.ErrInvalid)
	case err != nil:
		return fmt.Errorf("postgres: create user %q: %w", u.Name, err)
	}
	u.ID = id
	return nil
}

// CreateFirstUser inserts u only if the users table is empty, and reports
// whether it did; if so it sets u.ID.
//
// Under READ COMMITTED an INSERT … WHERE NOT EXISTS is not enough: two
// transactions each see the table empty (neither sees the other's
// uncommitted row), and since the names differ no constraint stops the
// second. So callers serialize on an advisory lock standing for the users
// table, taken in a statement of its own: the INSERT after it takes a
// fresh snapshot, which sees the winner's committed row. An advisory lock
// rather than SERIALIZABLE: this runs once per instance start, so waiting
// costs nothing, and there is no retry loop to get right. CreateUser does
// not take the lock and need not: a CreateUser racing this one is as if it
// ran just after (or, if the names collide, just before: see below).
func (db *DB) CreateFirstUser(ctx context.Context, u *jwtgate.User) (bool, error) {
	roles, err := sqlrow.JoinRoles(u.Roles)
	if err != nil {
		return false, fmt.Errorf("postgres: create first user %q: %w", u.Name, err)
	}
	var id int64
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if err := lockTable(ctx, tx, "users"); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `
			INSERT INTO users (name, name_key, password_hash, roles, disabled, created_at, updated_at)
			SELECT $1, $2, $3, $4, $5, $6, $7
			WHERE NOT EXISTS (SELECT 1 FROM users)
			RETURNING id`,
			u.Name, jwtgate.NameKey(u.Name), u.PasswordHash, roles, u.Disabled,
			sqlrow.Millis(u.CreatedAt), sqlrow.Millis(u.UpdatedAt)).Scan(&id)
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return false, nil
	case isUniqueViolation(err):
		// A CreateUser of the same name committed while we waited: the
		// table was not empty after all.
		return false, nil
	case isUnstorable(err):
		return false, fmt.Errorf("postgres: create first user %q: %w: a field cannot be stored (invalid UTF-8, NUL or too long)", u.Name, jwtgate.ErrInvalid)
	case err != nil:
		return false, fmt.Errorf("postgres: create first user %q: %w", u.Name, err)
	}
	u.ID = id
	return true, nil
}

// UserByName finds a user by name, compared by jwtgate.NameKey. It returns
// an error wrapping jwtgate.ErrNotFound if there is none.
func (db *DB) UserByName(ctx context.Context, name string) (*jwtgate.User, error) {
	key := jwtgate.NameKey(name)
	if !storable(key) {
		return nil, fmt.Errorf("postgres: user %q: %w", name, jwtgate.ErrNotFound)
	}
	u, err := sqlrow.ScanUser(db.pool.QueryRow(ctx, `SELECT `+sqlrow.UserColumns+` FROM users WHERE name_key = $1`, key))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: user %q: %w", name, jwtgate.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("postgres: user %q: %w", name, err)
	}
	return u, nil
}

// UserByID finds a user by id. It returns an error wrapping
// jwtgate.ErrNotFound if there is none.
func (db *DB) UserByID(ctx context.Context, id int64) (*jwtgate.User, error) {
	u, err := sqlrow.ScanUser(db.pool.QueryRow(ctx, `SELECT `+sqlrow.UserColumns+` FROM users WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: user %d: %w", id, jwtgate.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("postgres: user %d: %w", id, err)
	}
	return u, nil
}

// ListUsers returns all users ordered by id.
func (db *DB) ListUsers(ctx context.Context) ([]jwtgate.User, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+sqlrow.UserColumns+` FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: list users: %w", err)
	}
	users, err := collect(rows, func(row pgx.CollectableRow) (jwtgate.User, error) {
		u, err := sqlrow.ScanUser(row)
		if err != nil {
			return jwtgate.User{}, err
		}
		return *u, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: list users: %w", err)
	}
	return users, nil
}

// SetPasswordHash replaces the user's password hash and sets its updated
// time to at. It returns an error wrapping jwtgate.ErrNotFound if there is
// no such user.
func (db *DB) SetPasswordHash(ctx context.Context, id int64, hash string, at time.Time) error {
	// A new password voids the reset links sent before it, in the same
	// statement.
	tag, err := db.pool.Exec(ctx, `
		WITH voided AS (DELETE FROM one_time_tokens WHERE user_id = $3 AND purpose = $4 AND used_at IS NULL)
		UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`,
		hash, sqlrow.Millis(at), id, jwtgate.PurposeResetPassword)
	if isUnstorable(err) {
		// The hash is never part of an error: errors end up in logs.
		return fmt.Errorf("postgres: set password of user %d: %w: the hash cannot be stored (invalid UTF-8 or NUL)", id, jwtgate.ErrInvalid)
	}
	return oneRow(tag, err, "set password of user %d", id)
}

// SetDisabled disables or enables the user and sets its updated time to
// at. It returns an error wrapping jwtgate.ErrNotFound if there is no such
// user.
func (db *DB) SetDisabled(ctx context.Context, id int64, disabled bool, at time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE users SET disabled = $1, updated_at = $2 WHERE id = $3`,
		disabled, sqlrow.Millis(at), id)
	return oneRow(tag, err, "set disabled of user %d", id)
}

// DeleteUser removes the user and, by the foreign key's ON DELETE CASCADE,
// its sessions (and theirs, refresh tokens). It returns an error wrapping
// jwtgate.ErrNotFound if there is no such user.
func (db *DB) DeleteUser(ctx context.Context, id int64) error {
	tag, err := db.pool.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
	return oneRow(tag, err, "delete user %d", id)
}

// oneRow turns the outcome of an UPDATE or DELETE by primary key into the
// error to return: err wrapped, or jwtgate.ErrNotFound if no row matched.
// PostgreSQL counts every row an UPDATE matched, changed or not, so writing
// the values already there still counts as found, as in SQLite.
func oneRow(tag pgconn.CommandTag, err error, format string, args ...any) error {
	if err != nil {
		return fmt.Errorf("postgres: "+format+": %w", append(args, err)...)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: "+format+": %w", append(args, jwtgate.ErrNotFound)...)
	}
	return nil
}

// HasUsers reports whether any user exists.
func (db *DB) HasUsers(ctx context.Context) (bool, error) {
	var has bool
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users)`).Scan(&has); err != nil {
		return false, fmt.Errorf("postgres: has users: %w", err)
	}
	return has, nil
}

// SetRoles replaces the user's roles. It returns an error wrapping
// jwtgate.ErrNotFound if there is no such user.
func (db *DB) SetRoles(ctx context.Context, id int64, roles []string, at time.Time) error {
	joined, err := sqlrow.JoinRoles(roles)
	if err != nil {
		return fmt.Errorf("postgres: set roles of user %d: %w", id, err)
	}
	tag, err := db.pool.Exec(ctx, `UPDATE users SET roles = $1, updated_at = $2 WHERE id = $3`, joined, sqlrow.Millis(at), id)
	return oneRow(tag, err, "set roles of user %d", id)
}

// SearchUsers returns one page of the users whose name key contains
// q.Match's search key, in id order, and the number of matches (see
// sqlrow.SearchUsers). Count and page are read in one REPEATABLE READ
// transaction, so they agree. It returns an error wrapping
// jwtgate.ErrInvalid if q's bounds are out of range, or if the search
// term cannot be stored text (it could match nothing anyway).
func (db *DB) SearchUsers(ctx context.Context, q jwtgate.UserQuery) (jwtgate.UserPage, error) {
	if err := q.Validate(); err != nil {
		return jwtgate.UserPage{}, fmt.Errorf("postgres: search users: %w", err)
	}
	s := sqlrow.SearchUsers(q, func(n int) string { return "$" + strconv.Itoa(n) })
	var (
		total int
		users []jwtgate.User
	)
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, s.Count, s.CountArgs...).Scan(&total); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, s.Page, s.PageArgs...)
		if err != nil {
			return err
		}
		users, err = collect(rows, func(row pgx.CollectableRow) (jwtgate.User, error) {
			u, err := sqlrow.ScanUser(row)
			if err != nil {
				return jwtgate.User{}, err
			}
			return *u, nil
		})
		return err
	})
	if isUnstorable(err) {
		return jwtgate.UserPage{}, fmt.Errorf("postgres: search users: %w: the search term cannot be stored text", jwtgate.ErrInvalid)
	} else if err != nil {
		return jwtgate.UserPage{}, fmt.Errorf("postgres: search users: %w", err)
	}
	return sqlrow.Page(users, total, q), nil
}
