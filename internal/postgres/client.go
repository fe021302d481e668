package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
)

const clientColumns = `id, name, secret_hash, public, redirect_uris, post_logout_redirect_uris, scopes, trusted, id_token_alg, created_at, updated_at`

func jsonList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l)
	return string(b)
}

// CreateClient stores c.
func (db *DB) CreateClient(ctx context.Context, c *jwtgate.Client) error {
	for _, s := range append([]string{c.ID, c.Name, c.IDTokenAlg}, append(append(c.RedirectURIs, c.PostLogoutRedirectURIs...), c.Scopes...)...) {
		if !storable(s) {
			return fmt.Errorf("postgres: create client: %w: a value cannot be stored (invalid UTF-8 or NUL)", jwtgate.ErrInvalid)
		}
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO oidc_clients (`+clientColumns+`, name_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		c.ID, c.Name, c.SecretHash, c.Public, jsonList(c.RedirectURIs), jsonList(c.PostLogoutRedirectURIs), jsonList(c.Scopes),
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
	c, err := scanClient(db.pool.QueryRow(ctx, `SELECT `+clientColumns+` FROM oidc_clients WHERE id = $1`, id))
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
	rows, err := db.pool.Query(ctx, `SELECT `+clientColumns+` FROM oidc_clients ORDER BY name_key`)
	if err != nil {
		return nil, fmt.Errorf("postgres: clients: %w", err)
	}
	out, err := collect(rows, func(row pgx.CollectableRow) (jwtgate.Client, error) {
		c, err := scanClient(row)
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

func scanClient(r pgx.Row) (*jwtgate.Client, error) {
	var c jwtgate.Client
	var redirects, logouts, scopes string
	var created, updated int64
	if err := r.Scan(&c.ID, &c.Name, &c.SecretHash, &c.Public, &redirects, &logouts, &scopes, &c.Trusted, &c.IDTokenAlg, &created, &updated); err != nil {
		return nil, err
	}
	for _, l := range []struct {
		raw string
		dst *[]string
	}{{redirects, &c.RedirectURIs}, {logouts, &c.PostLogoutRedirectURIs}, {scopes, &c.Scopes}} {
		if err := json.Unmarshal([]byte(l.raw), l.dst); err != nil {
			return nil, fmt.Errorf("client %s: list column: %w", c.ID, err)
		}
	}
	c.CreatedAt, c.UpdatedAt = sqlrow.Time(created), sqlrow.Time(updated)
	return &c, nil
}
