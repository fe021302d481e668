package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

const sessionsUsage = `Usage:
  jwtgate sessions list USER [--json]
  jwtgate sessions revoke USER

revoke ends every session of USER: their refresh tokens stop working at
once, and their access tokens are refused by every server and verify-using
service following the store's revocation feed within seconds.

Examples:
  jwtgate sessions list alice
  jwtgate sessions revoke alice --db sqlite:/var/lib/jwtgate/jwtgate.db
`

func runSessions(c cmdIO, args []string) error {
	if len(args) == 0 || isHelp(args[0]) {
		io.WriteString(c.stdout, sessionsUsage)
		return nil
	}
	sub := args[0]
	fs := flag.NewFlagSet("sessions "+sub, flag.ContinueOnError)
	dbURL := dbFlag(fs)
	var asJSON *bool
	switch sub {
	case "list":
		asJSON = fs.Bool("json", false, "print JSON")
	case "revoke":
	default:
		return usagef("unknown sessions command %q (run 'jwtgate sessions --help')", sub)
	}
	pos, err := parseArgs(fs, args[1:], c)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("sessions %s needs exactly one USER", sub)
	}
	store, err := openStore(c.ctx, *dbURL)
	if err != nil {
		return err
	}
	defer store.Close()
	// Without keys the service keeps its revocations for the longest access
	// lifetime a server may have (auth.MaxAccessTTL): the CLI need not be
	// told the servers' --access-ttl.
	svc, err := auth.New(c.ctx, store, nil, auth.Options{})
	if err != nil {
		return err
	}
	if sub == "revoke" {
		n, err := svc.RevokeUserSessions(c.ctx, pos[0])
		if err != nil {
			return userErr(pos[0], err)
		}
		fmt.Fprintf(c.stdout, "revoked %d session(s) of %q\n", n, pos[0])
		return nil
	}
	u, err := store.UserByName(c.ctx, pos[0])
	if err != nil {
		return userErr(pos[0], err)
	}
	list, err := svc.LiveSessions(c.ctx, u.ID)
	if err != nil {
		return err
	}
	type sessionJSON struct {
		ID         string    `json:"id"`
		CreatedAt  time.Time `json:"created_at"`
		LastUsedAt time.Time `json:"last_used_at"`
		ExpiresAt  time.Time `json:"expires_at"`
		IP         string    `json:"ip"`
		UserAgent  string    `json:"user_agent"`
	}
	out := make([]sessionJSON, 0, len(list))
	for _, s := range list {
		out = append(out, sessionJSON{s.ID, s.CreatedAt, s.LastUsedAt, s.ExpiresAt, s.IP, s.UserAgent})
	}
	if *asJSON {
		// printJSON writes bidi and zero-width characters as \uXXXX: a
		// User-Agent is whatever the client sent.
		return printJSON(c.stdout, out)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tCREATED\tLAST USED\tIP\tUSER AGENT")
	for _, s := range out {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.40q\n", s.ID, s.CreatedAt.Format(time.RFC3339), s.LastUsedAt.Format(time.RFC3339), s.IP, s.UserAgent)
	}
	return tw.Flush()
}
