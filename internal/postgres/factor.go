package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
)

// PutTOTP stores t as the user's pending secret, unless a confirmed one exists.
func (db *DB) PutTOTP(ctx context.Context, t *jwtgate.TOTP) error {
	tag, err := db.pool.Exec(ctx, `
		INSERT INTO totp_secrets (user_id, secret, created_at) VALUES ($1, $2, $3)
		ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at, last_step = 0
		WHERE totp_secrets.confirmed_at IS NULL`,
		t.UserID, t.Secret, sqlrow.Millis(t.CreatedAt))
	if isForeignKeyViolation(err) {
		return fmt.Errorf("postgres: put totp of user %d: %w", t.UserID, jwtgate.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres: put totp of user %d: %w", t.UserID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: put totp of user %d: %w: a confirmed secret exists", t.UserID, jwtgate.ErrConflict)
	}
	return nil
}

// TOTP returns the user's secret.
func (db *DB) TOTP(ctx context.Context, userID int64) (*jwtgate.TOTP, error) {
	var t jwtgate.TOTP
	var created int64
	var confirmed *int64
	err := db.pool.QueryRow(ctx, `SELECT user_id, secret, created_at, confirmed_at, last_step FROM totp_secrets WHERE user_id = $1`, userID).
		Scan(&t.UserID, &t.Secret, &created, &confirmed, &t.LastStep)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: totp of user %d: %w", userID, jwtgate.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: totp of user %d: %w", userID, err)
	}
	t.CreatedAt, t.ConfirmedAt = sqlrow.Time(created), optMillis(confirmed)
	return &t, nil
}

func optMillis(ms *int64) *time.Time {
	if ms == nil {
		return nil
	}
	t := sqlrow.Time(*ms)
	return &t
}

// ConfirmTOTP activates the pending secret and replaces the recovery codes.
func (db *DB) ConfirmTOTP(ctx context.Context, userID int64, step int64, at time.Time, codeHashes [][]byte) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE totp_secrets SET confirmed_at = $1, last_step = $2 WHERE user_id = $3 AND confirmed_at IS NULL`,
			sqlrow.Millis(at), step, userID)
		if err != nil {
			return fmt.Errorf("postgres: confirm totp of user %d: %w", userID, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: confirm totp of user %d: %w: no pending secret", userID, jwtgate.ErrNotFound)
		}
		return replaceCodes(ctx, tx, userID, codeHashes, at)
	})
}

func replaceCodes(ctx context.Context, tx pgx.Tx, userID int64, codeHashes [][]byte, at time.Time) error {
	if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
		return fmt.Errorf("postgres: replace recovery codes of user %d: %w", userID, err)
	}
	if len(codeHashes) == 0 {
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO recovery_codes (user_id, hash, created_at) SELECT $1, h, $3 FROM unnest($2::bytea[]) AS h`,
		userID, codeHashes, sqlrow.Millis(at))
	if isForeignKeyViolation(err) {
		return fmt.Errorf("postgres: replace recovery codes of user %d: %w", userID, jwtgate.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres: replace recovery codes of user %d: %w", userID, err)
	}
	return nil
}

// UseTOTPStep advances last_step to step if step is newer. The UPDATE's
// WHERE re-checks last_step after a concurrent winner commits (READ
// COMMITTED), so of two uses of one code on two instances one wins.
func (db *DB) UseTOTPStep(ctx context.Context, userID int64, step int64) error {
	tag, err := db.pool.Exec(ctx, `UPDATE totp_secrets SET last_step = $1 WHERE user_id = $2 AND confirmed_at IS NOT NULL AND last_step < $1`, step, userID)
	if err != nil {
		return fmt.Errorf("postgres: use totp step of user %d: %w", userID, err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var exists bool
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM totp_secrets WHERE user_id = $1 AND confirmed_at IS NOT NULL)`, userID).Scan(&exists); err != nil {
		return fmt.Errorf("postgres: use totp step of user %d: %w", userID, err)
	}
	if !exists {
		return fmt.Errorf("postgres: use totp step of user %d: %w", userID, jwtgate.ErrNotFound)
	}
	return fmt.Errorf("postgres: use totp step of user %d: %w: code already used", userID, jwtgate.ErrConflict)
}

// DeleteTOTP removes the secret and the recovery codes.
func (db *DB) DeleteTOTP(ctx context.Context, userID int64) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM totp_secrets WHERE user_id = $1`, userID)
		if err != nil {
			return fmt.Errorf("postgres: delete totp of user %d: %w", userID, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: delete totp of user %d: %w", userID, jwtgate.ErrNotFound)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
			return fmt.Errorf("postgres: delete totp of user %d: %w", userID, err)
		}
		return nil
	})
}

