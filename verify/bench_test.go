package verify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/token"
)

// benchVerifier is New against a fake issuer with a revocation list of
// 1000 entries, so the benchmark pays for every check a service pays for.
func benchVerifier(b *testing.B, k *token.Key) (*Verifier, string) {
	iss := newFakeIssuer(b, k)
	now := time.Now()
	for range 500 {
		iss.revoke(feedEntry{SID: token.NewID(), Exp: now.Add(time.Hour).Unix()})
		iss.revoke(feedEntry{JTI: token.NewID(), Exp: now.Add(time.Hour).Unix()})
	}
	v := mustNew(b, iss.url, WithRevocationPolling(time.Hour))
	if n := len(v.revs.set.Load().sids); n != 500 {
		b.Fatalf("revoked sessions = %d, want 500", n)
	}
	return v, sign(b, k, claims(iss.url, now))
}

// BenchmarkVerify compares with token's BenchmarkVerify: the cache, the
// staleness check and the revocation lookup should add no allocation.
func BenchmarkVerify(b *testing.B) {
	for _, alg := range []string{token.EdDSA, token.ES256, token.RS256} {
		v, raw := benchVerifier(b, mustGenerate(b, alg))
		ctx := context.Background()
		b.Run(alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(ctx, raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

type discardWriter struct{ h http.Header }

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(int)             {}

func BenchmarkHandler(b *testing.B) {
	v, raw := benchVerifier(b, mustGenerate(b, token.EdDSA))
	h := v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := ClaimsFrom(r.Context()); !ok {
			b.Fatal("no claims")
		}
	}))
	for _, tt := range []struct{ name, auth string }{
		{name: "valid", auth: "Bearer " + raw},
		{name: "missing"},
		{name: "garbage", auth: "Bearer not.a.jwt"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if tt.auth != "" {
			r.Header.Set("Authorization", tt.auth)
		}
		w := &discardWriter{h: http.Header{}}
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
		})
	}
}
