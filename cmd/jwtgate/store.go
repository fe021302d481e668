package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/postgres"
	"github.com/jwtgate/jwtgate/internal/sqlite"
)

// defaultDB is the embedded default: a SQLite file in the working directory.
const defaultDB = "sqlite:jwtgate.db"

func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", defaultDB, "storage URL: sqlite:PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?search_path=SCHEMA]")
}

// store is what the commands need from storage: the server's store, and
// the schema version for `jwtgate migrate`. Both sqlite.DB and postgres.DB
// are one.
type store interface {
	jwtgate.Store
	MigrationVersion(ctx context.Context) (int64, error)
}

// openStore opens (and migrates) the store named by a --db URL. Its errors
// are one line and never hold the URL's password. A URL that is wrong (it
// does not parse, or PostgreSQL refuses its user, password, database or
// schema) is a configuration error; a server that cannot be reached is not:
// it may be starting, and a supervisor may retry.
func openStore(ctx context.Context, url string) (store, error) {
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//")
		if path == "" {
			return nil, configErr("invalid --db %q: empty SQLite path", url)
		}
		db, err := sqlite.Open(ctx, path)
		if err != nil {
			return nil, err // not db: a nil *sqlite.DB in a store would not be nil
		}
		return db, nil
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		db, err := postgres.Open(ctx, url)
		if errors.Is(err, jwtgate.ErrInvalid) {
			return nil, configErr("invalid --db: %v", err)
		} else if err != nil {
			return nil, fmt.Errorf("--db: %w", err)
		}
		return db, nil
	}
	// Only the scheme is quoted: what follows it may hold a password.
	if scheme, _, ok := strings.Cut(url, ":"); ok {
		return nil, configErr("invalid --db: unknown scheme %q; want sqlite:PATH or postgres://…", scheme)
	}
	return nil, configErr("invalid --db %q: want sqlite:PATH or postgres://…", url)
}
