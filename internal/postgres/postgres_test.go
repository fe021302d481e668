package postgres

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/pgtest"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
	"github.com/jwtgate/jwtgate/internal/storetest"
)

// The tests need a PostgreSQL server: see package pgtest (they skip when it
// cannot be reached, unless $JGTEST_REQUIRE_POSTGRES=1, as CI sets).
func serverURL(tb testing.TB) string { return pgtest.ServerURL(tb) }

// adminExec runs statements on the test server outside any test schema.
func adminExec(tb testing.TB, ctx context.Context, sql ...string) {
	tb.Helper()
	conn, err := pgx.Connect(ctx, serverURL(tb))
	if err != nil {
		tb.Fatalf("connecting to the test server: %v", err)
	}
	defer conn.Close(ctx)
	for _, q := range sql {
		if _, err := conn.Exec(ctx, q); err != nil {
			tb.Fatalf("%s: %v", q, err)
		}
	}
}

// freshSchema creates an empty schema, dropped when tb ends, and returns
// the server's URL with it as search_path.
func freshSchema(tb testing.TB) string { return pgtest.FreshSchema(tb) }

// openTest opens a store in a fresh schema and closes it when tb ends.
func openTest(tb testing.TB) *DB {
	tb.Helper()
	db, err := Open(tb.Context(), freshSchema(tb))
	if err != nil {
		tb.Fatalf("Open() = %v, want nil", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	serverURL(t)
	storetest.Run(t, func(t *testing.T) jwtgate.Store {
		db, err := Open(t.Context(), freshSchema(t))
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
		if v, err := db.MigrationVersion(ctx); err != nil || v != latestMigration(t) {
			t.Fatalf("MigrationVersion() after Migrate #%d = %d, %v, want %d, nil", i+2, v, err, latestMigration(t))
		}
	}
	if _, err := db.UserByName(ctx, "kept"); err != nil {
		t.Errorf("UserByName(kept) after Migrate = %v, want nil", err)
	}
}

// TestMigrateConcurrent is several instances starting at once on one
// fresh schema: all open, and each migration was applied exactly once.
func TestMigrateConcurrent(t *testing.T) {
	ctx := t.Context()
	dbURL := freshSchema(t)
	const n = 4
	dbs := make([]*DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			dbs[i], errs[i] = Open(ctx, dbURL)
		})
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Errorf("Open() #%d of %d at once = %v, want nil", i, n, errs[i])
			continue
		}
		defer dbs[i].Close()
		if v, err := dbs[i].MigrationVersion(ctx); err != nil || v != latestMigration(t) {
			t.Errorf("Open() #%d: MigrationVersion() = %d, %v, want %d, nil", i, v, err, latestMigration(t))
		}
	}
	if t.Failed() {
		return
	}
	var twice int
	if err := dbs[0].pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT version_id FROM goose_db_version
		GROUP BY version_id HAVING count(*) > 1) AS t`).Scan(&twice); err != nil || twice != 0 {
		t.Errorf("migrations applied more than once: %d, %v; want 0", twice, err)
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
				return db.migrate(ctx, func(p *goose.Provider) error {
					_, err := p.DownTo(ctx, v)
					return err
				})
			},
			Insert: func(ctx context.Context, name, key string) error {
				_, err := db.pool.Exec(ctx, `INSERT INTO users (name, name_key, password_hash, created_at, updated_at)
					VALUES ($1, $2, 'h', 0, 0)`, name, key)
				return err
			},
			Migrate: db.Migrate,
		}
	})
}
