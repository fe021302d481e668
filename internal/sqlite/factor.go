package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
)

// PutTOTP stores t as the user's pending secret, unless a confirmed one exists.
func (db *DB) PutTOTP(ctx context.Context, t *jwtgate.TOTP) error {
	res, err := db.w.ExecContext(ctx, `
		INSERT INTO totp_secrets (user_id, secret, created_at) VALUES (?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at, last_step = 0
		WHERE totp_secrets.confirmed_at IS NULL`,
		t.UserID, t.Secret, sqlrow.Millis(t.CreatedAt))
	if isForeignKeyViolation(err) {
		return fmt.Errorf("sqlite: put totp of user %d: %w", t.UserID, jwtgate.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: put totp of user %d: %w", t.UserID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: put totp of user %d: %w", t.UserID, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: put totp of user %d: %w: a confirmed secret exists", t.UserID, jwtgate.ErrConflict)
	}
	return nil
}

// TOTP returns the user's secret.
func (db *DB) TOTP(ctx context.Context, userID int64) (*jwtgate.TOTP, error) {
	var t jwtgate.TOTP
	var created int64
	var confirmed *int64
	err := db.db.QueryRowContext(ctx, `SELECT user_id, secret, created_at, confirmed_at, last_step FROM totp_secrets WHERE user_id = ?`, userID).
		Scan(&t.UserID, &t.Secret, &created, &confirmed, &t.LastStep)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: totp of user %d: %w", userID, jwtgate.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: totp of user %d: %w", userID, err)
	}
	t.CreatedAt, t.ConfirmedAt = sqlrow.Time(created), sqlrow.NullTime(confirmed)
	return &t, nil
}

// ConfirmTOTP activates the pending secret and replaces the recovery codes.
func (db *DB) ConfirmTOTP(ctx context.Context, userID int64, step int64, at time.Time, codeHashes [][]byte) error {
	tx, err := db.w.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: confirm totp of user %d: %w", userID, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE totp_secrets SET confirmed_at = ?, last_step = ? WHERE user_id = ? AND confirmed_at IS NULL`,
		sqlrow.Millis(at), step, userID)
	if err != nil {
		return fmt.Errorf("sqlite: confirm totp of user %d: %w", userID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: confirm totp of user %d: %w", userID, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: confirm totp of user %d: %w: no pending secret", userID, jwtgate.ErrNotFound)
	}
	if err := replaceCodes(ctx, tx, userID, codeHashes, at); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: confirm totp of user %d: %w", userID, err)
	}
	return nil
}

func replaceCodes(ctx context.Context, tx *writeTx, userID int64, codeHashes [][]byte, at time.Time) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("sqlite: replace recovery codes of user %d: %w", userID, err)
	}
	for _, h := range codeHashes {
		_, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, hash, created_at) VALUES (?, ?, ?)`, userID, h, sqlrow.Millis(at))
		if isForeignKeyViolation(err) {
			return fmt.Errorf("sqlite: replace recovery codes of user %d: %w", userID, jwtgate.ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("sqlite: replace recovery codes of user %d: %w", userID, err)
		}
	}
	return nil
}

// UseTOTPStep advances last_step to step if step is newer.
func (db *DB) UseTOTPStep(ctx context.Context, userID int64, step int64) error {
	tx, err := db.w.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: use totp step of user %d: %w", userID, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE totp_secrets SET last_step = ? WHERE user_id = ? AND confirmed_at IS NOT NULL AND last_step < ?`, step, userID, step)
	if err != nil {
		return fmt.Errorf("sqlite: use totp step of user %d: %w", userID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: use totp step of user %d: %w", userID, err)
	}
	if n == 0 {
		var exists int
		err := tx.QueryRowContext(ctx, `SELECT count(*) FROM totp_secrets WHERE user_id = ? AND confirmed_at IS NOT NULL`, userID).Scan(&exists)
		if err != nil {
			return fmt.Errorf("sqlite: use totp step of user %d: %w", userID, err)
		}
		if exists == 0 {
			return fmt.Errorf("sqlite: use totp step of user %d: %w", userID, jwtgate.ErrNotFound)
		}
		return fmt.Errorf("sqlite: use totp step of user %d: %w: code already used", userID, jwtgate.ErrConflict)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: use totp step of user %d: %w", userID, err)
	}
	return nil
}

