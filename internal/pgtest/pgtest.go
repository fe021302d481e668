// Package pgtest gives tests a PostgreSQL schema of their own on the test
// server: $JGTEST_POSTGRES_URL (default: the local server, user postgres,
// database test). Tests skip when the server cannot be reached, unless
// $JGTEST_REQUIRE_POSTGRES=1 (CI sets it), when they fail.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the test server when $JGTEST_POSTGRES_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

var reach struct {
	once sync.Once
	url  string
	err  error
}

// ServerURL returns the test server's URL, or skips (or fails) tb.
func ServerURL(tb testing.TB) string {
	tb.Helper()
	reach.once.Do(func() {
		reach.url = os.Getenv("JGTEST_POSTGRES_URL")
		if reach.url == "" {
			reach.url = DefaultURL
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, reach.url)
		if err != nil {
			reach.err = fmt.Errorf("PostgreSQL not reachable (JGTEST_POSTGRES_URL or %s): %v", DefaultURL, err)
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

// FreshSchema creates an empty schema, dropped with everything in it when
// tb ends, and returns the server's URL with it as search_path.
func FreshSchema(tb testing.TB) string {
	tb.Helper()
	base := ServerURL(tb)
	var b [8]byte
	rand.Read(b[:])
	schema := "jg_test_" + hex.EncodeToString(b[:])
	exec(tb, base, `CREATE SCHEMA `+schema)
	tb.Cleanup(func() { exec(tb, base, `DROP SCHEMA `+schema+` CASCADE`) })
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("JGTEST_POSTGRES_URL must be a URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func exec(tb testing.TB, url, sql string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		tb.Fatalf("connecting to the test server: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}
