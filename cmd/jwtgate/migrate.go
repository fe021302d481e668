package main

import (
	"flag"
	"fmt"
)

// migrateFlags defines `jwtgate migrate`: open the store, which applies
// its migrations, and print the schema version.
func migrateFlags(fs *flag.FlagSet) func(cmdIO, []string) error {
	dbURL := dbFlag(fs)
	return func(c cmdIO, _ []string) error {
		store, err := openStore(c.ctx, *dbURL) // Open migrates
		if err != nil {
			return err
		}
		defer store.Close()
		v, err := store.MigrationVersion(c.ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "schema at version %d\n", v)
		return nil
	}
}