// DeleteTOTP removes the secret and the recovery codes.
func (db *DB) DeleteTOTP(ctx context.Context, userID int64) error {
	tx, err := db.w.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: delete totp of user %d: %w", userID, err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `DELETE FROM totp_secrets WHERE user_id = ?`, userID)
	if err != nil {
		return fmt.Errorf("sqlite: delete totp of user %d: %w", userID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: delete totp of user %d: %w", userID, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: delete totp of user %d: %w", userID, jwtgate.ErrNotFound)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return fmt.Errorf("sqlite: delete totp of user %d: %w", userID, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: delete totp of user %d: %w", userID, err)
	}
	return nil
}

// ReplaceRecoveryCodes voids the user's codes and stores new ones.
func (db *DB) ReplaceRecoveryCodes(ctx context.Context, userID int64, codeHashes [][]byte, at time.Time) error {
	tx, err := db.w.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: replace recovery codes of user %d: %w", userID, err)
	}
	defer tx.Rollback()
	if err := replaceCodes(ctx, tx, userID, codeHashes, at); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: replace recovery codes of user %d: %w", userID, err)
	}
	return nil
}

// UseRecoveryCode spends an unused code.
func (db *DB) UseRecoveryCode(ctx context.Context, userID int64, codeHash []byte, at time.Time) error {
	res, err := db.w.ExecContext(ctx, `UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND hash = ? AND used_at IS NULL`,
		sqlrow.Millis(at), userID, codeHash)
	if err != nil {
		return fmt.Errorf("sqlite: use recovery code of user %d: %w", userID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: use recovery code of user %d: %w", userID, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: use recovery code of user %d: %w", userID, jwtgate.ErrNotFound)
	}
	return nil
}

const credColumns = `id, user_id, name, public_key, attestation_type, aaguid, sign_count, backup_eligible, backup_state, transports, created_at, last_used_at`

// AddWebAuthnCredential stores c.
func (db *DB) AddWebAuthnCredential(ctx context.Context, c *jwtgate.WebAuthnCredential) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO webauthn_credentials (`+credColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.UserID, c.Name, c.PublicKey, c.AttestationType, nonNilBytes(c.AAGUID), int64(c.SignCount), boolInt(c.BackupEligible), boolInt(c.BackupState),
		strings.Join(c.Transports, ","), sqlrow.Millis(c.CreatedAt), sqlrow.NullMillis(c.LastUsedAt))
	switch {
	case isUniqueViolation(err):
		return fmt.Errorf("sqlite: add credential of user %d: %w", c.UserID, jwtgate.ErrConflict)
	case isForeignKeyViolation(err):
		return fmt.Errorf("sqlite: add credential of user %d: %w", c.UserID, jwtgate.ErrNotFound)
	case err != nil:
		return fmt.Errorf("sqlite: add credential of user %d: %w", c.UserID, err)
	}
	return nil
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// WebAuthnCredentials returns the user's credentials, oldest first.
func (db *DB) WebAuthnCredentials(ctx context.Context, userID int64) ([]jwtgate.WebAuthnCredential, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+credColumns+` FROM webauthn_credentials WHERE user_id = ? ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: credentials of user %d: %w", userID, err)
	}
	defer rows.Close()
	var out []jwtgate.WebAuthnCredential
	for rows.Next() {
		c, err := scanCredential(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: credentials of user %d: %w", userID, err)
		}
		out = append(out, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: credentials of user %d: %w", userID, err)
	}
	return out, nil
}

// WebAuthnCredential finds a credential by ID.
func (db *DB) WebAuthnCredential(ctx context.Context, id []byte) (*jwtgate.WebAuthnCredential, error) {
	c, err := scanCredential(db.db.QueryRowContext(ctx, `SELECT `+credColumns+` FROM webauthn_credentials WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: credential: %w", jwtgate.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: credential: %w", err)
	}
	return c, nil
}

// UseWebAuthnCredential records an assertion, refusing a counter that did not grow.
func (db *DB) UseWebAuthnCredential(ctx context.Context, id []byte, signCount uint32, backupState bool, at time.Time) error {
	tx, err := db.w.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: use credential: %w", err)
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `
		UPDATE webauthn_credentials SET sign_count = ?, backup_state = ?, last_used_at = ?
		WHERE id = ? AND (sign_count < ? OR (sign_count = 0 AND ? = 0))`,
		int64(signCount), boolInt(backupState), sqlrow.Millis(at), id, int64(signCount), int64(signCount))
	if err != nil {
		return fmt.Errorf("sqlite: use credential: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("sqlite: use credential: %w", err)
	}
	if n == 0 {
		var exists int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM webauthn_credentials WHERE id = ?`, id).Scan(&exists); err != nil {
			return fmt.Errorf("sqlite: use credential: %w", err)
		}
		if exists == 0 {
			return fmt.Errorf("sqlite: use credential: %w", jwtgate.ErrNotFound)
		}
		return fmt.Errorf("sqlite: use credential: %w: sign counter did not grow (cloned authenticator?)", jwtgate.ErrConflict)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: use credential: %w", err)
	}
	return nil
}

