// Command jwtgate is a self-hosted JWT authentication server and its admin
// CLI. With no arguments it serves on the embedded SQLite default.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Environ(), os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "jwtgate:", err)
		os.Exit(exitCode(err))
	}
}
