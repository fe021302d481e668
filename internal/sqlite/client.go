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

// CreateClient stores c.
func (db *DB) CreateClient(ctx context.Context, c *jwtgate.Client) error {
	var secret any
	if c.SecretHash != nil {
		secret = c.SecretHash
	}
	_, err := db.w.ExecContext(ctx, `INSERT INTO oidc_clients (`+sqlrow.ClientColumns+`, name_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Name, secret, boolInt(c.Public), sqlrow.JSONList(c.RedirectURIs), sqlrow.JSONList(c.PostLogoutRedirectURIs), sqlrow.JSONList(c.Scopes),
		boolInt(c.Trusted), c.IDTokenAlg, sqlrow.Millis(c.CreatedAt), sqlrow.Millis(c.UpdatedAt), strings.ToLower(c.Name))
	if isUniqueViolation(err) {
		return fmt.Errorf("sqlite: create client %q: %w", c.Name, jwtgate.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("sqlite: create client %q: %w", c.Name, err)
	}
	return nil
}

// Client finds a client by ID.
func (db *DB) Client(ctx context.Context, id string) (*jwtgate.Client, error) {
	c, err := sqlrow.ScanClient(db.db.QueryRowContext(ctx, `SELECT `+sqlrow.ClientColumns+` FROM oidc_clients WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: client: %w", jwtgate.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: client: %w", err)
	}
	return c, nil
}

// Clients returns every client, ordered by name.
func (db *DB) Clients(ctx context.Context) ([]jwtgate.Client, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+sqlrow.ClientColumns+` FROM oidc_clients ORDER BY name_key`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: clients: %w", err)
	}
	defer rows.Close()
	var out []jwtgate.Client
	for rows.Next() {
		c, err := sqlrow.ScanClient(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: clients: %w", err)
		}
		out = append(out, *c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: clients: %w", err)
	}
	return out, nil
}

// SetClientSecret replaces a client's secret hash.
func (db *DB) SetClientSecret(ctx context.Context, id string, hash []byte, at time.Time) error {
	res, err := db.w.ExecContext(ctx, `UPDATE oidc_clients SET secret_hash = ?, updated_at = ? WHERE id = ?`, hash, sqlrow.Millis(at), id)
	if err != nil {
		return fmt.Errorf("sqlite: set client secret: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: set client secret: %w", err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: set client secret: %w", jwtgate.ErrNotFound)
	}
	return nil
}

// DeleteClient removes a client.
func (db *DB) DeleteClient(ctx context.Context, id string) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM oidc_clients WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("sqlite: delete client: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: delete client: %w", err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: delete client: %w", jwtgate.ErrNotFound)
	}
	return nil
}
