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

// storableAll reports whether every string can be stored (valid UTF-8, no
// NUL); the request parameters of an authorization request come from the
// client as they are.
func storableAll(ss ...string) bool {
	for _, s := range ss {
		if !storable(s) {
			return false
		}
	}
	return true
}

// CreateAuthRequest stores an authorization request.
func (db *DB) CreateAuthRequest(ctx context.Context, r *jwtgate.AuthRequest) error {
	if !storableAll(append([]string{r.ID, r.ClientID, r.RedirectURI, r.State, r.Nonce, r.CodeChallenge, r.ResponseMode, r.LoginHint, r.HintSubject}, append(r.Scopes, r.Prompt...)...)...) {
		return fmt.Errorf("postgres: create auth request: %w: a value cannot be stored (invalid UTF-8 or NUL)", jwtgate.ErrInvalid)
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO oidc_auth_requests
		(id, client_id, redirect_uri, scopes, state, nonce, code_challenge, response_mode, prompt, max_age, login_hint, hint_subject, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`, sqlrow.AuthRequestArgs(r)...)
	switch {
	case isForeignKeyViolation(err):
		return fmt.Errorf("postgres: create auth request: client %w", jwtgate.ErrNotFound)
	case isUniqueViolation(err):
		return fmt.Errorf("postgres: create auth request: %w", jwtgate.ErrConflict)
	case err != nil:
		return fmt.Errorf("postgres: create auth request: %w", err)
	}
	return nil
}

// AuthRequest finds an authorization request by ID.
func (db *DB) AuthRequest(ctx context.Context, id string) (*jwtgate.AuthRequest, error) {
	if !storable(id) {
		return nil, fmt.Errorf("postgres: auth request: %w", jwtgate.ErrNotFound)
	}
	r, err := sqlrow.ScanAuthRequest(db.pool.QueryRow(ctx, `SELECT `+sqlrow.AuthRequestColumns+` FROM oidc_auth_requests WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: auth request: %w", jwtgate.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: auth request: %w", err)
	}
	return r, nil
}

// CompleteAuthRequest records the login and the code on a request that has
// none yet, in one conditional UPDATE.
func (db *DB) CompleteAuthRequest(ctx context.Context, id string, c jwtgate.AuthCompletion) error {
	if !storableAll(append([]string{id, c.SessionID}, c.AMR...)...) {
		return fmt.Errorf("postgres: complete auth request: %w", jwtgate.ErrNotFound)
	}
	tag, err := db.pool.Exec(ctx, `UPDATE oidc_auth_requests
		SET user_id = $1, session_id = $2, auth_time = $3, amr = $4, code_hash = $5, code_expires_at = $6
		WHERE id = $7 AND code_hash IS NULL`,
		sqlrow.NullID(c.UserID), c.SessionID, sqlrow.Millis(c.AuthTime), sqlrow.JoinList(c.AMR), c.CodeHash, sqlrow.Millis(c.CodeExpiresAt), id)
	if isForeignKeyViolation(err) {
		return fmt.Errorf("postgres: complete auth request: user %w", jwtgate.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres: complete auth request: %w", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	if _, err := db.AuthRequest(ctx, id); err != nil {
		return err
	}
	return fmt.Errorf("postgres: complete auth request: already completed: %w", jwtgate.ErrConflict)
}

// RedeemAuthCode spends a code: the first call marks it used; later ones
// read the request as the first left it. The conditional UPDATE is atomic
// under READ COMMITTED: a concurrent second UPDATE waits for the first and
// then finds code_used_at set.
func (db *DB) RedeemAuthCode(ctx context.Context, codeHash []byte, at time.Time, sid string) (*jwtgate.AuthRequest, bool, error) {
	if !storable(sid) {
		return nil, false, fmt.Errorf("postgres: redeem auth code: %w", jwtgate.ErrInvalid)
	}
	r, err := sqlrow.ScanAuthRequest(db.pool.QueryRow(ctx, `UPDATE oidc_auth_requests SET code_used_at = $1, issued_session_id = $2
		WHERE code_hash = $3 AND code_used_at IS NULL RETURNING `+sqlrow.AuthRequestColumns, sqlrow.Millis(at), sid, codeHash))
	if err == nil {
		return r, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, false, fmt.Errorf("postgres: redeem auth code: %w", err)
	}
	r, err = sqlrow.ScanAuthRequest(db.pool.QueryRow(ctx, `SELECT `+sqlrow.AuthRequestColumns+` FROM oidc_auth_requests WHERE code_hash = $1`, codeHash))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, false, fmt.Errorf("postgres: redeem auth code: %w", jwtgate.ErrNotFound)
	}
	if err != nil {
		return nil, false, fmt.Errorf("postgres: redeem auth code: %w", err)
	}
	return r, false, nil
}

