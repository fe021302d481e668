package testkit

import (
	"bytes"
	"log/slog"
	"testing"
)

func TestListenAddr(t *testing.T) {
	for _, tt := range []struct {
		name, log, msg, want string
	}{
		{name: "text", msg: "jwtgate listening",
			log:  "time=x level=INFO msg=\"metrics listening\" addr=127.0.0.1:1\ntime=x level=INFO msg=\"jwtgate listening\" addr=127.0.0.1:40123 issuer=http://127.0.0.1:40123\n",
			want: "127.0.0.1:40123"},
		{name: "text other message", msg: "metrics listening",
			log:  "time=x level=INFO msg=\"metrics listening\" addr=127.0.0.1:1\n",
			want: "127.0.0.1:1"},
		{name: "json", msg: "jwtgate listening",
			log:  `{"time":"x","level":"INFO","msg":"jwtgate listening","addr":"[::1]:8000"}` + "\n",
			want: "[::1]:8000"},
		{name: "not yet", msg: "jwtgate listening", log: "time=x level=INFO msg=\"opening store\"\n", want: ""},
		{name: "half-written line", msg: "jwtgate listening", log: "time=x level=INFO msg=\"jwtgate listening\" addr=127.0.0.1:4", want: ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := ListenAddr(tt.log, tt.msg); got != tt.want {
				t.Errorf("ListenAddr(%q, %q) = %q, want %q", tt.log, tt.msg, got, tt.want)
			}
		})
	}
}

// TestListenAddrReadsSlog checks ListenAddr against what log/slog really
// writes, in both formats, for the line jwtgate logs.
func TestListenAddrReadsSlog(t *testing.T) {
	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var b bytes.Buffer
		slog.New(h(&b)).Info("jwtgate listening", "addr", "127.0.0.1:45678", "issuer", "http://127.0.0.1:45678")
		if got := ListenAddr(b.String(), "jwtgate listening"); got != "127.0.0.1:45678" {
			t.Errorf("%s: ListenAddr(%q) = %q, want 127.0.0.1:45678", name, b.String(), got)
		}
	}
}
