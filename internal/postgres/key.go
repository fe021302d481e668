package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
)

// EnsureKey inserts k unless a key with k.Alg exists, and returns the newest
// key of that algorithm: k if it was inserted, else the one already there.
// It returns an error wrapping jwtgate.ErrConflict if k.ID is taken by a key
// of another algorithm.
//
// "Unless one exists" is a read followed by a write, which READ COMMITTED
// does not make atomic: two instances starting at once would each see no
// key and insert their own, and nothing unique stops them (an algorithm has
// many keys over time). So EnsureKey and RotateKey serialize on an advisory
// lock standing for signing_keys, and read after taking it, with a fresh
// snapshot that sees what the previous holder committed. A lock rather than
// SERIALIZABLE with retries: both run at startup or once per rotation, so
// waiting costs nothing, and there is no retry loop to get right.
func (db *DB) EnsureKey(ctx context.Context, k *jwtgate.Key) (*jwtgate.Key, error) {
	var got *jwtgate.Key
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if err := lockTable(ctx, tx, "signing_keys"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			INSERT INTO signing_keys (kid, alg, private_key, public_key, created_at, activates_at, retires_at)
			SELECT $1, $2, $3, $4, $5, $6, $7
			WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE alg = $2)`,
			k.ID, k.Alg, k.Private, k.Public, sqlrow.Millis(k.CreatedAt), sqlrow.Millis(k.ActivatesAt), sqlrow.NullMillis(k.RetiresAt))
		if err != nil {
			return err
		}
		got, err = sqlrow.ScanKey(tx.QueryRow(ctx,
			`SELECT `+sqlrow.KeyColumns+` FROM signing_keys WHERE alg = $1 `+sqlrow.KeyOrder+` LIMIT 1`, k.Alg))
		return err
	})
	switch {
	case isUniqueViolation(err):
		return nil, fmt.Errorf("postgres: ensure %s key %s: %w", k.Alg, k.ID, jwtgate.ErrConflict)
	case isUnstorable(err):
		return nil, fmt.Errorf("postgres: ensure %q key %q: %w: kid or alg cannot be stored (invalid UTF-8, NUL or too long)", k.Alg, k.ID, jwtgate.ErrInvalid)
	case err != nil:
		return nil, fmt.Errorf("postgres: ensure %s key: %w", k.Alg, err)
	}
	return got, nil
}

// Keys returns every stored key, newest (by creation time) first.
func (db *DB) Keys(ctx context.Context) ([]jwtgate.Key, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+sqlrow.KeyColumns+` FROM signing_keys `+sqlrow.KeyOrder)
	if err != nil {
		return nil, fmt.Errorf("postgres: keys: %w", err)
	}
	keys, err := collect(rows, func(row pgx.CollectableRow) (jwtgate.Key, error) {
		k, err := sqlrow.ScanKey(row)
		if err != nil {
			return jwtgate.Key{}, err
		}
		return *k, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: keys: %w", err)
	}
	return keys, nil
}

// RotateKey inserts k and retires every unretired key at k.ActivatesAt, in
// one transaction, unless a key was created after unlessCreatedAfter; it
// reports whether k was inserted. Like EnsureKey, and for the same reason
// (the check is a read, the rotation a write), it holds the signing_keys
// advisory lock, so that of instances rotating at once on a schedule one
// makes a key and the others see it.
func (db *DB) RotateKey(ctx context.Context, k *jwtgate.Key, unlessCreatedAfter time.Time) (bool, error) {
	inserted := false
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if err := lockTable(ctx, tx, "signing_keys"); err != nil {
			return err
		}
		var newer bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM signing_keys WHERE created_at > $1)`,
			sqlrow.Millis(unlessCreatedAfter)).Scan(&newer); err != nil || newer {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE signing_keys SET retires_at = $1 WHERE retires_at IS NULL`, sqlrow.Millis(k.ActivatesAt)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `
			INSERT INTO signing_keys (kid, alg, private_key, public_key, created_at, activates_at, retires_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			k.ID, k.Alg, k.Private, k.Public, sqlrow.Millis(k.CreatedAt), sqlrow.Millis(k.ActivatesAt), sqlrow.NullMillis(k.RetiresAt)); err != nil {
			return err
		}
		inserted = true
		return nil
	})
	switch {
	case isUniqueViolation(err):
		return false, fmt.Errorf("postgres: rotate key %s: %w", k.ID, jwtgate.ErrConflict)
	case isUnstorable(err):
		return false, fmt.Errorf("postgres: rotate key %q: %w: kid or alg cannot be stored (invalid UTF-8, NUL or too long)", k.ID, jwtgate.ErrInvalid)
	case err != nil:
		return false, fmt.Errorf("postgres: rotate key: %w", err)
	}
	return inserted, nil
}

// DeleteKeysRetiredBefore removes keys retired before t and reports how
// many.
func (db *DB) DeleteKeysRetiredBefore(ctx context.Context, t time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM signing_keys WHERE retires_at IS NOT NULL AND retires_at < $1`, sqlrow.Millis(t))
	if err != nil {
		return 0, fmt.Errorf("postgres: delete retired keys: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// EnsureSecret stores value under name unless the name exists, and returns
// the stored value. It needs no lock: the primary key on name is the
// arbiter. An INSERT … ON CONFLICT DO NOTHING that meets another
// transaction's uncommitted row of the same name waits for that
// transaction, then does nothing if it committed (or inserts, if it rolled
// back); the SELECT after it, a new statement under READ COMMITTED, takes a
// new snapshot that sees the winner's row. (One statement could not do
// both: its snapshot predates the wait.)
func (db *DB) EnsureSecret(ctx context.Context, name string, value []byte, at time.Time) ([]byte, error) {
	var got []byte
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING`,
			name, value, sqlrow.Millis(at)); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT value FROM secrets WHERE name = $1`, name).Scan(&got)
	})
	if isUnstorable(err) {
		return nil, fmt.Errorf("postgres: ensure secret %q: %w: name cannot be stored (invalid UTF-8, NUL or too long)", name, jwtgate.ErrInvalid)
	} else if err != nil {
		return nil, fmt.Errorf("postgres: ensure secret %s: %w", name, err)
	}
	return got, nil
}

// AddKey inserts k unless a current (not retired) key of its algorithm
// exists. The table lock makes the check and the insert one step for
// instances racing.
func (db *DB) AddKey(ctx context.Context, k *jwtgate.Key) (bool, error) {
	var added bool
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if err := lockTable(ctx, tx, "signing_keys"); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO signing_keys (kid, alg, private_key, public_key, created_at, activates_at, retires_at)
			SELECT $1, $2, $3, $4, $5, $6, $7
			WHERE NOT EXISTS (SELECT 1 FROM signing_keys WHERE alg = $2 AND retires_at IS NULL)`,
			k.ID, k.Alg, k.Private, k.Public, sqlrow.Millis(k.CreatedAt), sqlrow.Millis(k.ActivatesAt), sqlrow.NullMillis(k.RetiresAt))
		added = err == nil && tag.RowsAffected() == 1
		return err
	})
	switch {
	case isUniqueViolation(err):
		return false, fmt.Errorf("postgres: add %s key %s: %w", k.Alg, k.ID, jwtgate.ErrConflict)
	case isUnstorable(err):
		return false, fmt.Errorf("postgres: add %q key %q: %w: kid or alg cannot be stored", k.Alg, k.ID, jwtgate.ErrInvalid)
	case err != nil:
		return false, fmt.Errorf("postgres: add %s key: %w", k.Alg, err)
	}
	return added, nil
}