// DeleteAuthRequestsBefore purges requests nobody can continue or redeem.
func (db *DB) DeleteAuthRequestsBefore(ctx context.Context, t time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM oidc_auth_requests WHERE expires_at < $1 AND code_expires_at < $1`, sqlrow.Millis(t))
	if err != nil {
		return 0, fmt.Errorf("postgres: delete auth requests: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// SaveConsent stores or replaces a consent.
func (db *DB) SaveConsent(ctx context.Context, c *jwtgate.Consent) error {
	if !storableAll(append([]string{c.ClientID}, c.Scopes...)...) {
		return fmt.Errorf("postgres: save consent: %w", jwtgate.ErrNotFound)
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO oidc_consents (`+sqlrow.ConsentColumns+`) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
		c.UserID, c.ClientID, sqlrow.JoinList(c.Scopes), sqlrow.Millis(c.CreatedAt), sqlrow.Millis(c.UpdatedAt))
	if isForeignKeyViolation(err) {
		return fmt.Errorf("postgres: save consent: %w", jwtgate.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("postgres: save consent: %w", err)
	}
	return nil
}

// Consent finds a user's consent for a client.
func (db *DB) Consent(ctx context.Context, userID int64, clientID string) (*jwtgate.Consent, error) {
	if !storable(clientID) {
		return nil, fmt.Errorf("postgres: consent: %w", jwtgate.ErrNotFound)
	}
	c, err := sqlrow.ScanConsent(db.pool.QueryRow(ctx, `SELECT `+sqlrow.ConsentColumns+` FROM oidc_consents WHERE user_id = $1 AND client_id = $2`, userID, clientID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: consent: %w", jwtgate.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: consent: %w", err)
	}
	return c, nil
}

// ConsentsByUser lists a user's consents, oldest first.
func (db *DB) ConsentsByUser(ctx context.Context, userID int64) ([]jwtgate.Consent, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+sqlrow.ConsentColumns+` FROM oidc_consents WHERE user_id = $1 ORDER BY created_at, client_id`, userID)
	if err != nil {
		return nil, fmt.Errorf("postgres: consents: %w", err)
	}
	out, err := collect(rows, func(row pgx.CollectableRow) (jwtgate.Consent, error) {
		c, err := sqlrow.ScanConsent(row)
		if err != nil {
			return jwtgate.Consent{}, err
		}
		return *c, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: consents: %w", err)
	}
	return out, nil
}

// DeleteConsent removes a user's consent for a client.
func (db *DB) DeleteConsent(ctx context.Context, userID int64, clientID string) error {
	if !storable(clientID) {
		return fmt.Errorf("postgres: delete consent: %w", jwtgate.ErrNotFound)
	}
	tag, err := db.pool.Exec(ctx, `DELETE FROM oidc_consents WHERE user_id = $1 AND client_id = $2`, userID, clientID)
	if err != nil {
		return fmt.Errorf("postgres: delete consent: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete consent: %w", jwtgate.ErrNotFound)
	}
	return nil
}

// CreateClientGrant records which client a session belongs to.
func (db *DB) CreateClientGrant(ctx context.Context, g *jwtgate.ClientGrant) error {
	if !storableAll(append(append([]string{g.SessionID, g.ClientID}, g.Scopes...), g.AMR...)...) {
		return fmt.Errorf("postgres: create client grant: %w", jwtgate.ErrInvalid)
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO oidc_grants (`+sqlrow.GrantColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`, sqlrow.GrantArgs(g)...)
	switch {
	case isForeignKeyViolation(err):
		return fmt.Errorf("postgres: create client grant: %w", jwtgate.ErrNotFound)
	case isUniqueViolation(err):
		return fmt.Errorf("postgres: create client grant: %w", jwtgate.ErrConflict)
	case err != nil:
		return fmt.Errorf("postgres: create client grant: %w", err)
	}
	return nil
}

// ClientGrant finds the grant of a session.
func (db *DB) ClientGrant(ctx context.Context, sessionID string) (*jwtgate.ClientGrant, error) {
	if !storable(sessionID) {
		return nil, fmt.Errorf("postgres: client grant: %w", jwtgate.ErrNotFound)
	}
	g, err := sqlrow.ScanGrant(db.pool.QueryRow(ctx, `SELECT `+sqlrow.GrantColumns+` FROM oidc_grants WHERE session_id = $1`, sessionID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: client grant: %w", jwtgate.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: client grant: %w", err)
	}
	return g, nil
}

// ClientGrantSessions lists the sessions a user started for a client.
func (db *DB) ClientGrantSessions(ctx context.Context, userID int64, clientID string) ([]string, error) {
	if !storable(clientID) {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT session_id FROM oidc_grants WHERE user_id = $1 AND client_id = $2 ORDER BY created_at`, userID, clientID)
	if err != nil {
		return nil, fmt.Errorf("postgres: client grant sessions: %w", err)
	}
	out, err := collect(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: client grant sessions: %w", err)
	}
	return out, nil
}

// ClientSessionIDs lists every session started for a client.
func (db *DB) ClientSessionIDs(ctx context.Context, clientID string) ([]string, error) {
	if !storable(clientID) {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT session_id FROM oidc_grants WHERE client_id = $1 ORDER BY created_at`, clientID)
	if err != nil {
		return nil, fmt.Errorf("postgres: client sessions: %w", err)
	}
	out, err := collect(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("postgres: client sessions: %w", err)
	}
	return out, nil
}
