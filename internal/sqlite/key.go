package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
)

// EnsureKey inserts k unless a key with k.Alg exists, and returns the newest
// key of that algorithm: k if it was inserted, else the one already there.
// Insert and read are one immediate transaction, so instances starting at
// once all get the same key. It returns an error wrapping
// jwtgate.ErrConflict if k.ID is taken by a key of another algorithm.
func (db *DB) EnsureKey(ctx context.Context, k *jwtgate.Key) (*jwtgate.Key, error) {
	// BEGIN IMMEDIATE (the DSN's _txlock): the write lock is held from the
	// start, so no other writer can slip in between insert and select.
	tx, err := db.w.BeginTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: ensure %s key: %w", k.Alg, err)
	}
	defer tx.Rollback() // after Commit, a no-op

	_, err = tx.ExecContext(ctx, `
		INSERT INTO signing_keys (kid, alg, private_key, public_key, created_at, activates_at, retires_at)
		SELECT ?, ?, ?, ?, ?, ?, ?
		WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE alg = ?)`,
		k.ID, k.Alg, k.Private, k.Public, sqlrow.Millis(k.CreatedAt), sqlrow.Millis(k.ActivatesAt),
		sqlrow.NullMillis(k.RetiresAt), k.Alg)
	if isUniqueViolation(err) {
		return nil, fmt.Errorf("sqlite: ensure %s key %s: %w", k.Alg, k.ID, jwtgate.ErrConflict)
	} else if err != nil {
		return nil, fmt.Errorf("sqlite: ensure %s key: %w", k.Alg, err)
	}

	got, err := sqlrow.ScanKey(tx.QueryRowContext(ctx,
		`SELECT `+sqlrow.KeyColumns+` FROM signing_keys WHERE alg = ? `+sqlrow.KeyOrder+` LIMIT 1`, k.Alg))
	if err != nil {
		return nil, fmt.Errorf("sqlite: ensure %s key: %w", k.Alg, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: ensure %s key: %w", k.Alg, err)
	}
	return got, nil
}

// Keys returns every stored key, newest (by creation time) first.
func (db *DB) Keys(ctx context.Context) ([]jwtgate.Key, error) {
	rows, err := db.db.QueryContext(ctx, `SELECT `+sqlrow.KeyColumns+` FROM signing_keys `+sqlrow.KeyOrder)
	if err != nil {
		return nil, fmt.Errorf("sqlite: keys: %w", err)
	}
	defer rows.Close()
	var keys []jwtgate.Key
	for rows.Next() {
		k, err := sqlrow.ScanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: keys: %w", err)
		}
		keys = append(keys, *k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: keys: %w", err)
	}
	return keys, nil
}

// RotateKey inserts k and retires every unretired key at k.ActivatesAt, in
// one immediate transaction, unless a key was created after
// unlessCreatedAfter.
func (db *DB) RotateKey(ctx context.Context, k *jwtgate.Key, unlessCreatedAfter time.Time) (bool, error) {
	tx, err := db.w.BeginTx(ctx)
	if err != nil {
		return false, fmt.Errorf("sqlite: rotate key: %w", err)
	}
	defer tx.Rollback()
	var newer int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM signing_keys WHERE created_at > ?`, sqlrow.Millis(unlessCreatedAfter)).Scan(&newer); err != nil {
		return false, fmt.Errorf("sqlite: rotate key: %w", err)
	}
	if newer > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE signing_keys SET retires_at = ? WHERE retires_at IS NULL`, sqlrow.Millis(k.ActivatesAt)); err != nil {
		return false, fmt.Errorf("sqlite: rotate key: %w", err)
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO signing_keys (kid, alg, private_key, public_key, created_at, activates_at, retires_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`,
		k.ID, k.Alg, k.Private, k.Public, sqlrow.Millis(k.CreatedAt), sqlrow.Millis(k.ActivatesAt), sqlrow.NullMillis(k.RetiresAt))
	if isUniqueViolation(err) {
		return false, fmt.Errorf("sqlite: rotate key %s: %w", k.ID, jwtgate.ErrConflict)
	} else if err != nil {
		return false, fmt.Errorf("sqlite: rotate key: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlite: rotate key: %w", err)
	}
	return true, nil
}

// DeleteKeysRetiredBefore removes keys retired before t.
func (db *DB) DeleteKeysRetiredBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM signing_keys WHERE retires_at IS NOT NULL AND retires_at < ?`, sqlrow.Millis(t))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete retired keys: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// EnsureSecret stores value under name unless the name exists, and returns
// the stored value.
func (db *DB) EnsureSecret(ctx context.Context, name string, value []byte, at time.Time) ([]byte, error) {
	tx, err := db.w.BeginTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: ensure secret %s: %w", name, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO secrets (name, value, created_at) VALUES (?, ?, ?) ON CONFLICT (name) DO NOTHING`,
		name, value, sqlrow.Millis(at)); err != nil {
		return nil, fmt.Errorf("sqlite: ensure secret %s: %w", name, err)
	}
	var got []byte
	if err := tx.QueryRowContext(ctx, `SELECT value FROM secrets WHERE name = ?`, name).Scan(&got); err != nil {
		return nil, fmt.Errorf("sqlite: ensure secret %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: ensure secret %s: %w", name, err)
	}
	return got, nil
}

// AddKey inserts k unless a current (not retired) key of its algorithm
// exists.
func (db *DB) AddKey(ctx context.Context, k *jwtgate.Key) (bool, error) {
	res, err := db.w.ExecContext(ctx, `
		INSERT INTO signing_keys (kid, alg, private_key, public_key, created_at, activates_at, retires_at)
		SELECT ?, ?, ?, ?, ?, ?, ?
		WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE alg = ? AND retires_at IS NULL)`,
		k.ID, k.Alg, k.Private, k.Public, sqlrow.Millis(k.CreatedAt), sqlrow.Millis(k.ActivatesAt), sqlrow.NullMillis(k.RetiresAt), k.Alg)
	if isUniqueViolation(err) {
		return false, fmt.Errorf("sqlite: add %s key %s: %w", k.Alg, k.ID, jwtgate.ErrConflict)
	} else if err != nil {
		return false, fmt.Errorf("sqlite: add %s key: %w", k.Alg, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("sqlite: add %s key: %w", k.Alg, err)
	}
	return n == 1, nil
}
