package main

import (
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/server"
)

// auditHelp is the rest of `jwtgate audit --help`.
const auditHelp = `Lists recent audit events, newest first: logins and failures, throttling,
logouts, refresh-token reuse, password changes, session revocations, user
changes and key rotations, each with user, client IP and user agent. No
event holds a password or token.

Examples:
  jwtgate audit --limit 20
  jwtgate audit --type refresh.reused --json
`

// auditFlags defines `jwtgate audit`.
func auditFlags(fs *flag.FlagSet) func(cmdIO, []string) error {
	dbURL := dbFlag(fs)
	user := fs.String("user", "", "only events about this user")
	typ := fs.String("type", "", "only events of this type (e.g. login.failed)")
	limit := fs.Int("limit", 50, "at most this many events (1 to 1000)")
	asJSON := fs.Bool("json", false, "print JSON")
	return func(c cmdIO, _ []string) error {
		return audit(c, *dbURL, *user, *typ, *limit, *asJSON)
	}
}

func audit(c cmdIO, dbURL, user, typ string, limit int, asJSON bool) error {
	if limit < 1 || limit > 1000 {
		return usagef("invalid --limit %d: want 1 to 1000", limit)
	}
	store, err := openStore(c.ctx, dbURL)
	if err != nil {
		return err
	}
	defer store.Close()
	f := jwtgate.AuditFilter{Limit: limit, Type: typ}
	if user != "" {
		u, err := store.UserByName(c.ctx, user)
		if err != nil {
			return userErr(user, err)
		}
		f.UserID = u.ID
	}
	events, err := store.Audit(c.ctx, f)
	if err != nil {
		return err
	}
	if asJSON {
		out := make([]any, 0, len(events))
		for _, e := range events {
			out = append(out, server.AuditJSON(e))
		}
		return printJSON(c.stdout, out)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tEVENT\tUSER\tIP\tDETAIL")
	for _, e := range events {
		who := "-"
		if e.UserID != 0 {
			who = fmt.Sprintf("%s (%d)", displayName(e.Name), e.UserID)
		}
		if e.ActorID != 0 {
			who += fmt.Sprintf(" by %d", e.ActorID)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.At.Format(time.RFC3339), displayText(e.Type), who, displayText(e.IP), displayText(e.Detail))
	}
	return tw.Flush()
}
