package testkit

import (
	"bytes"
	"log/slog"
	"testing"
	"time"
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

// TestTOTPVectors checks TOTP against RFC 6238 appendix B (SHA-1 rows,
// 8 digits, secret "12345678901234567890").
func TestTOTPVectors(t *testing.T) {
	const uri = "otpauth://totp/x?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&digits=8"
	for _, v := range []struct {
		unix int64
		want string
	}{{59, "94287082"}, {1111111109, "07081804"}, {1111111111, "14050471"}, {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000, "65353130"}} {
		got, err := TOTP(uri, time.Unix(v.unix, 0))
		if err != nil || got != v.want {
			t.Errorf("TOTP(rfc6238, %d) = %q, %v; want %q", v.unix, got, err, v.want)
		}
	}
	for _, bad := range []string{"https://totp/x?secret=GEZDGNBV", "otpauth://hotp/x?secret=GEZDGNBV", "otpauth://totp/x?secret=GEZDGNBV&algorithm=SHA256", "otpauth://totp/x?secret=!!"} {
		if _, err := TOTP(bad, time.Unix(59, 0)); err == nil {
			t.Errorf("TOTP(%q) = nil error, want one", bad)
		}
	}
}