// ReplaceRecoveryCodes voids the user's codes and stores new ones.
func (db *DB) ReplaceRecoveryCodes(ctx context.Context, userID int64, codeHashes [][]byte, at time.Time) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error { return replaceCodes(ctx, tx, userID, codeHashes, at) })
}

// UseRecoveryCode spends an unused code.
func (db *DB) UseRecoveryCode(ctx context.Context, userID int64, codeHash []byte, at time.Time) error {
	tag, err := db.pool.Exec(ctx, `UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND hash = $3 AND used_at IS NULL`,
		sqlrow.Millis(at), userID, codeHash)
	if err != nil {
		return fmt.Errorf("postgres: use recovery code of user %d: %w", userID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: use recovery code of user %d: %w", userID, jwtgate.ErrNotFound)
	}
	return nil
}

const credColumns = `id, user_id, name, public_key, attestation_type, aaguid, sign_count, backup_eligible, backup_state, transports, created_at, last_used_at`

// AddWebAuthnCredential stores c.
func (db *DB) AddWebAuthnCredential(ctx context.Context, c *jwtgate.WebAuthnCredential) error {
	if !storable(c.Name) || !storable(c.AttestationType) || !storable(strings.Join(c.Transports, ",")) {
		return fmt.Errorf("postgres: add credential of user %d: %w: name or metadata cannot be stored (invalid UTF-8 or NUL)", c.UserID, jwtgate.ErrInvalid)
	}
	aaguid := c.AAGUID
	if aaguid == nil {
		aaguid = []byte{}
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO webauthn_credentials (`+credColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		c.ID, c.UserID, c.Name, c.PublicKey, c.AttestationType, aaguid, int64(c.SignCount), c.BackupEligible, c.BackupState,
		strings.Join(c.Transports, ","), sqlrow.Millis(c.CreatedAt), sqlrow.NullMillis(c.LastUsedAt))
	switch {
	case isUniqueViolation(err):
		return fmt.Errorf("postgres: add credential of user %d: %w", c.UserID, jwtgate.ErrConflict)
	case isForeignKeyViolation(err):
		return fmt.Errorf("postgres: add credential of user %d: %w", c.UserID, jwtgate.ErrNotFound)
	case err != nil:
		return fmt.Errorf("postgres: add credential of user %d: %w", c.UserID, err)
	}
	return nil
}

// WebAuthnCredentials returns the user's credentials, oldest first.
func (db *DB) WebAuthnCredentials(ctx context.Context, userID int64) ([]jwtgate.WebAuthnCredential, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+credColumns+` FROM webauthn_credentials WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("postgres: credentials of user %d: %w", userID, err)
	}
	out, err := collect(rows, func(row pgx.CollectableRow) (jwtgate.WebAuthnCredential, error) {
		c, err := scanCredential(row)
		if err != nil {
			return jwtgate.WebAuthnCredential{}, err
		}
		return *c, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: credentials of user %d: %w", userID, err)
	}
	return out, nil
}

// WebAuthnCredential finds a credential by ID.
func (db *DB) WebAuthnCredential(ctx context.Context, id []byte) (*jwtgate.WebAuthnCredential, error) {
	c, err := scanCredential(db.pool.QueryRow(ctx, `SELECT `+credColumns+` FROM webauthn_credentials WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: credential: %w", jwtgate.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: credential: %w", err)
	}
	return c, nil
}

// UseWebAuthnCredential records an assertion, refusing a counter that did not grow.
func (db *DB) UseWebAuthnCredential(ctx context.Context, id []byte, signCount uint32, backupState bool, at time.Time) error {
	tag, err := db.pool.Exec(ctx, `
		UPDATE webauthn_credentials SET sign_count = $1, backup_state = $2, last_used_at = $3
		WHERE id = $4 AND (sign_count < $1 OR (sign_count = 0 AND $1 = 0))`,
		int64(signCount), backupState, sqlrow.Millis(at), id)
	if err != nil {
		return fmt.Errorf("postgres: use credential: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	var exists bool
	if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM webauthn_credentials WHERE id = $1)`, id).Scan(&exists); err != nil {
		return fmt.Errorf("postgres: use credential: %w", err)
	}
	if !exists {
		return fmt.Errorf("postgres: use credential: %w", jwtgate.ErrNotFound)
	}
	return fmt.Errorf("postgres: use credential: %w: sign counter did not grow (cloned authenticator?)", jwtgate.ErrConflict)
}

// RenameWebAuthnCredential relabels one of the user's credentials.
func (db *DB) RenameWebAuthnCredential(ctx context.Context, userID int64, id []byte, name string) error {
	if !storable(name) {
		return fmt.Errorf("postgres: rename credential: %w: name cannot be stored (invalid UTF-8 or NUL)", jwtgate.ErrInvalid)
	}
	return db.changeCredential(ctx, "rename", userID, `UPDATE webauthn_credentials SET name = $1 WHERE user_id = $2 AND id = $3`, name, userID, id)
}

// DeleteWebAuthnCredential removes one of the user's credentials.
func (db *DB) DeleteWebAuthnCredential(ctx context.Context, userID int64, id []byte) error {
	return db.changeCredential(ctx, "delete", userID, `DELETE FROM webauthn_credentials WHERE user_id = $1 AND id = $2`, userID, id)
}

func (db *DB) changeCredential(ctx context.Context, what string, userID int64, query string, args ...any) error {
	tag, err := db.pool.Exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("postgres: %s credential of user %d: %w", what, userID, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: %s credential of user %d: %w", what, userID, jwtgate.ErrNotFound)
	}
	return nil
}

func scanCredential(r pgx.Row) (*jwtgate.WebAuthnCredential, error) {
	var c jwtgate.WebAuthnCredential
	var count, created int64
	var transports string
	var used *int64
	if err := r.Scan(&c.ID, &c.UserID, &c.Name, &c.PublicKey, &c.AttestationType, &c.AAGUID, &count, &c.BackupEligible, &c.BackupState, &transports, &created, &used); err != nil {
		return nil, err
	}
	c.SignCount = uint32(count)
	if transports != "" {
		c.Transports = strings.Split(transports, ",")
	}
	c.CreatedAt, c.LastUsedAt = sqlrow.Time(created), optMillis(used)
	return &c, nil
}

// UserFactors summarises the second factors of the users in ids.
func (db *DB) UserFactors(ctx context.Context, ids []int64) (map[int64]jwtgate.Factors, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT user_id, true, 0, 0 FROM totp_secrets WHERE confirmed_at IS NOT NULL AND user_id = ANY($1)
		UNION ALL SELECT user_id, false, count(*), 0 FROM recovery_codes WHERE used_at IS NULL AND user_id = ANY($1) GROUP BY user_id
		UNION ALL SELECT user_id, false, 0, count(*) FROM webauthn_credentials WHERE user_id = ANY($1) GROUP BY user_id`, ids)
	if err != nil {
		return nil, fmt.Errorf("postgres: factors of users: %w", err)
	}
	out := map[int64]jwtgate.Factors{}
	var id, codes, keys int64
	var totp bool
	_, err = pgx.ForEachRow(rows, []any{&id, &totp, &codes, &keys}, func() error {
		f := out[id]
		f.TOTP = f.TOTP || totp
		f.RecoveryCodes += int(codes)
		f.Passkeys += int(keys)
		out[id] = f
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: factors of users: %w", err)
	}
	return out, nil
}

// DeleteFactors removes every second factor of the user.
func (db *DB) DeleteFactors(ctx context.Context, userID int64) (bool, error) {
	var total int64
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		for _, q := range []string{
			`DELETE FROM totp_secrets WHERE user_id = $1`,
			`DELETE FROM recovery_codes WHERE user_id = $1`,
			`DELETE FROM webauthn_credentials WHERE user_id = $1`,
		} {
			tag, err := tx.Exec(ctx, q, userID)
			if err != nil {
				return err
			}
			total += tag.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("postgres: delete factors of user %d: %w", userID, err)
	}
	return total > 0, nil
}
