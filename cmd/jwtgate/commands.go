package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// command is one jwtgate command. The table in commands dispatches every
// command and prints `jwtgate help` and each command's --help from it, so
// adding a command is adding an entry; the parsing, the help and the
// argument count are done once, here.
type command struct {
	name    string // the words after jwtgate: "user add"
	usage   string // the synopsis after the name: "NAME [--role ROLE]..."
	summary string // one line for `jwtgate help`
	help    string // more for `jwtgate NAME --help`: paragraphs and examples
	args    string // the positional arguments, for `jwtgate help` and errors: "NAME"; "" for none
	nargs   int    // how many positional arguments it takes exactly, or anyArgs

	// flags defines the command's flags on fs and returns the function
	// that runs it on the positional arguments, once they are parsed
	// (flags may come before or after them) and the environment applied.
	flags func(fs *flag.FlagSet) func(c cmdIO, args []string) error
	// run, instead of flags, gets the arguments as given: for commands that
	// parse their own (serve, keys, sessions) or none (version).
	run func(c cmdIO, args []string) error
}

// anyArgs is command.nargs for a command that checks its arguments itself.
const anyArgs = -1

// group reports whether c only gathers subcommands ("user", "token").
func (c *command) group() bool { return c.flags == nil && c.run == nil }

// commands is every jwtgate command, in the order `jwtgate help` lists them.
func commands() []*command {
	return []*command{
		{name: "serve", usage: "[flags]", summary: "run the server (the default command)", run: runServe},
		{name: "user", help: userHelp},
		{name: "user add", usage: "NAME [--role ROLE]... [--password-stdin]", args: "NAME", nargs: 1,
			summary: "create a user (password from a prompt or --password-stdin)", flags: userAddFlags},
		{name: "user list", usage: "[--json]", summary: "list users", flags: userListFlags},
		{name: "user invite", usage: "EMAIL --issuer URL [--role ROLE]... [--ttl 72h] [--link [--no-email]]", args: "EMAIL", nargs: 1,
			summary: "invite someone to sign up (the server emails the link; --link prints it)", flags: userInviteFlags},
		{name: "user passwd", usage: "NAME [--password-stdin]", args: "NAME", nargs: 1,
			summary: "set a user's password", flags: userPasswdFlags},
		{name: "user disable", usage: "NAME", args: "NAME", nargs: 1,
			summary: "disable a user and end their sessions everywhere", flags: userStateFlags("disable")},
		{name: "user enable", usage: "NAME", args: "NAME", nargs: 1, summary: "enable a disabled user", flags: userStateFlags("enable")},
		{name: "user delete", usage: "NAME", args: "NAME", nargs: 1,
			summary: "delete a user and their sessions", flags: userStateFlags("delete")},
		{name: "user reset-mfa", usage: "NAME", args: "NAME", nargs: 1,
			summary: "remove a user's second factors (TOTP, recovery codes, passkeys) and end their sessions", flags: userStateFlags("reset-mfa")},
		{name: "client", help: clientHelp},
		{name: "client add", usage: "NAME --redirect-uri URI... [--post-logout-redirect-uri URI]... [--public] [--trusted] [--scope SCOPE]... [--id-token-alg ALG] [--json]",
			args: "NAME", nargs: 1, summary: "register an OpenID Connect client (prints its secret once)", flags: clientAddFlags},
		{name: "client list", usage: "[--json]", summary: "list OpenID Connect clients", flags: clientListFlags},
		{name: "client show", usage: "CLIENT [--json]", args: "CLIENT", nargs: 1, summary: "show a client (by client_id or name)", flags: clientShowFlags},
		{name: "client delete", usage: "CLIENT", args: "CLIENT", nargs: 1, summary: "delete a client", flags: clientDeleteFlags},
		{name: "client rotate-secret", usage: "CLIENT [--json]", args: "CLIENT", nargs: 1,
			summary: "give a confidential client a new secret (printed once; the old one stops working)", flags: clientRotateFlags},
		{name: "keys", usage: "list|rotate", args: "list|rotate", summary: "signing keys (rotation publishes first, signs later)", run: runKeys},
		{name: "sessions", usage: "list|revoke USER", args: "list|revoke USER",
			summary: "a user's sessions; revoke ends them everywhere", run: runSessions},
		{name: "audit", usage: "[--user NAME] [--type TYPE] [--limit N] [--json]", summary: "recent audit events",
			help: auditHelp, flags: auditFlags},
		{name: "token"},
		{name: "token inspect", usage: "TOKEN|- [--issuer ISS] [--audience AUD] [--json]", args: "TOKEN|-", nargs: anyArgs,
			summary: "decode and verify a token; exit 0 valid, 1 invalid or revoked", help: tokenHelp, flags: tokenInspectFlags},
		{name: "bench", usage: "[--db URL] [--duration 2s] [--target 100ms]",
			summary: "measure hashing, logins, verifications and refreshes here", help: benchHelp, flags: benchFlags},
		{name: "migrate", usage: "[--db URL]", summary: "apply database migrations and print the schema version", flags: migrateFlags},
		{name: "version", summary: "print the version", run: runVersion},
	}
}

