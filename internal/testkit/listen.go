package testkit

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// ListenAddr returns the address in the first log line whose message is
// msg (for jwtgate: "jwtgate listening", "metrics listening"), in either
// slog format: text (msg="jwtgate listening" addr=127.0.0.1:40123) or JSON
// ({"msg":"jwtgate listening","addr":"127.0.0.1:40123"}). It returns ""
// when there is no such line yet. A last line without its newline may be
// half written and is not read.
func ListenAddr(log, msg string) string {
	for line := range strings.Lines(log) {
		if !strings.HasSuffix(line, "\n") {
			break
		}
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "{") {
			var rec struct{ Msg, Addr string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == msg {
				return rec.Addr
			}
			continue
		}
		if !strings.Contains(line, `msg="`+msg+`"`) && !strings.Contains(line, "msg="+msg+" ") {
			continue
		}
		for field := range strings.FieldsSeq(line) {
			if addr, ok := strings.CutPrefix(field, "addr="); ok {
				return strings.Trim(addr, `"`)
			}
		}
	}
	return ""
}

// WaitListenAddr polls log until it shows the line ListenAddr looks for and
// returns its address. It fails tb if exited is closed first (the process
// ended) or after 30 s, showing the log.
func WaitListenAddr(tb testing.TB, log func() string, msg string, exited <-chan struct{}) string {
	tb.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if addr := ListenAddr(log(), msg); addr != "" {
			return addr
		}
		if time.Now().After(deadline) {
			tb.Fatalf("no %q line with an address in the log after 30 s:\n%s", msg, log())
		}
		select {
		case <-exited:
			if addr := ListenAddr(log(), msg); addr != "" {
				return addr
			}
			tb.Fatalf("process exited before logging %q:\n%s", msg, log())
		case <-time.After(10 * time.Millisecond):
		}
	}
}
