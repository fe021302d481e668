package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// usageError is a mistake in how the command was called (exit status 2).
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, a ...any) error { return &usageError{fmt.Sprintf(format, a...)} }

// exitCode maps an error from run to the process exit status: 2 for usage
// and configuration mistakes, 1 for everything else.
func exitCode(err error) int {
	var u *usageError
	if errors.As(err, &u) || errors.Is(err, errConfig) {
		return 2
	}
	return 1
}

// run is the whole program behind main, so tests can call it in-process.
// env is the process environment as KEY=VALUE (a list, not a getenv func,
// because unknown JWTGATE_* settings must be found and refused).
func run(ctx context.Context, args, env []string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd, rest := "serve", args
	if len(args) > 0 && (!strings.HasPrefix(args[0], "-") || isHelp(args[0])) {
		cmd, rest = args[0], args[1:]
	}
	io := cmdIO{ctx: ctx, env: env, dotenv: ".env", stdin: stdin, stdout: stdout, stderr: stderr}
	switch cmd {
	case "serve":
		return runServe(io, rest)
	case "user":
		return runUser(io, rest)
	case "keys":
		return runKeys(io, rest)
	case "sessions":
		return runSessions(io, rest)
	case "audit":
		return runAudit(io, rest)
	case "token":
		return runToken(io, rest)
	case "bench":
		return runBench(io, rest)
	case "migrate":
		return runMigrate(io, rest)
	case "version":
		fmt.Fprintln(stdout, "jwtgate", version())
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, topUsage)
		return nil
	}
	return usagef("unknown command %q (run 'jwtgate help')", cmd)
}

// cmdIO is what every command gets from run.
type cmdIO struct {
	ctx            context.Context
	env            []string
	dotenv         string // path of the .env file ("" for none)
	stdin          io.Reader
	stdout, stderr io.Writer
}

const topUsage = `jwtgate: a self-hosted JWT authentication server.

Usage:
  jwtgate [serve] [flags]              run the server (the default command)
  jwtgate user add NAME [--role R]...  create a user (password from a prompt or --password-stdin)
  jwtgate user list [--json]           list users
  jwtgate user passwd NAME             set a user's password
  jwtgate user disable|enable|delete NAME
  jwtgate keys list|rotate             signing keys (rotation publishes first, signs later)
  jwtgate sessions list|revoke USER    a user's sessions; revoke ends them everywhere
  jwtgate audit [--user U] [--type T]  recent audit events
  jwtgate token inspect TOKEN|-        decode and verify a token; exit 0 valid, 1 invalid or revoked
  jwtgate bench                        measure hashing, logins, verifications and refreshes here
  jwtgate migrate                      apply database migrations and print the schema version
  jwtgate version                      print the version

Every flag has an environment twin: --db is JWTGATE_DB, --access-ttl is
JWTGATE_ACCESS_TTL. A .env file in the working directory is read too.
Run 'jwtgate COMMAND --help' for a command's flags.
`

// parseArgs parses flags that may come before or after positional
// arguments (jwtgate user add alice --role admin), then fills unset flags
// from the environment and .env. It returns the positional arguments.
func parseArgs(fs *flag.FlagSet, args []string, c cmdIO) ([]string, error) {
	fs.SetOutput(io.Discard)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printFlagUsage(fs, c.stdout)
				return nil, flag.ErrHelp
			}
			return nil, usagef("%s: %v", fs.Name(), err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	if err := applyEnv(fs, c.env, c.dotenv); err != nil {
		return nil, err
	}
	return pos, nil
}

func printFlagUsage(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprintf(w, "Usage of jwtgate %s:\n", fs.Name())
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}
