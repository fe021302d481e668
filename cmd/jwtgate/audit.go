package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/server"
)

const auditUsage = `Usage of jwtgate audit:
  jwtgate audit [--user NAME] [--type TYPE] [--limit N] [--json]

Lists recent audit events, newest first: logins and failures, throttling,
logouts, refresh-token reuse, password changes, session revocations, user
changes and key rotations, each with user, client IP and user agent. No
event holds a password or token.

Examples:
  jwtgate audit --limit 20
  jwtgate audit --type refresh.reused --json
`

func runAudit(c cmdIO, args []string) error {
	fs := flag.NewFlagSet("audit", flag.ContinueOnError)
	dbURL := dbFlag(fs)
	user := fs.String("user", "", "only events about this user")
	typ := fs.String("type", "", "only events of this type (e.g. login.failed)")
	limit := fs.Int("limit", 50, "at most this many events (1 to 1000)")
	asJSON := fs.Bool("json", false, "print JSON")
	if len(args) > 0 && isHelp(args[0]) {
		fmt.Fprint(c.stdout, auditUsage)
		printFlagUsage(fs, c.stdout)
		return nil
	}
	pos, err := parseArgs(fs, args, c)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("audit takes no arguments (use --user NAME)")
	}
	if *limit < 1 || *limit > 1000 {
		return usagef("invalid --limit %d: want 1 to 1000", *limit)
	}
	store, err := openStore(c.ctx, *dbURL)
	if err != nil {
		return err
	}
	defer store.Close()
	f := jwtgate.AuditFilter{Limit: *limit, Type: *typ}
	if *user != "" {
		u, err := store.UserByName(c.ctx, *user)
		if err != nil {
			return userErr(*user, err)
		}
		f.UserID = u.ID
	}
	events, err := store.Audit(c.ctx, f)
	if err != nil {
		return err
	}
	if *asJSON {
		out := make([]any, 0, len(events))
		for _, e := range events {
			out = append(out, server.AuditJSON(e))
		}
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tEVENT\tUSER\tIP\tDETAIL")
	for _, e := range events {
		who := "-"
		if e.UserID != 0 {
			who = fmt.Sprintf("%s (%d)", quoteIfOdd(e.Name), e.UserID)
		}
		if e.ActorID != 0 {
			who += fmt.Sprintf(" by %d", e.ActorID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.At.Format(time.RFC3339), e.Type, who, e.IP, e.Detail)
	}
	return tw.Flush()
}
