package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	sqlite3 "modernc.org/sqlite/lib"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
	"github.com/jwtgate/jwtgate/internal/storetest"
)

// openTest opens a fresh database file in a temporary directory and closes
// it when the test ends.
func openTest(tb testing.TB) *DB {
	tb.Helper()
	db, err := Open(tb.Context(), filepath.Join(tb.TempDir(), "jwtgate.db"))
	if err != nil {
		tb.Fatalf("Open() = %v, want nil", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) jwtgate.Store {
		db, err := Open(t.Context(), filepath.Join(t.TempDir(), "jwtgate.db"))
		if err != nil {
			t.Fatalf("Open() = %v, want nil", err)
		}
		return db
	})
}

func TestMigrateIdempotent(t *testing.T) {
	ctx := t.Context()
	db := openTest(t) // Open has migrated once
	u := &jwtgate.User{Name: "kept", PasswordHash: "h"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser(kept) = %v, want nil", err)
	}
	for i := range 2 {
		if err := db.Migrate(ctx); err != nil {
			t.Fatalf("Migrate() #%d = %v, want nil", i+2, err)
		}
		v, err := db.MigrationVersion(ctx)
		if err != nil || v != latestMigration(t) {
			t.Fatalf("MigrationVersion() after Migrate #%d = %d, %v, want %d, nil", i+2, v, err, latestMigration(t))
		}
	}
	if _, err := db.UserByName(ctx, "kept"); err != nil {
		t.Errorf("UserByName(kept) after Migrate = %v, want nil", err)
	}
}

// TestPragmas checks the DSN settings reach every pooled connection, not
// only the first: it holds several connections at once so that each is a
// different one.
func TestPragmas(t *testing.T) {
	ctx := t.Context()
	db := openTest(t)
	tests := []struct {
		pragma string
		want   string
	}{
		{pragma: "journal_mode", want: "wal"},
		{pragma: "synchronous", want: "2"}, // FULL
		{pragma: "foreign_keys", want: "1"},
		{pragma: "busy_timeout", want: "10000"},
	}
	const n = 4
	conns := make([]*sql.Conn, n)
	for i := range conns {
		c, err := db.db.Conn(ctx)
		if err != nil {
			t.Fatalf("Conn() #%d = %v, want nil", i, err)
		}
		defer c.Close()
		conns[i] = c
	}
	for i, c := range conns {
		for _, tt := range tests {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+tt.pragma).Scan(&got); err != nil {
				t.Fatalf("conn %d: PRAGMA %s = %v, want nil", i, tt.pragma, err)
			}
			if got != tt.want {
				t.Errorf("conn %d: PRAGMA %s = %q, want %q", i, tt.pragma, got, tt.want)
			}
		}
	}
}

// TestImmediateTransactions checks that a transaction takes the write lock
// when it begins: while one is open, even before it has written, another
// connection's write is refused (busy_timeout set to 0 so it does not wait).
func TestImmediateTransactions(t *testing.T) {
	ctx := t.Context()
	db := openTest(t)
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatalf("BeginTx() = %v, want nil", err)
	}
	defer tx.Rollback()

	c, err := db.db.Conn(ctx)
	if err != nil {
		t.Fatalf("Conn() = %v, want nil", err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `PRAGMA busy_timeout = 0`); err != nil {
		t.Fatalf("PRAGMA busy_timeout = 0: %v", err)
	}
	defer c.ExecContext(context.WithoutCancel(ctx), `PRAGMA busy_timeout = 10000`)
	_, err = c.ExecContext(ctx, `INSERT INTO users (name, name_key, password_hash, created_at, updated_at)
		VALUES ('x', 'x', 'h', 0, 0)`)
	if code := errCode(err); code&0xff != sqlite3.SQLITE_BUSY {
		t.Errorf("INSERT during another's empty transaction = %v (code %d), want SQLITE_BUSY", err, code)
	}
}

func TestIntegrityCheck(t *testing.T) {
	ctx := t.Context()
	db := openTest(t)
	if err := db.CreateUser(ctx, &jwtgate.User{Name: "x", PasswordHash: "h"}); err != nil {
		t.Fatalf("CreateUser(x) = %v, want nil", err)
	}
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Errorf("IntegrityCheck() = %v, want nil", err)
	}
}

