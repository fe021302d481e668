// Package postgres implements jwtgate.Store on PostgreSQL, through pgx's
// native interface and a connection pool, so that several jwtgate
// instances share users, sessions, keys and revocations.
//
// It mirrors internal/sqlite file for file (user.go, session.go, key.go,
// revocation.go, audit.go), with the SQL beside the method that runs it and
// the schema in migrations/*.sql, embedded and applied by goose when the
// database is opened. Both stores meet the same contract,
// internal/storetest; where PostgreSQL needs more than SQLite's single
// writer to keep it (concurrent first users, keys, the feed's order), the
// method's comment says how.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"hash/fnv"
	"io/fs"
	"net"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
)

// DB is a jwtgate.Store backed by a PostgreSQL database (the schema first
// on the connection's search_path). It is safe for concurrent use, and
// several processes may share one database.
type DB struct {
	pool   *pgxpool.Pool
	conn   *pgx.ConnConfig // for the migrations' own database/sql handle
	target string          // user@host:port/database, for messages; never the password
}

var _ jwtgate.Store = (*DB)(nil)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Open connects to the database at url (postgres://USER[:PASSWORD]@HOST[:PORT]/DB?PARAMS,
// or anything else pgx accepts, such as search_path=SCHEMA or
// pool_max_conns=N), checks that it answers, and brings its schema up to
// date (Migrate). Instances opening one database at once are safe: the
// migrations run under a lock.
//
// The returned error never contains the URL's password. It wraps
// jwtgate.ErrInvalid when the URL is at fault, so that retrying cannot
// help: it does not parse, or the server refused its user, password,
// database or schema.
func Open(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, openError(url, "", err)
	}
	db := &DB{conn: cfg.ConnConfig.Copy(), target: describe(cfg.ConnConfig)}
	// The pool connects lazily; Ping makes the first connection.
	db.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, openError(url, db.target, err, cfg.ConnConfig.Password)
	}
	if err := db.pool.Ping(ctx); err != nil {
		db.pool.Close()
		return nil, openError(url, db.target, err, cfg.ConnConfig.Password)
	}
	if err := db.Migrate(ctx); err != nil {
		db.pool.Close()
		return nil, openError(url, db.target, err, cfg.ConnConfig.Password)
	}
	return db, nil
}

// describe names the database cfg connects to, without the password.
func describe(cfg *pgx.ConnConfig) string {
	return cfg.User + "@" + net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))) + "/" + cfg.Database
}

// migrate runs f with a goose provider over the embedded migrations. Go
// migrations registered globally with goose are ignored: the schema is
// exactly the files in migrations/.
//
// goose needs a *sql.DB. It gets one of its own, on pgx's database/sql
// adapter, closed when f returns, rather than one borrowing the pool's
// connections: the migration lock is a session lock, and closing the
// connection that holds it is what guarantees it is released, whatever
// happens to the unlock.
func (db *DB) migrate(ctx context.Context, f func(*goose.Provider) error) error {
	// The lock is per schema, the unit a migration changes: instances
	// sharing a schema wait for each other, jwtgates in other schemas of the
	// same database (and other goose users, with goose's default key) do not.
	var schema *string
	if err := db.pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return err
	}
	if schema == nil {
		// As PostgreSQL would put it (CREATE TABLE fails with this code),
		// so that Open reports the URL at fault.
		return &pgconn.PgError{Code: codeInvalidSchemaName, Severity: "ERROR",
			Message: "no schema on the search_path exists to hold jwtgate's tables"}
	}
	key := fnv.New64a()
	key.Write([]byte("jwtgate migrate " + *schema))
	// Polled every second for up to 5 minutes (goose's default is every 5s):
	// migrations take well under a second, and instances starting together
	// should not all wait 5s for the first.
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(int64(key.Sum64())), lock.WithLockTimeout(1, 300))
	if err != nil {
		return err
	}
	sqlDB := stdlib.OpenDB(*db.conn.Copy())
	defer sqlDB.Close()
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, fsys,
		goose.WithDisableGlobalRegistry(true), goose.WithSessionLocker(locker),
		goose.WithGoMigrations(sqlrow.NameKeyMigration(func(n int) string { return "$" + strconv.Itoa(n) })))
	if err != nil {
		return err
	}
	return f(p)
}

