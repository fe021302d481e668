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
	if cmd == "help" || isHelp(cmd) {
		return printTopHelp(stdout)
	}
	return dispatch(cmdIO{ctx: ctx, env: env, dotenv: ".env", stdin: stdin, stdout: stdout, stderr: stderr}, cmd, rest)
}

// cmdIO is what every command gets from run.
type cmdIO struct {
	ctx            context.Context
	env            []string
	dotenv         string // path of the .env file ("" for none)
	stdin          io.Reader
	stdout, stderr io.Writer
}

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
