package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/jwtgate/jwtgate/internal/logwriter"
	"github.com/jwtgate/jwtgate/internal/metrics"
)

// discardWriter is a ResponseWriter that keeps nothing, so the benchmark
// measures the handler, not a recorder's buffer.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

// BenchmarkUser is GET /user through the whole handler chain (body cap,
// request id, panic recovery, security headers, cross-origin protection,
// routing, token check with the cache, JSON answer), as the server runs it
// in its default configuration (no access log, no metrics), with a Bearer
// token or the session cookie, and GET /auth/verify with a Bearer token.
func BenchmarkUser(b *testing.B) {
	for _, how := range []string{"bearer", "cookie", "forward-auth"} {
		b.Run(how, func(b *testing.B) {
			f := newFixture(b, Options{})
			tok := f.loginFull(b, "alice", "alice-pass")["token"].(string)
			h := NewServer(Deps{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Auth: f.svc, Keys: f.kr, Ready: f.store.Ping}, Options{})
			path := "/user"
			if how == "forward-auth" {
				path = "/auth/verify"
			}
			req := httptest.NewRequest("GET", path, nil)
			if how == "cookie" {
				req.AddCookie(&http.Cookie{Name: "jwtgate_access", Value: tok})
			} else {
				req.Header.Set("Authorization", "Bearer "+tok)
			}
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
		})
	}
}

// BenchmarkUserAccessLog is BenchmarkUser's Bearer case with the access
// log as serve sets it up by default (text lines through a batching
// logwriter) into a file, against no access log.
func BenchmarkUserAccessLog(b *testing.B) {
	for _, sink := range []string{"off", "file"} {
		b.Run(sink, func(b *testing.B) {
			f := newFixture(b, Options{})
			tok := f.loginFull(b, "alice", "alice-pass")["token"].(string)
			var al *AccessLog
			if sink == "file" {
				fh, err := os.Create(filepath.Join(b.TempDir(), "log"))
				if err != nil {
					b.Fatal(err)
				}
				defer fh.Close()
				lw := logwriter.New(fh)
				defer lw.Close()
				al = NewAccessLog(lw, false)
			}
			h := NewServer(Deps{Logger: slog.New(slog.DiscardHandler), Auth: f.svc, Keys: f.kr, Ready: f.store.Ping,
				Metrics: metrics.New(nil, nil), AccessLog: al}, Options{})
			req := httptest.NewRequest("GET", "/user", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				h.ServeHTTP(w, req)
			}
		})
	}
}