// Migrate applies the embedded migrations not yet applied, under a
// per-schema advisory lock so that instances starting at once apply each
// exactly once. Running it on an up-to-date database does nothing. Each
// migration runs in its own transaction.
func (db *DB) Migrate(ctx context.Context) error {
	err := db.migrate(ctx, func(p *goose.Provider) error {
		_, err := p.Up(ctx)
		return err
	})
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// MigrationVersion returns the highest migration version applied to the
// database, 0 if none.
func (db *DB) MigrationVersion(ctx context.Context) (int64, error) {
	var v int64
	err := db.migrate(ctx, func(p *goose.Provider) error {
		var err error
		v, err = p.GetDBVersion(ctx)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgres: migration version: %w", err)
	}
	return v, nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close closes every connection, waiting for those in use to be returned.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}

// SQLSTATE codes the store acts on. The code is PostgreSQL's stable
// interface for errors; the message text is translated and reworded
// between versions.
const (
	codeUniqueViolation     = "23505"
	codeForeignKeyViolation = "23503"
	codeBadCharacter        = "22021" // character_not_in_repertoire: invalid UTF-8 or NUL in text
	codeTooBig              = "54000" // program_limit_exceeded: here, a key too long for its index
	codeInvalidSchemaName   = "3F000"
)

// errCode returns the SQLSTATE carried by err, or "".
func errCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func isUniqueViolation(err error) bool { return errCode(err) == codeUniqueViolation }

func isForeignKeyViolation(err error) bool { return errCode(err) == codeForeignKeyViolation }

// isUnstorable reports whether err is PostgreSQL refusing a value SQLite
// would have stored: text that is not valid UTF-8 or holds NUL, or a key
// longer than a B-tree entry holds (about 2700 bytes; a user name is at
// most 64 characters, but the store does not rely on its callers). That is
// invalid input, not a server failure.
func isUnstorable(err error) bool {
	c := errCode(err)
	return c == codeBadCharacter || c == codeTooBig
}

// storable reports whether s can be stored in, and so can equal a value
// of, a text column. Look-ups by a key that is not storable find nothing
// without asking the server, which would refuse the parameter with an
// error (and the HTTP layer would turn it into a 500).
func storable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// clean makes a free-text field (an IP, a user agent, an audit detail)
// storable: invalid UTF-8 and NUL become U+FFFD. These fields are
// informational, come straight from request headers, and are shown as JSON,
// where invalid UTF-8 becomes U+FFFD anyway; refusing a login over its
// User-Agent header would be absurd.
func clean(s string) string {
	if storable(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// Advisory lock keys. The few operations whose atomicity SQLite gets from
// its single writer (check-then-insert of the first user and of keys, the
// order of feed entries) take a transaction-scoped advisory lock standing
// for the table they guard: the two-int form pg_advisory_xact_lock(class,
// oid), with a class of our own and the table's oid, resolved through the
// search_path, so that jwtgates in different schemas of one database do
// not block each other. The lock is released when the transaction ends,
// after its rows become visible to others.
const lockClass = 0x6a776774 // "jwgt"

// lockTable takes the advisory lock standing for table, waiting for
// whichever transaction holds it to end.
func lockTable(ctx context.Context, tx pgx.Tx, table string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, $2::text::regclass::oid::int)`, lockClass, table)
	return err
}

// collect reads every row with fn, like pgx.CollectRows, but returns nil,
// not an empty slice, when there are none, as the SQLite store does (a nil
// slice is JSON null, an empty one []).
func collect[T any](rows pgx.Rows, fn pgx.RowToFunc[T]) ([]T, error) {
	return pgx.AppendRows([]T(nil), rows, fn)
}
