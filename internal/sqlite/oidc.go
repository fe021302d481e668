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

// CreateAuthRequest stores an authorization request.
func (db *DB) CreateAuthRequest(ctx context.Context, r *jwtgate.AuthRequest) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO oidc_auth_requests
		(id, client_id, redirect_uri, scopes, state, nonce, code_challenge, response_mode, prompt, max_age, login_hint, hint_subject, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, sqlrow.AuthRequestArgs(r)...)
	switch {
	case isForeignKeyViolation(err):
		return fmt.Errorf("sqlite: create auth request: client %w", jwtgate.ErrNotFound)
	case isUniqueViolation(err):
		return fmt.Errorf("sqlite: create auth request: %w", jwtgate.ErrConflict)
	case err != nil:
		return fmt.Errorf("sqlite: create auth request: %w", err)
	}
	return nil
}

// AuthRequest finds an authorization request by ID.
func (db *DB) AuthRequest(ctx context.Context, id string) (*jwtgate.AuthRequest, error) {
	r, err := sqlrow.ScanAuthRequest(db.db.QueryRowContext(ctx, `SELECT `+sqlrow.AuthRequestColumns+` FROM oidc_auth_requests WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: auth request: %w", jwtgate.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: auth request: %w", err)
	}
	return r, nil
}

// CompleteAuthRequest records the login and the code on a request that has
// none yet, in one conditional UPDATE.
func (db *DB) CompleteAuthRequest(ctx context.Context, id string, c jwtgate.AuthCompletion) error {
	res, err := db.w.ExecContext(ctx, `UPDATE oidc_auth_requests
		SET user_id = ?, session_id = ?, auth_time = ?, amr = ?, code_hash = ?, code_expires_at = ?
		WHERE id = ? AND code_hash IS NULL`,
		sqlrow.NullID(c.UserID), c.SessionID, sqlrow.Millis(c.AuthTime), sqlrow.JoinList(c.AMR), c.CodeHash, sqlrow.Millis(c.CodeExpiresAt), id)
	if isForeignKeyViolation(err) {
		return fmt.Errorf("sqlite: complete auth request: user %w", jwtgate.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: complete auth request: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: complete auth request: %w", err)
	} else if n == 1 {
		return nil
	}
	if _, err := db.AuthRequest(ctx, id); err != nil {
		return err
	}
	return fmt.Errorf("sqlite: complete auth request: already completed: %w", jwtgate.ErrConflict)
}

// RedeemAuthCode spends a code: the first call marks it used; later ones
// read the request as the first left it.
func (db *DB) RedeemAuthCode(ctx context.Context, codeHash []byte, at time.Time, sid string) (*jwtgate.AuthRequest, bool, error) {
	tx, err := db.w.BeginTx(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: redeem auth code: %w", err)
	}
	defer tx.Rollback()
	r, err := sqlrow.ScanAuthRequest(tx.QueryRowContext(ctx, `UPDATE oidc_auth_requests SET code_used_at = ?, issued_session_id = ?
		WHERE code_hash = ? AND code_used_at IS NULL RETURNING `+sqlrow.AuthRequestColumns, sqlrow.Millis(at), sid, codeHash))
	if err == nil {
		if err := tx.Commit(); err != nil {
			return nil, false, fmt.Errorf("sqlite: redeem auth code: %w", err)
		}
		return r, true, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return nil, false, fmt.Errorf("sqlite: redeem auth code: %w", err)
	}
	_ = tx.Rollback()
	r, err = sqlrow.ScanAuthRequest(db.db.QueryRowContext(ctx, `SELECT `+sqlrow.AuthRequestColumns+` FROM oidc_auth_requests WHERE code_hash = ?`, codeHash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, fmt.Errorf("sqlite: redeem auth code: %w", jwtgate.ErrNotFound)
	}
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: redeem auth code: %w", err)
	}
	return r, false, nil
}

// DeleteAuthRequestsBefore purges requests nobody can continue or redeem.
func (db *DB) DeleteAuthRequestsBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM oidc_auth_requests WHERE expires_at < ? AND code_expires_at < ?`, sqlrow.Millis(t), sqlrow.Millis(t))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete auth requests: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// SaveConsent stores or replaces a consent.
func (db *DB) SaveConsent(ctx context.Context, c *jwtgate.Consent) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO oidc_consents (`+sqlrow.ConsentColumns+`) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
		c.UserID, c.ClientID, sqlrow.JoinList(c.Scopes), sqlrow.Millis(c.CreatedAt), sqlrow.Millis(c.UpdatedAt))
	if isForeignKeyViolation(err) {
		return fmt.Errorf("sqlite: save consent: %w", jwtgate.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("sqlite: save consent: %w", err)
	}
	return nil
}

// Consent finds a user's consent for a client.
func (db *DB) Consent(ctx context.Context, userID int64, clientID string) (*jwtgate.Consent, error) {
	c, err := sqlrow.ScanConsent(db.db.QueryRowContext(ctx, `SELECT `+sqlrow.ConsentColumns+` FROM oidc_consents WHERE user_id = ? AND client_id = ?`, userID, clientID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: consent: %w", jwtgate.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: consent: %w", err)
	}
	return c, nil
}

// ConsentsByUser lists a user's consents, oldest first.
func (db *DB) ConsentsByUser(ctx context.Context, userID int64) ([]jwtgate.Consent, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+sqlrow.ConsentColumns+` FROM oidc_consents WHERE user_id = ? ORDER BY created_at, client_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: consents: %w", err)
	}
	defer rows.Close()
	var out []jwtgate.Consent
	for rows.Next() {
		c, err := sqlrow.ScanConsent(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: consents: %w", err)
		}
		out = append(out, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: consents: %w", err)
	}
	return out, nil
}

// DeleteConsent removes a user's consent for a client.
func (db *DB) DeleteConsent(ctx context.Context, userID int64, clientID string) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM oidc_consents WHERE user_id = ? AND client_id = ?`, userID, clientID)
	if err != nil {
		return fmt.Errorf("sqlite: delete consent: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: delete consent: %w", err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: delete consent: %w", jwtgate.ErrNotFound)
	}
	return nil
}

// CreateClientGrant records which client a session belongs to.
func (db *DB) CreateClientGrant(ctx context.Context, g *jwtgate.ClientGrant) error {
	_, err := db.w.ExecContext(ctx, `INSERT INTO oidc_grants (`+sqlrow.GrantColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`, sqlrow.GrantArgs(g)...)
	switch {
	case isForeignKeyViolation(err):
		return fmt.Errorf("sqlite: create client grant: %w", jwtgate.ErrNotFound)
	case isUniqueViolation(err):
		return fmt.Errorf("sqlite: create client grant: %w", jwtgate.ErrConflict)
	case err != nil:
		return fmt.Errorf("sqlite: create client grant: %w", err)
	}
	return nil
}

// ClientGrant finds the grant of a session.
func (db *DB) ClientGrant(ctx context.Context, sessionID string) (*jwtgate.ClientGrant, error) {
	g, err := sqlrow.ScanGrant(db.db.QueryRowContext(ctx, `SELECT `+sqlrow.GrantColumns+` FROM oidc_grants WHERE session_id = ?`, sessionID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: client grant: %w", jwtgate.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: client grant: %w", err)
	}
	return g, nil
}

// ClientGrantSessions lists the sessions a user started for a client.
func (db *DB) ClientGrantSessions(ctx context.Context, userID int64, clientID string) ([]string, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT session_id FROM oidc_grants WHERE user_id = ? AND client_id = ? ORDER BY created_at`, userID, clientID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: client grant sessions: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlite: client grant sessions: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: client grant sessions: %w", err)
	}
	return out, nil
}

// ClientSessionIDs lists every session started for a client.
func (db *DB) ClientSessionIDs(ctx context.Context, clientID string) ([]string, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT session_id FROM oidc_grants WHERE client_id = ? ORDER BY created_at`, clientID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: client sessions: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("sqlite: client sessions: %w", err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: client sessions: %w", err)
	}
	return out, nil
}
