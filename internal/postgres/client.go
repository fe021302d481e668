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

// CreateClient stores c.
func (db *DB) CreateClient(ctx context.Context, c *jwtgate.Client) error {
	for _, s := range append([]string{c.ID, c.Name, c.IDTokenAlg}, append(append(c.RedirectURIs, c.PostLogoutRedirectURIs...), c.Scopes...)...) {
		if !storable(s) {
			return fmt.Errorf("postgres: create client: %w: a value cannot be stored (invalid UTF-8 or NUL)", jwtgate.ErrInvalid)
		}
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO oidc_clients (`+sqlrow.ClientColumns+`, name_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		c.ID, c.Name, c.SecretHash, c.Public, sqlrow.JSONList(c.RedirectURIs), sqlrow.JSONList(c.PostLogoutRedirectURIs), sqlrow.JSONList(c.Scopes),
		c.Trusted, c.IDTokenAlg, sqlrow.Millis(c.CreatedAt), sqlrow.Millis(c.UpdatedAt), strings.ToLower(c.Name))
	if isUniqueViolation(err) {
		return fmt.Errorf("postgres: create client %q: %w", c.Name, jwtgate.ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("postgres: create client %q: %w", c.Name, err)
	}
	return nil
}

// Client finds a client by ID.
func (db *DB) Client(ctx context.Context, id string) (*jwtgate.Client, error) {
	if !storable(id) {
		return nil, fmt.Errorf("postgres: client: %w", jwtgate.ErrNotFound)
	}
	c, err := sqlrow.ScanClient(db.pool.QueryRow(ctx, `SELECT `+sqlrow.ClientColumns+` FROM oidc_clients WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: client: %w", jwtgate.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("postgres: client: %w", err)
	}
	return c, nil
}

// Clients returns every client, ordered by name.
func (db *DB) Clients(ctx context.Context) ([]jwtgate.Client, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+sqlrow.ClientColumns+` FROM oidc_clients ORDER BY name_key`)
	if err != nil {
		return nil, fmt.Errorf("postgres: clients: %w", err)
	}
	out, err := collect(rows, func(row pgx.CollectableRow) (jwtgate.Client, error) {
		c, err := sqlrow.ScanClient(row)
		if err != nil {
			return jwtgate.Client{}, err
		}
		return *c, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: clients: %w", err)
	}
	return out, nil
}

// SetClientSecret replaces a client's secret hash.
func (db *DB) SetClientSecret(ctx context.Context, id string, hash []byte, at time.Time) error {
	if !storable(id) {
		return fmt.Errorf("postgres: set client secret: %w", jwtgate.ErrNotFound)
	}
	tag, err := db.pool.Exec(ctx, `UPDATE oidc_clients SET secret_hash = $1, updated_at = $2 WHERE id = $3`, hash, sqlrow.Millis(at), id)
	if err != nil {
		return fmt.Errorf("postgres: set client secret: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: set client secret: %w", jwtgate.ErrNotFound)
	}
	return nil
}

// DeleteClient removes a client.
func (db *DB) DeleteClient(ctx context.Context, id string) error {
	if !storable(id) {
		return fmt.Errorf("postgres: delete client: %w", jwtgate.ErrNotFound)
	}
	tag, err := db.pool.Exec(ctx, `DELETE FROM oidc_clients WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("postgres: delete client: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: delete client: %w", jwtgate.ErrNotFound)
	}
	return nil
}
