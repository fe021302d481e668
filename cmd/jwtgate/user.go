package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
)

const userUsage = `Usage:
  jwtgate user add NAME [--role ROLE]... [--password-stdin]
  jwtgate user list [--json]
  jwtgate user passwd NAME [--password-stdin]
  jwtgate user disable NAME
  jwtgate user enable NAME
  jwtgate user delete NAME

Passwords are read from a prompt, or the first line of standard input with
--password-stdin; never from the command line.

Examples:
  jwtgate user add alice --role admin
  printf '%s\n' "$PW" | jwtgate user add bob --password-stdin
  jwtgate user list --json --db sqlite:/var/lib/jwtgate/jwtgate.db
`

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runUser(c cmdIO, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		io.WriteString(c.stdout, userUsage)
		return nil
	}
	sub := args[0]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	dbURL := dbFlag(fs)
	var roles stringList
	var pwStdin, asJSON *bool
	switch sub {
	case "add":
		fs.Var(&roles, "role", "give the user this role (repeatable)")
		pwStdin = fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	case "passwd":
		pwStdin = fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	case "list":
		asJSON = fs.Bool("json", false, "print JSON")
	case "disable", "enable", "delete":
	default:
		return usagef("unknown user command %q (run 'jwtgate user --help')", sub)
	}
	pos, err := parseArgs(fs, args[1:], c)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	want := 1
	if sub == "list" {
		want = 0
	}
	if len(pos) != want {
		if want == 0 {
			return usagef("user %s takes no arguments", sub)
		}
		return usagef("user %s needs exactly one NAME", sub)
	}
	store, err := openStore(c.ctx, *dbURL)
	if err != nil {
		return err
	}
	defer store.Close()
	svc, err := auth.New(c.ctx, store, nil, auth.Options{})
	if err != nil {
		return err
	}
	switch sub {
	case "list":
		return listUsers(c, store, *asJSON)
	case "add":
		pw, err := readPassword(c, *pwStdin, true)
		if err != nil {
			return err
		}
		u, err := svc.CreateUser(c.ctx, pos[0], pw, roles)
		if err != nil {
			return userErr(pos[0], err)
		}
		fmt.Fprintf(c.stdout, "created user %q (id %d)\n", u.Name, u.ID)
		return nil
	case "passwd":
		if _, err := store.UserByName(c.ctx, pos[0]); err != nil {
			return userErr(pos[0], err)
		}
		pw, err := readPassword(c, *pwStdin, true)
		if err != nil {
			return err
		}
		if err := svc.SetPassword(c.ctx, pos[0], pw); err != nil {
			return userErr(pos[0], err)
		}
		fmt.Fprintf(c.stdout, "password of %q changed\n", pos[0])
		return nil
	}
	switch sub {
	case "disable", "enable":
		// Disabling ends the user's sessions on every instance.
		err = svc.SetDisabled(c.ctx, pos[0], sub == "disable")
	case "delete":
		err = svc.DeleteUser(c.ctx, pos[0])
	}
	if err != nil {
		return userErr(pos[0], err)
	}
	fmt.Fprintf(c.stdout, "user %q %sd\n", pos[0], sub)
	return nil
}

// userErr turns store and validation errors into one-line messages.
func userErr(name string, err error) error {
	switch {
	case errors.Is(err, jwtgate.ErrNotFound):
		return fmt.Errorf("no user %q", name)
	case errors.Is(err, jwtgate.ErrConflict):
		return fmt.Errorf("user %q already exists", name)
	case errors.Is(err, jwtgate.ErrInvalid):
		return usagef("%s", strings.TrimPrefix(err.Error(), jwtgate.ErrInvalid.Error()+": "))
	}
	return err
}

type userJSON struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Roles     []string  `json:"roles"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
}

func listUsers(c cmdIO, store jwtgate.UserStore, asJSON bool) error {
	users, err := store.ListUsers(c.ctx)
	if err != nil {
		return err
	}
	if asJSON {
		out := make([]userJSON, 0, len(users))
		for _, u := range users {
			roles := u.Roles
			if roles == nil {
				roles = []string{}
			}
			out = append(out, userJSON{ID: u.ID, Name: u.Name, Roles: roles, Disabled: u.Disabled, CreatedAt: u.CreatedAt})
		}
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLES\tSTATUS\tCREATED")
	for _, u := range users {
		status := "active"
		if u.Disabled {
			status = "disabled"
		}
		// Names cannot hold control characters (ValidateName); quote ones with
		// spaces so columns stay readable.
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", u.ID, quoteIfOdd(u.Name), strings.Join(u.Roles, ","), status, u.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
}

func quoteIfOdd(s string) string {
	if strings.ContainsAny(s, " \t\"'") {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// readPassword reads a password from the first line of stdin, or prompts
// on the terminal (twice, to catch typos, when confirm).
func readPassword(c cmdIO, fromStdin, confirm bool) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(c.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password from stdin: %w", err)
		}
		pw := strings.TrimRight(line, "\r\n")
		if pw == "" {
			return "", usagef("no password on standard input")
		}
		return pw, nil
	}
	f, ok := c.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", usagef("no terminal to prompt for a password; use --password-stdin")
	}
	fmt.Fprint(c.stderr, "Password: ")
	pw, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(c.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	if confirm {
		fmt.Fprint(c.stderr, "Again: ")
		again, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.stderr)
		if err != nil {
			return "", fmt.Errorf("read password: %w", err)
		}
		if string(again) != string(pw) {
			return "", usagef("passwords do not match")
		}
	}
	return string(pw), nil
}
