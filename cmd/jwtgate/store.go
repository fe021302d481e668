package main

import (
	"context"
	"flag"
	"strings"

	"github.com/jwtgate/jwtgate/internal/sqlite"
)

// defaultDB is the embedded default: a SQLite file in the working directory.
const defaultDB = "sqlite:jwtgate.db"

func dbFlag(fs *flag.FlagSet) *string {
	return fs.String("db", defaultDB, "storage URL: sqlite:PATH")
}

// openStore opens (and migrates) the store named by a --db URL.
func openStore(ctx context.Context, url string) (*sqlite.DB, error) {
	switch {
	case strings.HasPrefix(url, "sqlite:"):
		path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//")
		if path == "" {
			return nil, configErr("invalid --db %q: empty SQLite path", url)
		}
		return sqlite.Open(ctx, path)
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		return nil, configErr("invalid --db: PostgreSQL is not supported by this build yet; use sqlite:PATH")
	}
	return nil, configErr("invalid --db %q: want sqlite:PATH", url)
}