// lookup returns the command named name, or nil.
func lookup(cmds []*command, name string) *command {
	for _, c := range cmds {
		if c.name == name {
			return c
		}
	}
	return nil
}

// subcommands returns the commands under group g ("user add" under "user").
func subcommands(cmds []*command, g *command) []*command {
	var subs []*command
	for _, c := range cmds {
		if strings.HasPrefix(c.name, g.name+" ") {
			subs = append(subs, c)
		}
	}
	return subs
}

// dispatch runs the command args name (args[0], or args[0] and args[1] for
// a subcommand) with the rest of args.
func dispatch(c cmdIO, name string, args []string) error {
	cmds := commands()
	cmd := lookup(cmds, name)
	if cmd == nil || strings.Contains(name, " ") {
		return usagef("unknown command %q (run 'jwtgate help')", name)
	}
	if cmd.group() {
		subs := subcommands(cmds, cmd)
		if len(args) == 0 || isHelp(args[0]) {
			if len(subs) == 1 { // one subcommand: its own help says it all
				return subs[0].printHelp(c.stdout)
			}
			return cmd.printGroupHelp(c.stdout, subs)
		}
		sub := lookup(subs, name+" "+args[0])
		if sub == nil {
			return usagef("unknown %s command %q (run 'jwtgate %s --help')", name, args[0], name)
		}
		cmd, args = sub, args[1:]
	}
	if cmd.run != nil {
		return cmd.run(c, args)
	}
	return cmd.exec(c, args)
}

// exec parses args against cmd's flags, checks the positional arguments
// and runs it.
func (cmd *command) exec(c cmdIO, args []string) error {
	if cmd.nargs == 0 && len(args) > 0 && isHelp(args[0]) {
		return cmd.printHelp(c.stdout)
	}
	fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
	run := cmd.flags(fs)
	quiet := c
	quiet.stdout = io.Discard // parseArgs's own help; the table prints a fuller one
	pos, err := parseArgs(fs, args, quiet)
	if errors.Is(err, flag.ErrHelp) {
		return cmd.printHelp(c.stdout)
	}
	if err != nil {
		return err
	}
	switch {
	case cmd.nargs == anyArgs || len(pos) == cmd.nargs:
	case cmd.nargs == 0:
		return usagef("%s takes no arguments (unexpected %q)", cmd.name, pos[0])
	default:
		return usagef("%s needs exactly one %s", cmd.name, cmd.args)
	}
	return run(c, pos)
}

// printHelp prints `jwtgate NAME --help`: the synopsis, the help text (or
// the summary, when there is none) and the flags with their defaults.
func (cmd *command) printHelp(w io.Writer) error {
	fmt.Fprintf(w, "Usage:\n  %s\n\n", cmd.synopsis())
	if cmd.help != "" {
		fmt.Fprint(w, cmd.help)
	} else {
		fmt.Fprintf(w, "%s.\n", upperFirst(cmd.summary))
	}
	if cmd.flags != nil {
		fs := flag.NewFlagSet(cmd.name, flag.ContinueOnError)
		cmd.flags(fs)
		fmt.Fprint(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	return nil
}

// printGroupHelp prints `jwtgate user --help`: every subcommand's synopsis,
// then the group's help text.
func (cmd *command) printGroupHelp(w io.Writer, subs []*command) error {
	fmt.Fprint(w, "Usage:\n")
	for _, s := range subs {
		fmt.Fprintf(w, "  %s\n", s.synopsis())
	}
	if cmd.help != "" {
		fmt.Fprintf(w, "\n%s", cmd.help)
	}
	return nil
}

func (cmd *command) synopsis() string {
	return strings.TrimSpace("jwtgate " + cmd.name + " " + cmd.usage)
}

// printTopHelp prints `jwtgate help`: one line per command.
func printTopHelp(w io.Writer) error {
	fmt.Fprint(w, "jwtgate: a self-hosted JWT authentication server.\n\nUsage:\n")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, c := range commands() {
		if c.group() {
			continue
		}
		line := strings.TrimSpace("jwtgate " + c.name + " " + c.args)
		if c.name == "serve" {
			line = "jwtgate [serve] [flags]"
		}
		fmt.Fprintf(tw, "  %s\t%s\n", line, c.summary)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprint(w, topHelpFooter)
	return nil
}

const topHelpFooter = `
Every flag has an environment twin: --db is JWTGATE_DB, --access-ttl is
JWTGATE_ACCESS_TTL. A .env file in the working directory is read too.
Run 'jwtgate COMMAND --help' for a command's flags.
`

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// runVersion is `jwtgate version`. It reads no settings, so it works
// whatever the environment holds.
func runVersion(c cmdIO, args []string) error {
	if len(args) > 0 && isHelp(args[0]) {
		return lookup(commands(), "version").printHelp(c.stdout)
	}
	fmt.Fprintln(c.stdout, "jwtgate", version())
	return nil
}
