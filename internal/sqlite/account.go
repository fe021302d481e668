package sqlite

import (
	"context"
	"fmt"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
)

// CreateAccount writes a signup in one transaction (see
// jwtgate.AccountStore).
func (db *DB) CreateAccount(ctx context.Context, a *jwtgate.NewAccount) error {
	u := a.User
	roles, err := sqlrow.JoinRoles(u.Roles)
	if err != nil {
		return fmt.Errorf("sqlite: create account %q: %w", u.Name, err)
	}
	tx, err := db.w.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: create account %q: %w", u.Name, err)
	}
	defer tx.Rollback()
	if a.Invitation != nil {
		res, err := tx.ExecContext(ctx, `
			UPDATE one_time_tokens SET used_at = ?
			WHERE hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?`,
			sqlrow.Millis(a.At), a.Invitation, jwtgate.PurposeInvite, sqlrow.Millis(a.At))
		if err != nil {
			return fmt.Errorf("sqlite: create account %q: spend invitation: %w", u.Name, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("sqlite: create account %q: invitation: %w", u.Name, jwtgate.ErrNotFound)
		}
	}
	var id int64
	err = tx.QueryRowContext(ctx, `
		INSERT INTO users (name, name_key, password_hash, roles, disabled, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		u.Name, jwtgate.NameKey(u.Name), u.PasswordHash, roles, boolInt(u.Disabled),
		sqlrow.Millis(u.CreatedAt), sqlrow.Millis(u.UpdatedAt)).Scan(&id)
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlite: create account %q: %w: the name is taken", u.Name, jwtgate.ErrConflict)
	} else if err != nil {
		return fmt.Errorf("sqlite: create account %q: %w", u.Name, err)
	}
	if e := a.Email; e != nil {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO user_emails (user_id, address, address_key, verified_at) VALUES (?, ?, ?, ?)`,
			id, e.Address, jwtgate.EmailKey(e.Address), sqlrow.NullMillis(e.VerifiedAt))
		if isUniqueViolation(err) {
			return fmt.Errorf("sqlite: create account %q: %w: the address belongs to another user", u.Name, jwtgate.ErrConflict)
		} else if err != nil {
			return fmt.Errorf("sqlite: create account %q: email: %w", u.Name, err)
		}
	}
	var tokenID int64
	if t := a.Verification; t != nil {
		err := tx.QueryRowContext(ctx, `
			INSERT INTO one_time_tokens (hash, purpose, user_id, email, data, created_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			t.Hash, t.Purpose, id, t.Email, t.Data, t.CreatedBy, sqlrow.Millis(t.CreatedAt), sqlrow.Millis(t.ExpiresAt)).Scan(&tokenID)
		if err != nil {
			return fmt.Errorf("sqlite: create account %q: %s token: %w", u.Name, t.Purpose, err)
		}
	}
	var mailID int64
	if m := a.Mail; m != nil {
		err := tx.QueryRowContext(ctx, `
			INSERT INTO outbox (recipient, purpose, body, created_at, next_attempt)
			VALUES (?, ?, ?, ?, ?) RETURNING id`,
			m.To, m.Purpose, m.Body, sqlrow.Millis(m.CreatedAt), sqlrow.Millis(m.NextAttempt)).Scan(&mailID)
		if err != nil {
			return fmt.Errorf("sqlite: create account %q: enqueue email: %w", u.Name, err)
		}
	}
	evIDs := make([]int64, len(a.Events))
	for i, ev := range a.Events {
		e := *ev
		if e.UserID == 0 {
			e.UserID = id
		}
		if err := insertAudit(ctx, tx, &e); err != nil {
			return err
		}
		evIDs[i] = e.ID
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: create account %q: %w", u.Name, err)
	}
	a.Stored(id, tokenID, mailID, evIDs)
	return nil
}
