package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
)

// CreateAccount writes a signup in one transaction (see
// jwtgate.AccountStore). Two signups spending one invitation meet at its
// row: the second waits for the first to commit, then finds it spent.
func (db *DB) CreateAccount(ctx context.Context, a *jwtgate.NewAccount) error {
	u := a.User
	roles, err := sqlrow.JoinRoles(u.Roles)
	if err != nil {
		return fmt.Errorf("postgres: create account %q: %w", u.Name, err)
	}
	if !storable(u.Name) || (a.Email != nil && !storable(a.Email.Address)) {
		return fmt.Errorf("postgres: create account %q: %w: name or address cannot be stored (invalid UTF-8, NUL or too long)", clean(u.Name), jwtgate.ErrInvalid)
	}
	var id, tokenID, mailID int64
	evIDs := make([]int64, len(a.Events))
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if a.Invitation != nil {
			tag, err := tx.Exec(ctx, `
				UPDATE one_time_tokens SET used_at = $1
				WHERE hash = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1`,
				sqlrow.Millis(a.At), a.Invitation, jwtgate.PurposeInvite)
			if err != nil {
				return fmt.Errorf("spend invitation: %w", err)
			}
			if tag.RowsAffected() != 1 {
				return fmt.Errorf("invitation: %w", jwtgate.ErrNotFound)
			}
		}
		err := tx.QueryRow(ctx, `
			INSERT INTO users (name, name_key, password_hash, roles, disabled, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`,
			u.Name, jwtgate.NameKey(u.Name), u.PasswordHash, roles, u.Disabled,
			sqlrow.Millis(u.CreatedAt), sqlrow.Millis(u.UpdatedAt)).Scan(&id)
		if isUniqueViolation(err) {
			return fmt.Errorf("%w: the name is taken", jwtgate.ErrConflict)
		} else if err != nil {
			return fmt.Errorf("user: %w", err)
		}
		if e := a.Email; e != nil {
			_, err := tx.Exec(ctx, `
				INSERT INTO user_emails (user_id, address, address_key, verified_at) VALUES ($1, $2, $3, $4)`,
				id, e.Address, jwtgate.EmailKey(e.Address), sqlrow.NullMillis(e.VerifiedAt))
			if isUniqueViolation(err) {
				return fmt.Errorf("%w: the address belongs to another user", jwtgate.ErrConflict)
			} else if err != nil {
				return fmt.Errorf("email: %w", err)
			}
		}
		if t := a.Verification; t != nil {
			err := tx.QueryRow(ctx, `
				INSERT INTO one_time_tokens (hash, purpose, user_id, email, data, created_by, created_at, expires_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
				t.Hash, t.Purpose, id, t.Email, t.Data, t.CreatedBy, sqlrow.Millis(t.CreatedAt), sqlrow.Millis(t.ExpiresAt)).Scan(&tokenID)
			if err != nil {
				return fmt.Errorf("%s token: %w", t.Purpose, err)
			}
		}
		if m := a.Mail; m != nil {
			err := tx.QueryRow(ctx, `
				INSERT INTO outbox (recipient, purpose, body, created_at, next_attempt)
				VALUES ($1, $2, $3, $4, $5) RETURNING id`,
				m.To, m.Purpose, m.Body, sqlrow.Millis(m.CreatedAt), sqlrow.Millis(m.NextAttempt)).Scan(&mailID)
			if err != nil {
				return fmt.Errorf("enqueue email: %w", err)
			}
		}
		for i, ev := range a.Events {
			e := *ev
			if e.UserID == 0 {
				e.UserID = id
			}
			err := tx.QueryRow(ctx, `
				INSERT INTO audit_events (at, type, user_id, actor_id, name, ip, user_agent, detail)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
				auditArgs(&e)...).Scan(&evIDs[i])
			if err != nil {
				return fmt.Errorf("audit event %s: %w", e.Type, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("postgres: create account %q: %w", u.Name, err)
	}
	a.Stored(id, tokenID, mailID, evIDs)
	return nil
}
