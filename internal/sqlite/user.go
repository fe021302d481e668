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

// CreateUser inserts u and sets u.ID. It returns an error wrapping
// jwtgate.ErrConflict if the name, compared by jwtgate.NameKey, is taken.
func (db *DB) CreateUser(ctx context.Context, u *jwtgate.User) error {
	roles, err := sqlrow.JoinRoles(u.Roles)
	if err != nil {
		return fmt.Errorf("sqlite: create user %q: %w", u.Name, err)
	}
	res, err := db.w.ExecContext(ctx, `
		INSERT INTO users (name, name_key, password_hash, roles, disabled, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		u.Name, jwtgate.NameKey(u.Name), u.PasswordHash, roles, boolInt(u.Disabled),
		sqlrow.Millis(u.CreatedAt), sqlrow.Millis(u.UpdatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlite: create user %q: %w", u.Name, jwtgate.ErrConflict)
	} else if err != nil {
		return fmt.Errorf("sqlite: create user %q: %w", u.Name, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlite: create user %q: %w", u.Name, err)
	}
	u.ID = id
	return nil
}

// CreateFirstUser inserts u only if the users table is empty, and reports
// whether it did; if so it sets u.ID. The check and the insert are one
// statement, so SQLite's write lock makes them atomic across connections and
// processes: of several instances starting at once, exactly one creates its
// user.
func (db *DB) CreateFirstUser(ctx context.Context, u *jwtgate.User) (bool, error) {
	roles, err := sqlrow.JoinRoles(u.Roles)
	if err != nil {
		return false, fmt.Errorf("sqlite: create first user %q: %w", u.Name, err)
	}
	res, err := db.w.ExecContext(ctx, `
		INSERT INTO users (name, name_key, password_hash, roles, disabled, created_at, updated_at)
		SELECT ?, ?, ?, ?, ?, ?, ?
		WHERE NOT EXISTS (SELECT 1 FROM users)`,
		u.Name, jwtgate.NameKey(u.Name), u.PasswordHash, roles, boolInt(u.Disabled),
		sqlrow.Millis(u.CreatedAt), sqlrow.Millis(u.UpdatedAt))
	if err != nil {
		return false, fmt.Errorf("sqlite: create first user %q: %w", u.Name, err)
	}
	// RowsAffected, not LastInsertId: when nothing was inserted the latter
	// still returns the connection's previous insert.
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: create first user %q: %w", u.Name, err)
	}
	if n == 0 {
		return false, nil
	}
	id, err := res.LastInsertId()
	if err != nil {
		return false, fmt.Errorf("sqlite: create first user %q: %w", u.Name, err)
	}
	u.ID = id
	return true, nil
}

// UserByName finds a user by name, compared by jwtgate.NameKey. It returns
// an error wrapping jwtgate.ErrNotFound if there is none.
func (db *DB) UserByName(ctx context.Context, name string) (*jwtgate.User, error) {
	row := db.db.QueryRowContext(ctx, `SELECT `+sqlrow.UserColumns+` FROM users WHERE name_key = ?`,
		jwtgate.NameKey(name))
	u, err := sqlrow.ScanUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: user %q: %w", name, jwtgate.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: user %q: %w", name, err)
	}
	return u, nil
}

// UserByID finds a user by id. It returns an error wrapping
// jwtgate.ErrNotFound if there is none.
func (db *DB) UserByID(ctx context.Context, id int64) (*jwtgate.User, error) {
	row := db.db.QueryRowContext(ctx, `SELECT `+sqlrow.UserColumns+` FROM users WHERE id = ?`, id)
	u, err := sqlrow.ScanUser(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: user %d: %w", id, jwtgate.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: user %d: %w", id, err)
	}
	return u, nil
}

// ListUsers returns all users ordered by id.
func (db *DB) ListUsers(ctx context.Context) ([]jwtgate.User, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+sqlrow.UserColumns+` FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	defer rows.Close()
	var users []jwtgate.User
	for rows.Next() {
		u, err := sqlrow.ScanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list users: %w", err)
		}
		users = append(users, *u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list users: %w", err)
	}
	return users, nil
}

// SetPasswordHash replaces the user's password hash and sets its updated
// time to at. It returns an error wrapping jwtgate.ErrNotFound if there is
// no such user.
func (db *DB) SetPasswordHash(ctx context.Context, id int64, hash string, at time.Time) error {
	tx, err := db.w.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: set password of user %d: %w", id, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `
		UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`,
		hash, sqlrow.Millis(at), id)
	// The hash is never part of an error: errors end up in logs.
	if err := oneRow(res, err, "set password of user %d", id); err != nil {
		return err
	}
	// A new password voids the reset links sent before it.
	if _, err := tx.ExecContext(ctx, `DELETE FROM one_time_tokens WHERE user_id = ? AND purpose = ? AND used_at IS NULL`,
		id, jwtgate.PurposeResetPassword); err != nil {
		return fmt.Errorf("sqlite: set password of user %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: set password of user %d: %w", id, err)
	}
	return nil
}

// SetDisabled disables or enables the user and sets its updated time to
// at. It returns an error wrapping jwtgate.ErrNotFound if there is no such
// user.
func (db *DB) SetDisabled(ctx context.Context, id int64, disabled bool, at time.Time) error {
	res, err := db.w.ExecContext(ctx, `
		UPDATE users SET disabled = ?, updated_at = ? WHERE id = ?`,
		boolInt(disabled), sqlrow.Millis(at), id)
	return oneRow(res, err, "set disabled of user %d", id)
}

// DeleteUser removes the user and, by the foreign key's ON DELETE CASCADE,
// its sessions. It returns an error wrapping jwtgate.ErrNotFound if there
// is no such user.
func (db *DB) DeleteUser(ctx context.Context, id int64) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id)
	return oneRow(res, err, "delete user %d", id)
}

// oneRow turns the outcome of an UPDATE or DELETE by primary key into the
// error to return: err wrapped, or jwtgate.ErrNotFound if no row matched.
// SQLite counts rows matched, not rows changed, so an UPDATE that writes
// the values already there still counts as found.
func oneRow(res sql.Result, err error, format string, args ...any) error {
	if err != nil {
		return fmt.Errorf("sqlite: "+format+": %w", append(args, err)...)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: "+format+": %w", append(args, err)...)
	}
	if n == 0 {
		return fmt.Errorf("sqlite: "+format+": %w", append(args, jwtgate.ErrNotFound)...)
	}
	return nil
}

// HasUsers reports whether any user exists.
func (db *DB) HasUsers(ctx context.Context) (bool, error) {
	var has bool
	if err := db.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users)`).Scan(&has); err != nil {
		return false, fmt.Errorf("sqlite: has users: %w", err)
	}
	return has, nil
}