// TestReopen checks that what was acknowledged is in the file: close, open
// again, find it.
func TestReopen(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "jwtgate.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open(%s) = %v, want nil", path, err)
	}
	u := &jwtgate.User{Name: "persistent", PasswordHash: "h", Roles: []string{"admin"}}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser(persistent) = %v, want nil", err)
	}
	sess := &jwtgate.Session{ID: "s1", UserID: u.ID, ExpiresAt: time.UnixMilli(1e12)}
	if err := db.CreateSession(ctx, sess); err != nil {
		t.Fatalf("CreateSession(s1) = %v, want nil", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close() = %v, want nil", err)
	}

	db, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("Open(%s) again = %v, want nil", path, err)
	}
	defer db.Close()
	got, err := db.UserByName(ctx, "persistent")
	if err != nil {
		t.Fatalf("after reopening: UserByName(persistent) = %v, want nil", err)
	}
	if got.ID != u.ID || !got.HasRole("admin") {
		t.Errorf("after reopening: UserByName(persistent) = %+v, want id %d with role admin", got, u.ID)
	}
	if _, err := db.SessionByID(ctx, "s1"); err != nil {
		t.Errorf("after reopening: SessionByID(s1) = %v, want nil", err)
	}
	if v, err := db.MigrationVersion(ctx); err != nil || v != latestMigration(t) {
		t.Errorf("after reopening: MigrationVersion() = %d, %v, want %d, nil", v, err, latestMigration(t))
	}
}

// TestOpenPath checks that a path is taken literally, characters that mean
// something in a URI included, and that a failure names the path.
func TestOpenPath(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	for _, name := range []string{"odd?name#1 %41.db", "plain.db"} {
		path := filepath.Join(dir, name)
		db, err := Open(ctx, path)
		if err != nil {
			t.Errorf("Open(%q) = %v, want nil", path, err)
			continue
		}
		db.Close()
		if _, err := os.Stat(path); err != nil {
			t.Errorf("after Open(%q): %v, want the file there", path, err)
		}
	}

	bad := filepath.Join(dir, "missing-dir", "jwtgate.db")
	if db, err := Open(ctx, bad); err == nil {
		db.Close()
		t.Errorf("Open(%q) = nil, want an error", bad)
	} else if want := "sqlite: open " + bad + ": "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Open(%q) = %q, want it to start %q", bad, err, want)
	}
}

// TestConflictCode checks the error mapping rests on SQLite's extended
// result code, which needs the driver to report extended codes.
func TestConflictCode(t *testing.T) {
	ctx := t.Context()
	db := openTest(t)
	if err := db.CreateUser(ctx, &jwtgate.User{Name: "dup", PasswordHash: "h"}); err != nil {
		t.Fatalf("CreateUser(dup) = %v, want nil", err)
	}
	_, err := db.db.ExecContext(ctx, `INSERT INTO users (name, name_key, password_hash, created_at, updated_at)
		VALUES ('DUP', 'dup', 'h', 0, 0)`)
	if code := errCode(err); code != sqlite3.SQLITE_CONSTRAINT_UNIQUE {
		t.Errorf("duplicate name_key: error code %d (%v), want SQLITE_CONSTRAINT_UNIQUE (%d)", code, err, sqlite3.SQLITE_CONSTRAINT_UNIQUE)
	}
	if err := db.CreateUser(ctx, &jwtgate.User{Name: "Dup", PasswordHash: "h"}); !errors.Is(err, jwtgate.ErrConflict) {
		t.Errorf("CreateUser(Dup) = %v, want ErrConflict", err)
	}
}

func BenchmarkUserByName(b *testing.B) {
	ctx := b.Context()
	db := openTest(b)
	for i := range 1000 {
		u := &jwtgate.User{Name: "user" + strconv.Itoa(i), PasswordHash: "h", Roles: []string{"admin", "ops"}}
		if err := db.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := db.UserByName(ctx, "User500"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCreateSession(b *testing.B) {
	ctx := b.Context()
	db := openTest(b)
	u := &jwtgate.User{Name: "bench", PasswordHash: "h"}
	if err := db.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		s := &jwtgate.Session{ID: "s" + strconv.Itoa(i), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		if err := db.CreateSession(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}

// latestMigration is the number of the newest migration: the newest
// embedded file, or the Go migration sqlrow.NameKeyVersion.
func latestMigration(t *testing.T) int64 {
	t.Helper()
	entries, err := migrationFiles.ReadDir("migrations")
	if err != nil || len(entries) == 0 {
		t.Fatalf("reading embedded migrations: %v", err)
	}
	var v int64
	if _, err := fmt.Sscanf(entries[len(entries)-1].Name(), "%05d_", &v); err != nil {
		t.Fatalf("migration name %q: %v", entries[len(entries)-1].Name(), err)
	}
	return max(v, sqlrow.NameKeyVersion)
}

func TestNameKeyMigration(t *testing.T) {
	storetest.RunRekey(t, func(t *testing.T) storetest.Rekey {
		db := openTest(t)
		return storetest.Rekey{
			Store: db,
			DownTo: func(ctx context.Context, v int64) error {
				p, err := db.migrations()
				if err != nil {
					return err
				}
				_, err = p.DownTo(ctx, v)
				return err
			},
			Insert: func(ctx context.Context, name, key string) error {
				_, err := db.db.ExecContext(ctx, `INSERT INTO users (name, name_key, password_hash, created_at, updated_at)
					VALUES (?, ?, 'h', 0, 0)`, name, key)
				return err
			},
			Migrate: db.Migrate,
		}
	})
}
