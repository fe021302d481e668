// Package sqlite implements jwtgate.Store on SQLite, in pure Go
// (modernc.org/sqlite), so the server builds with CGO_ENABLED=0 and runs as
// one static binary beside one database file.
//
// Each file holds one noun (user.go, session.go, key.go) with the SQL beside
// the method that runs it. The schema lives in migrations/*.sql, embedded and
// applied by goose when the database is opened.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/pressly/goose/v3"
	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
)

// DB is a jwtgate.Store backed by one SQLite file. It is safe for
// concurrent use: reads run in parallel (WAL), writes queue for the one
// write lock under busy_timeout.
type DB struct {
	db   *sql.DB
	w    *writer // every write goes through it
	path string
}

var _ jwtgate.Store = (*DB)(nil)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Open opens the SQLite database file at path, creating it if needed,
// checks that it answers, and brings its schema up to date (Migrate). path
// is a file name taken literally, not a URI or ":memory:": the WAL and the
// connection pool both need a real file.
//
// The file holds password hashes and, unless a key-encryption key seals
// them, the private signing keys: Open creates it readable by its owner
// only (0600; SQLite gives the -wal and -shm files the database file's
// mode), and refuses a database whose files other users may read or write.
func Open(ctx context.Context, path string) (*DB, error) {
	dsn, err := dataSourceName(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := ensurePrivate(path); err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	sqlDB, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	db := &DB{db: sqlDB, w: newWriter(sqlDB), path: path}
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	if err := db.Migrate(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	return db, nil
}

// ensurePrivate creates the database file with mode 0600 if it does not
// exist, and refuses (one line, naming the fix) when it or
// its -wal or -shm file is open to the group or to others.
func ensurePrivate(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return err
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return err
		}
		if perm := fi.Mode().Perm(); perm&0o077 != 0 {
			return fmt.Errorf("%s has mode %04o: other users may read it, and it holds password hashes and keys; run: chmod 600 %s",
				name, perm, name)
		}
	}
	return nil
}

// dataSourceName builds the driver DSN for path. Every setting is a DSN
// parameter rather than a statement run once after opening, because
// database/sql opens connections whenever its pool wants one: a PRAGMA run
// by hand would reach one connection and silently miss the rest.
func dataSourceName(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	q := url.Values{}
	// busy_timeout first, so that the PRAGMAs after it, which may need a
	// lock while another instance holds one, wait instead of failing.
	// 10s: a writer waits for the others rather than returning SQLITE_BUSY
	// to a user whose login happened to coincide with another.
	q.Add("_pragma", "busy_timeout(10000)")
	// WAL lets readers (token refreshes, user look-ups) run while one
	// writer commits, and makes a commit one append instead of two writes.
	q.Add("_pragma", "journal_mode(WAL)")
	// FULL syncs the WAL on every commit. In WAL mode NORMAL survives a
	// process crash but may lose the last commits on power loss; a session
	// revocation or password change that was acknowledged must not come
	// back from the dead, so we pay the fsync.
	q.Add("_pragma", "synchronous(FULL)")
	// SQLite leaves foreign keys off by default, per connection. Deleting a
	// user must cascade to its sessions, and a session must not point at a
	// user that does not exist.
	q.Add("_pragma", "foreign_keys(1)")
	// Transactions here exist to write. BEGIN IMMEDIATE takes the write lock
	// up front, where busy_timeout applies; a deferred transaction that reads
	// and then writes can instead fail with SQLITE_BUSY on the upgrade,
	// without waiting, whenever another writer committed in between.
	q.Set("_txlock", "immediate")

	// A "file:" URI, so that a path holding '?' is not cut short by the
	// driver's query parsing; SQLite decodes the %-escapes in the path.
	p := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(filepath.ToSlash(abs))
	if !strings.HasPrefix(p, "/") {
		p = "/" + p // a Windows drive letter: file:/C:/...
	}
	return "file:" + p + "?" + q.Encode(), nil
}

// migrations returns a goose provider over the embedded migrations and
// the one Go migration (sqlrow.NameKeyMigration). Go migrations registered
// globally with goose are ignored: the schema is exactly these.
func (db *DB) migrations() (*goose.Provider, error) {
	fsys, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectSQLite3, db.db, fsys, goose.WithDisableGlobalRegistry(true),
		goose.WithGoMigrations(sqlrow.NameKeyMigration(func(int) string { return "?" })))
}

// Migrate applies the embedded migrations not yet applied. Running it on an
// up-to-date database does nothing. Each migration runs in its own
// transaction.
func (db *DB) Migrate(ctx context.Context) error {
	p, err := db.migrations()
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// MigrationVersion returns the highest migration version applied to the
// database, 0 if none.
func (db *DB) MigrationVersion(ctx context.Context) (int64, error) {
	p, err := db.migrations()
	if err != nil {
		return 0, fmt.Errorf("sqlite: migration version: %w", err)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("sqlite: migration version: %w", err)
	}
	return v, nil
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.db.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close closes every connection. SQLite checkpoints the WAL into the main
// file when the last connection closes.
func (db *DB) Close() error {
	if err := db.db.Close(); err != nil {
		return fmt.Errorf("sqlite: close %s: %w", db.path, err)
	}
	return nil
}

// IntegrityCheck runs PRAGMA integrity_check, which reads the whole file,
// and returns an error listing the problems unless SQLite reports "ok".
func (db *DB) IntegrityCheck(ctx context.Context) error {
	rows, err := db.db.QueryContext(ctx, `PRAGMA integrity_check`)
	if err != nil {
		return fmt.Errorf("sqlite: integrity check: %w", err)
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return fmt.Errorf("sqlite: integrity check: %w", err)
		}
		problems = append(problems, s)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("sqlite: integrity check: %w", err)
	}
	if len(problems) == 1 && problems[0] == "ok" {
		return nil
	}
	return fmt.Errorf("sqlite: integrity check %s: %s", db.path, strings.Join(problems, "; "))
}

// boolInt maps a Go bool to the 0 or 1 an INTEGER column holds.
func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// errCode returns the extended SQLite result code carried by err, or 0. The
// code is stable across SQLite versions; the message text is not.
func errCode(err error) int {
	var e *msqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

func isUniqueViolation(err error) bool {
	c := errCode(err)
	return c == sqlite3.SQLITE_CONSTRAINT_UNIQUE || c == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
}

func isForeignKeyViolation(err error) bool {
	return errCode(err) == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}