// RenameWebAuthnCredential relabels one of the user's credentials.
func (db *DB) RenameWebAuthnCredential(ctx context.Context, userID int64, id []byte, name string) error {
	return db.changeCredential(ctx, "rename", userID, `UPDATE webauthn_credentials SET name = ? WHERE user_id = ? AND id = ?`, name, userID, id)
}

// DeleteWebAuthnCredential removes one of the user's credentials.
func (db *DB) DeleteWebAuthnCredential(ctx context.Context, userID int64, id []byte) error {
	return db.changeCredential(ctx, "delete", userID, `DELETE FROM webauthn_credentials WHERE user_id = ? AND id = ?`, userID, id)
}

func (db *DB) changeCredential(ctx context.Context, what string, userID int64, query string, args ...any) error {
	res, err := db.w.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sqlite: %s credential of user %d: %w", what, userID, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: %s credential of user %d: %w", what, userID, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: %s credential of user %d: %w", what, userID, jwtgate.ErrNotFound)
	}
	return nil
}

func scanCredential(r rowScanner) (*jwtgate.WebAuthnCredential, error) {
	var c jwtgate.WebAuthnCredential
	var count, be, bs, created int64
	var transports string
	var used *int64
	if err := r.Scan(&c.ID, &c.UserID, &c.Name, &c.PublicKey, &c.AttestationType, &c.AAGUID, &count, &be, &bs, &transports, &created, &used); err != nil {
		return nil, err
	}
	c.SignCount, c.BackupEligible, c.BackupState = uint32(count), be != 0, bs != 0
	if transports != "" {
		c.Transports = strings.Split(transports, ",")
	}
	c.CreatedAt, c.LastUsedAt = sqlrow.Time(created), sqlrow.NullTime(used)
	return &c, nil
}

// UserFactors summarises the second factors of the users in ids.
func (db *DB) UserFactors(ctx context.Context, ids []int64) (map[int64]jwtgate.Factors, error) {
	out := map[int64]jwtgate.Factors{}
	for len(ids) > 0 {
		chunk := ids[:min(len(ids), 500)]
		ids = ids[len(chunk):]
		in := "(?" + strings.Repeat(",?", len(chunk)-1) + ")"
		args := make([]any, 0, 3*len(chunk))
		for range 3 {
			for _, id := range chunk {
				args = append(args, id)
			}
		}
		rows, err := db.db.QueryContext(ctx, `
			SELECT user_id, 1, 0, 0 FROM totp_secrets WHERE confirmed_at IS NOT NULL AND user_id IN `+in+`
			UNION ALL SELECT user_id, 0, count(*), 0 FROM recovery_codes WHERE used_at IS NULL AND user_id IN `+in+` GROUP BY user_id
			UNION ALL SELECT user_id, 0, 0, count(*) FROM webauthn_credentials WHERE user_id IN `+in+` GROUP BY user_id`, args...)
		if err != nil {
			return nil, fmt.Errorf("sqlite: factors of users: %w", err)
		}
		for rows.Next() {
			var id, totp, codes, keys int64
			if err := rows.Scan(&id, &totp, &codes, &keys); err != nil {
				rows.Close()
				return nil, fmt.Errorf("sqlite: factors of users: %w", err)
			}
			f := out[id]
			f.TOTP = f.TOTP || totp != 0
			f.RecoveryCodes += int(codes)
			f.Passkeys += int(keys)
			out[id] = f
		}
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("sqlite: factors of users: %w", err)
		}
		rows.Close()
	}
	return out, nil
}

// DeleteFactors removes every second factor of the user.
func (db *DB) DeleteFactors(ctx context.Context, userID int64) (bool, error) {
	tx, err := db.w.BeginTx(ctx)
	if err != nil {
		return false, fmt.Errorf("sqlite: delete factors of user %d: %w", userID, err)
	}
	defer tx.Rollback()
	var total int64
	for _, q := range []string{
		`DELETE FROM totp_secrets WHERE user_id = ?`,
		`DELETE FROM recovery_codes WHERE user_id = ?`,
		`DELETE FROM webauthn_credentials WHERE user_id = ?`,
	} {
		res, err := tx.ExecContext(ctx, q, userID)
		if err != nil {
			return false, fmt.Errorf("sqlite: delete factors of user %d: %w", userID, err)
		}
		n, _ := res.RowsAffected()
		total += n
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlite: delete factors of user %d: %w", userID, err)
	}
	return total > 0, nil
}
