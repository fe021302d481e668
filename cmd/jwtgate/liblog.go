package main

import (
	"context"
	"io"
	"log/slog"
	"os"
)

// routeLibraryLogs sends what libraries log through slog's default logger
// (zitadel/oidc announces each route at INFO at startup and logs protocol
// errors at their level) into jwtgate's own handler at WARN and above: the
// log keeps one format (--log-format) and a start-up stays quiet. It acts
// only when stderr is the process's own, as in the binary: slog's default
// is global, and tests that run serve in-process with their own writers
// must not hand it to each other.
func routeLibraryLogs(stderr io.Writer, h slog.Handler) {
	if f, ok := stderr.(*os.File); !ok || f != os.Stderr {
		return
	}
	slog.SetDefault(slog.New(minLevel{Handler: h, min: slog.LevelWarn}))
}

// minLevel is h with records below min dropped.
type minLevel struct {
	slog.Handler
	min slog.Level
}

func (m minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.Handler.Enabled(ctx, l)
}

func (m minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{Handler: m.Handler.WithAttrs(as), min: m.min}
}

func (m minLevel) WithGroup(name string) slog.Handler {
	return minLevel{Handler: m.Handler.WithGroup(name), min: m.min}
}
