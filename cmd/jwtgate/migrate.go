package main

import (
	"errors"
	"flag"
	"fmt"
)

func runMigrate(c cmdIO, args []string) error {
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	dbURL := dbFlag(fs)
	pos, err := parseArgs(fs, args, c)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("migrate: unexpected argument %q", pos[0])
	}
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
