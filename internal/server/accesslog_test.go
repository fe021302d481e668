package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"
)

// TestAccessLogLines: the hand-made lines read as slog's would: text lines
// quote what slog.TextHandler quotes, JSON lines decode to the same fields
// as slog.JSONHandler's.
func TestAccessLogLines(t *testing.T) {
	start := time.Date(2026, 12, 5, 18, 0, 0, 123e6, time.UTC)
	ip := netip.MustParseAddr("203.0.113.7")
	tests := []struct {
		name, method, path string
		dur                time.Duration
		wantDur            string
	}{
		{name: "plain", method: "GET", path: "/user", dur: 522283 * time.Nanosecond, wantDur: "522.283µs"},
		{name: "space", method: "GET", path: "/a b", dur: 12 * time.Millisecond, wantDur: "12ms"},
		{name: "quote and equals", method: "POST", path: `/x"y=z`, dur: 2500 * time.Millisecond, wantDur: "2.5s"},
		{name: "non-ASCII", method: "GET", path: "/é\u2028", dur: 900, wantDur: "900ns"},
		{name: "control and invalid UTF-8", method: "GET", path: "/\x00\n\xff<&>", dur: time.Microsecond, wantDur: "1µs"},
		{name: "empty", method: "GET", path: "", dur: 0, wantDur: "0ns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got, want bytes.Buffer
			NewAccessLog(&got, false).Log(start, "00ff", tt.method, tt.path, 404, tt.dur, ip)
			slog.New(slog.NewTextHandler(&want, nil)).LogAttrs(context.Background(), slog.LevelInfo, "request",
				slog.String("id", "00ff"), slog.String("method", tt.method), slog.String("path", tt.path),
				slog.Int("status", 404), slog.String("dur", tt.wantDur), slog.String("ip", ip.String()))
			// slog stamps its own time; compare the rest.
			_, gotRest, _ := strings.Cut(got.String(), " level=")
			_, wantRest, _ := strings.Cut(want.String(), " level=")
			if gotRest != wantRest {
				t.Errorf("text line = %q\nwant          %q", gotRest, wantRest)
			}
			if !strings.HasPrefix(got.String(), "time=2026-12-05T18:00:00.123Z ") {
				t.Errorf("text line = %q, want it to start with the time it was logged", got.String())
			}
			if d, err := time.ParseDuration(tt.wantDur); err != nil || d != tt.dur {
				t.Errorf("dur %q parses as %v, %v; want %v", tt.wantDur, d, err, tt.dur)
			}

			got.Reset()
			want.Reset()
			NewAccessLog(&got, true).Log(start, "00ff", tt.method, tt.path, 404, tt.dur, ip)
			slog.New(slog.NewJSONHandler(&want, nil)).LogAttrs(context.Background(), slog.LevelInfo, "request",
				slog.String("id", "00ff"), slog.String("method", tt.method), slog.String("path", tt.path),
				slog.Int("status", 404), slog.Duration("dur", tt.dur), slog.String("ip", ip.String()))
			var g, w map[string]any
			if err := json.Unmarshal(got.Bytes(), &g); err != nil {
				t.Fatalf("JSON line %q: %v", got.String(), err)
			}
			if err := json.Unmarshal(want.Bytes(), &w); err != nil {
				t.Fatal(err)
			}
			delete(g, "time")
			delete(w, "time")
			gb, _ := json.Marshal(g)
			wb, _ := json.Marshal(w)
			if !bytes.Equal(gb, wb) || strings.Count(got.String(), "\n") != 1 {
				t.Errorf("JSON line = %s\nwant          %s", got.String(), want.String())
			}
		})
	}
}

// TestAccessLogAllocationFree: writing a line allocates nothing (the
// buffer is pooled), so the default access log adds no garbage per request.
func TestAccessLogAllocationFree(t *testing.T) {
	ip := netip.MustParseAddr("127.0.0.1")
	for _, json := range []bool{false, true} {
		al := NewAccessLog(io.Discard, json)
		start := time.Now()
		al.Log(start, "0123456789abcdef", "GET", "/user", 200, time.Millisecond, ip) // warm the pool
		if n := testing.AllocsPerRun(100, func() {
			al.Log(start, "0123456789abcdef", "GET", "/user", 200, 1234*time.Microsecond, ip)
		}); n != 0 {
			t.Errorf("AccessLog(json=%v).Log allocates %v times per line, want 0", json, n)
		}
	}
}

// TestAccessLogThroughServer: each request gets one line with its
// X-Request-Id, status and the client's address; the query string (which
// may hold a token) is not logged.
func TestAccessLogThroughServer(t *testing.T) {
	f := newFixture(t, Options{})
	var buf bytes.Buffer
	h := NewServer(Deps{Logger: slog.New(slog.DiscardHandler), Auth: f.svc, Keys: f.kr, Ready: f.store.Ping,
		AccessLog: NewAccessLog(&buf, false)}, Options{})
	tok := f.login(t, "alice", "alice-pass")
	req := httptest.NewRequest("GET", "/user?access_token=secret", nil)
	req.RemoteAddr = "198.51.100.4:5555"
	req.Header.Set("Authorization", "Bearer "+tok)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	line := buf.String()
	id := rec.Header().Get("X-Request-Id")
	for _, want := range []string{" msg=request id=" + id + " method=GET path=/user status=200 dur=", " ip=198.51.100.4\n"} {
		if !strings.Contains(line, want) {
			t.Errorf("access log = %q, want it to contain %q", line, want)
		}
	}
	if strings.Contains(line, "secret") || strings.Count(line, "\n") != 1 {
		t.Errorf("access log = %q, want one line without the query string", line)
	}
}

// TestAccessLogTimeAndDuration: the cached second and the integer
// duration formatting give what time.Format and time.ParseDuration agree
// with, across milliseconds, seconds and time zones.
func TestAccessLogTimeAndDuration(t *testing.T) {
	al := NewAccessLog(io.Discard, false)
	base := time.Date(2026, 12, 5, 18, 0, 59, 0, time.UTC)
	india := time.FixedZone("IST", 5*3600+1800)
	for _, tm := range []time.Time{
		base, base.Add(7 * time.Millisecond), base.Add(999 * time.Millisecond), base.Add(time.Second),
		base.Add(time.Second).In(india), base.Add(time.Second + 42*time.Millisecond), base.Add(-time.Hour).Local(),
	} {
		if got, want := string(al.appendTime(nil, tm)), tm.Format(timeLayout); got != want {
			t.Errorf("appendTime(%v) = %s, want %s", tm, got, want)
		}
	}
	for _, d := range []time.Duration{0, 1, 999, 1000, 1001, 522283, 999999, time.Millisecond, 12345678,
		time.Second, 2500 * time.Millisecond, 90 * time.Minute, 1234567891} {
		s := string(appendDuration(nil, d))
		if got, err := time.ParseDuration(s); err != nil || got != d {
			t.Errorf("appendDuration(%d) = %q, which parses as %v, %v", d, s, got, err)
		}
	}
}
