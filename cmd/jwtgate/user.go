package main

import (
	"bufio"
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

// userHelp follows the user commands' synopses in `jwtgate user --help`.
const userHelp = `Passwords are read from a prompt, or the first line of standard input with
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

// userService opens the store named by --db and the auth service on it;
// the caller closes the store.
func userService(c cmdIO, dbURL string) (store, *auth.Service, error) {
	st, err := openStore(c.ctx, dbURL)
	if err != nil {
		return nil, nil, err
	}
	svc, err := auth.New(c.ctx, st, nil, auth.Options{})
	if err != nil {
		st.Close()
		return nil, nil, err
	}
	return st, svc, nil
}

func passwordStdinFlag(fs *flag.FlagSet) *bool {
	return fs.Bool("password-stdin", false, "read the password from the first line of standard input")
}

// userAddFlags defines `jwtgate user add NAME`.
func userAddFlags(fs *flag.FlagSet) func(cmdIO, []string) error {
	dbURL := dbFlag(fs)
	var roles stringList
	fs.Var(&roles, "role", "give the user this role (repeatable)")
	email := fs.String("email", "", "the user's email address")
	verified := fs.Bool("email-verified", false, "mark --email as verified (you know it reaches the user); otherwise the user verifies it")
	pwStdin := passwordStdinFlag(fs)
	return func(c cmdIO, args []string) error {
		addr := ""
		if *email != "" {
			a, err := jwtgate.CheckEmail(*email)
			if err != nil {
				return usagef("user add: --email: %v", strings.TrimPrefix(err.Error(), jwtgate.ErrInvalid.Error()+": "))
			}
			addr = a
		} else if *verified {
			return usagef("user add: --email-verified needs --email")
		}
		st, svc, err := userService(c, *dbURL)
		if err != nil {
			return err
		}
		defer st.Close()
		if addr != "" {
			if _, err := st.UserEmailByAddress(c.ctx, addr); err == nil {
				return fmt.Errorf("user add: the address %s belongs to another user", displayText(addr))
			}
		}
		pw, err := readPassword(c, *pwStdin, true)
		if err != nil {
			return err
		}
		u, err := svc.CreateUser(c.ctx, args[0], pw, roles)
		if err != nil {
			return userErr(args[0], err)
		}
		if addr != "" {
			e := jwtgate.UserEmail{UserID: u.ID, Address: addr}
			if *verified {
				now := time.Now()
				e.VerifiedAt = &now
			}
			if err := st.SetUserEmail(c.ctx, e); err != nil {
				return fmt.Errorf("user add: created %s, but its email was not set: %w", displayName(u.Name), err)
			}
		}
		fmt.Fprintf(c.stdout, "created user %q (id %d)\n", u.Name, u.ID)
		return nil
	}
}

// userListFlags defines `jwtgate user list`.
func userListFlags(fs *flag.FlagSet) func(cmdIO, []string) error {
	dbURL := dbFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	return func(c cmdIO, _ []string) error {
		st, err := openStore(c.ctx, *dbURL)
		if err != nil {
			return err
		}
		defer st.Close()
		return listUsers(c, st, *asJSON)
	}
}

// userPasswdFlags defines `jwtgate user passwd NAME`.
func userPasswdFlags(fs *flag.FlagSet) func(cmdIO, []string) error {
	dbURL := dbFlag(fs)
	pwStdin := passwordStdinFlag(fs)
	return func(c cmdIO, args []string) error {
		st, svc, err := userService(c, *dbURL)
		if err != nil {
			return err
		}
		defer st.Close()
		if _, err := st.UserByName(c.ctx, args[0]); err != nil {
			return userErr(args[0], err)
		}
		pw, err := readPassword(c, *pwStdin, true)
		if err != nil {
			return err
		}
		if err := svc.SetPassword(c.ctx, args[0], pw); err != nil {
			return userErr(args[0], err)
		}
		fmt.Fprintf(c.stdout, "password of %q changed\n", args[0])
		return nil
	}
}

// userStateFlags defines `jwtgate user disable|enable|delete|reset-mfa NAME`.
func userStateFlags(verb string) func(fs *flag.FlagSet) func(cmdIO, []string) error {
	return func(fs *flag.FlagSet) func(cmdIO, []string) error {
		dbURL := dbFlag(fs)
		return func(c cmdIO, args []string) error {
			st, svc, err := userService(c, *dbURL)
			if err != nil {
				return err
			}
			defer st.Close()
			switch verb {
			case "disable", "enable":
				// Disabling ends the user's sessions on every instance.
				err = svc.SetDisabled(c.ctx, args[0], verb == "disable")
			case "delete":
				err = svc.DeleteUser(c.ctx, args[0])
			case "reset-mfa":
				// Removes TOTP, recovery codes and passkeys, and ends the
				// user's sessions: the next login is with the password alone.
				var had bool
				if had, err = svc.ResetFactors(c.ctx, args[0]); err == nil {
					if had {
						fmt.Fprintf(c.stdout, "user %q: second factors removed, sessions ended\n", args[0])
					} else {
						fmt.Fprintf(c.stdout, "user %q had no second factor; sessions ended\n", args[0])
					}
					return nil
				}
			}
			if err != nil {
				return userErr(args[0], err)
			}
			fmt.Fprintf(c.stdout, "user %q %sd\n", args[0], verb)
			return nil
		}
	}
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
		return printJSON(c.stdout, out)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tROLES\tSTATUS\tCREATED")
	for _, u := range users {
		status := "active"
		if u.Disabled {
			status = "disabled"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", u.ID, displayName(u.Name), displayText(strings.Join(u.Roles, ",")), status, u.CreatedAt.Format(time.RFC3339))
	}
	return tw.Flush()
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
