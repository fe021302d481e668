package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/storetest"
)

// The tests need a PostgreSQL server. They use the database at
// $JGTEST_POSTGRES_URL (a URL; each test works in a schema of its own,
// created and dropped around it), and skip when it cannot be reached,
// unless $JGTEST_REQUIRE_POSTGRES=1 (as CI sets), when they fail.
const defaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// reach caches the answer to "is the server there?" for the whole run.
var reach struct {
	once sync.Once
	url  string
	err  error
}

// serverURL returns the URL of the test server, or skips (or fails) tb if
// the server cannot be reached.
func serverURL(tb testing.TB) string {
	tb.Helper()
	reach.once.Do(func() {
		reach.url = os.Getenv("JGTEST_POSTGRES_URL")
		if reach.url == "" {
			reach.url = defaultURL
		}
		cfg, err := pgx.ParseConfig(reach.url)
		if err != nil {
			reach.err = fmt.Errorf("JGTEST_POSTGRES_URL: %v", err)
			return
		}
		addr := net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			reach.err = fmt.Errorf("PostgreSQL not reachable at %s: %v", addr, err)
			return
		}
		conn.Close(ctx)
	})
	if reach.err != nil {
		if os.Getenv("JGTEST_REQUIRE_POSTGRES") == "1" {
			tb.Fatalf("%v (JGTEST_REQUIRE_POSTGRES=1)", reach.err)
		}
		tb.Skip(reach.err)
	}
	return reach.url
}

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

// freshSchema creates an empty schema, dropped with everything in it when
// tb ends, and returns the server's URL with that schema as search_path.
func freshSchema(tb testing.TB) string {
	tb.Helper()
	base := serverURL(tb)
	var b [8]byte
	rand.Read(b[:])
	schema := "jg_test_" + hex.EncodeToString(b[:])
	adminExec(tb, tb.Context(), `CREATE SCHEMA `+schema)
	tb.Cleanup(func() {
		// tb.Context() is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		adminExec(tb, ctx, `DROP SCHEMA `+schema+` CASCADE`)
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("JGTEST_POSTGRES_URL must be a URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

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

// latestMigration is the number of the newest embedded migration file.
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
	return v
}