// SetRoles replaces the user's roles. It returns an error wrapping
// jwtgate.ErrNotFound if there is no such user.
func (db *DB) SetRoles(ctx context.Context, id int64, roles []string, at time.Time) error {
	joined, err := sqlrow.JoinRoles(roles)
	if err != nil {
		return fmt.Errorf("sqlite: set roles of user %d: %w", id, err)
	}
	res, err := db.w.ExecContext(ctx, `UPDATE users SET roles = ?, updated_at = ? WHERE id = ?`, joined, sqlrow.Millis(at), id)
	return oneRow(res, err, "set roles of user %d", id)
}

// SearchUsers returns one page of the users whose name key contains
// q.Match's search key, in id order, and the number of matches (see
// sqlrow.SearchUsers). Count and page are read in one transaction, so they
// agree. It returns an error wrapping jwtgate.ErrInvalid if q's bounds are
// out of range.
func (db *DB) SearchUsers(ctx context.Context, q jwtgate.UserQuery) (jwtgate.UserPage, error) {
	if err := q.Validate(); err != nil {
		return jwtgate.UserPage{}, fmt.Errorf("sqlite: search users: %w", err)
	}
	s := sqlrow.SearchUsers(q, func(int) string { return "?" })
	tx, err := db.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return jwtgate.UserPage{}, fmt.Errorf("sqlite: search users: %w", err)
	}
	defer tx.Rollback()
	var total int
	if err := tx.QueryRowContext(ctx, s.Count, s.CountArgs...).Scan(&total); err != nil {
		return jwtgate.UserPage{}, fmt.Errorf("sqlite: search users: %w", err)
	}
	rows, err := tx.QueryContext(ctx, s.Page, s.PageArgs...)
	if err != nil {
		return jwtgate.UserPage{}, fmt.Errorf("sqlite: search users: %w", err)
	}
	defer rows.Close()
	var users []jwtgate.User
	for rows.Next() {
		u, err := sqlrow.ScanUser(rows)
		if err != nil {
			return jwtgate.UserPage{}, fmt.Errorf("sqlite: search users: %w", err)
		}
		users = append(users, *u)
	}
	if err := rows.Err(); err != nil {
		return jwtgate.UserPage{}, fmt.Errorf("sqlite: search users: %w", err)
	}
	return sqlrow.Page(users, total, q), nil
}
