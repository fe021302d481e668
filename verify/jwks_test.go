package verify

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/token"
)

// TestKeyRotation: a token signed by a key the cache does not know makes
// Verify refetch the JWKS, but not more than once per minRefetchInterval.
func TestKeyRotation(t *testing.T) {
	a, b := mustGenerate(t, token.EdDSA), mustGenerate(t, token.ES256)
	iss := newFakeIssuer(t, a)
	clk := newClock()
	v := mustNew(t, iss.url, WithClock(clk.Now))
	ctx := context.Background()
	tokA := sign(t, a, claims(iss.url, clk.Now()))
	if _, err := v.Verify(ctx, tokA); err != nil {
		t.Fatalf("Verify(token of a) = %v", err)
	}
	iss.setKeys(a, b)
	// New fetched the keys a moment ago: no refetch yet.
	if _, err := v.Verify(ctx, sign(t, b, claims(iss.url, clk.Now()))); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("Verify(token of b) right after New = %v, want ErrUnknownKey", err)
	}
	if n := iss.jwksHits.Load(); n != 1 {
		t.Fatalf("JWKS requests = %d, want 1 (the refetch is rate limited)", n)
	}
	clk.Add(minRefetchInterval + time.Second)
	tokB := sign(t, b, claims(iss.url, clk.Now()))
	if _, err := v.Verify(ctx, tokB); err != nil {
		t.Fatalf("Verify(token of b) after rotation = %v", err)
	}
	if n := iss.jwksHits.Load(); n != 2 {
		t.Errorf("JWKS requests = %d, want 2", n)
	}
	// Once known, b costs no request, and a still verifies.
	for range 10 {
		if _, err := v.Verify(ctx, tokB); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.Verify(ctx, tokA); err != nil {
		t.Errorf("Verify(token of a) after rotation = %v", err)
	}
	if n := iss.jwksHits.Load(); n != 2 {
		t.Errorf("JWKS requests = %d, want 2", n)
	}
	// The issuer drops a: after the next refetch its tokens fail.
	iss.setKeys(b)
	clk.Add(minRefetchInterval + time.Second)
	if _, err := v.Verify(ctx, sign(t, mustGenerate(t, token.EdDSA), claims(iss.url, clk.Now()))); !errors.Is(err, token.ErrUnknownKey) {
		t.Fatalf("Verify(token of a stranger) = %v, want ErrUnknownKey", err)
	}
	if _, err := v.Verify(ctx, tokA); !errors.Is(err, token.ErrUnknownKey) {
		t.Errorf("Verify(token of a dropped key) = %v, want ErrUnknownKey", err)
	}
}

// TestUnknownKidFlood: 100 concurrent tokens with unknown kids cost at most
// one JWKS request per minRefetchInterval.
func TestUnknownKidFlood(t *testing.T) {
	a := mustGenerate(t, token.EdDSA)
	iss := newFakeIssuer(t, a)
	clk := newClock()
	v := mustNew(t, iss.url, WithClock(clk.Now))
	strangers := make([]string, 100)
	for i := range strangers {
		c := claims(iss.url, clk.Now())
		if i%2 == 0 {
			strangers[i] = sign(t, mustGenerate(t, token.EdDSA), c)
		} else { // hostile kids, no valid signature needed to ask for a refetch
			strangers[i] = forge(map[string]any{"alg": "EdDSA", "typ": "at+jwt", "kid": strings.Repeat("k", i)}, mapClaims(iss.url, clk.Now()), nil, "c2ln")
		}
	}
	flood := func() {
		var wg sync.WaitGroup
		for _, raw := range strangers {
			wg.Go(func() {
				if _, err := v.Verify(context.Background(), raw); !errors.Is(err, token.ErrUnknownKey) {
					t.Errorf("Verify(unknown kid) = %v, want ErrUnknownKey", err)
				}
			})
		}
		wg.Wait()
	}
	for _, step := range []struct {
		advance time.Duration
		want    int32
	}{
		{advance: 0, want: 1},                                // within 10 s of New's fetch
		{advance: minRefetchInterval + time.Second, want: 2}, // one refetch for 100 misses
		{advance: time.Second, want: 2},                      // rate limited
		{advance: minRefetchInterval, want: 3},
	} {
		clk.Add(step.advance)
		flood()
		if n := iss.jwksHits.Load(); n != step.want {
			t.Fatalf("after +%v: JWKS requests = %d, want %d", step.advance, n, step.want)
		}
	}
}

// TestFailedRefetchKeepsKeys: an issuer that fails (or serves junk) does not
// make the Verifier forget keys it had.
func TestFailedRefetchKeepsKeys(t *testing.T) {
	for _, tt := range []struct {
		name   string
		break_ func(f *fakeIssuer)
	}{
		{name: "500", break_: func(f *fakeIssuer) { f.jwksStatus = http.StatusInternalServerError }},
		{name: "no keys", break_: func(f *fakeIssuer) { f.keys = nil }},
		{name: "redirected away", break_: func(f *fakeIssuer) { f.jwksRedirect = "http://127.0.0.1:1/jwks" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a := mustGenerate(t, token.EdDSA)
			iss := newFakeIssuer(t, a)
			clk := newClock()
			logs := new(logBuffer)
			v := mustNew(t, iss.url, WithClock(clk.Now), WithLogger(logs.logger()))
			tokA := sign(t, a, claims(iss.url, clk.Now()))
			iss.set(tt.break_)
			clk.Add(minRefetchInterval + time.Second)
			if _, err := v.Verify(context.Background(), sign(t, mustGenerate(t, token.EdDSA), claims(iss.url, clk.Now()))); !errors.Is(err, token.ErrUnknownKey) {
				t.Errorf("Verify(unknown kid) = %v, want ErrUnknownKey", err)
			}
			if n := iss.jwksHits.Load(); n != 2 {
				t.Errorf("JWKS requests = %d, want 2", n)
			}
			if _, err := v.Verify(context.Background(), tokA); err != nil {
				t.Errorf("Verify(known key) after a failed refetch = %v", err)
			}
			// A stale set whose refresh fails is kept too.
			clk.Add(defaultKeysMaxAge)
			if _, err := v.Verify(context.Background(), tokA); err != nil {
				t.Errorf("Verify(known key) with a stale set = %v", err)
			}
			eventually(t, "the failed background refresh", func() bool { return iss.jwksHits.Load() == 3 && v.keys.idle() })
			if _, err := v.Verify(context.Background(), tokA); err != nil {
				t.Errorf("Verify(known key) after a failed refresh = %v", err)
			}
			if !strings.Contains(logs.String(), "keeping the keys already known") {
				t.Errorf("log = %q, want a warning about the failed refresh", logs.String())
			}
		})
	}
}

// idle reports whether no fetch is running.
func (c *keyCache) idle() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.flight == nil
}

// TestCacheControl: the set is refreshed once its max-age has passed, not
// before, and in the background.
func TestCacheControl(t *testing.T) {
	a, b := mustGenerate(t, token.EdDSA), mustGenerate(t, token.EdDSA)
	iss := newFakeIssuer(t, a)
	iss.set(func(f *fakeIssuer) { f.cacheControl = "public, max-age=120" })
	clk := newClock()
	v := mustNew(t, iss.url, WithClock(clk.Now))
	tokA := sign(t, a, claims(iss.url, clk.Now()))
	iss.setKeys(b) // a is withdrawn; the Verifier learns it at the next fetch
	clk.Add(119 * time.Second)
	if _, err := v.Verify(context.Background(), tokA); err != nil {
		t.Fatalf("Verify within max-age = %v", err)
	}
	if !v.keys.idle() || iss.jwksHits.Load() != 1 {
		t.Fatalf("a fetch started within max-age (JWKS requests %d)", iss.jwksHits.Load())
	}
	clk.Add(2 * time.Second)
	// The stale set still serves this request; the refresh runs behind it.
	_, _ = v.Verify(context.Background(), tokA)
	eventually(t, "the refresh after max-age", func() bool { return iss.jwksHits.Load() == 2 && v.keys.idle() })
	if _, err := v.Verify(context.Background(), tokA); !errors.Is(err, token.ErrUnknownKey) {
		t.Errorf("Verify(withdrawn key) after refresh = %v, want ErrUnknownKey", err)
	}
	if _, err := v.Verify(context.Background(), sign(t, b, claims(iss.url, clk.Now()))); err != nil {
		t.Errorf("Verify(new key) after refresh = %v", err)
	}
}

func TestMaxAge(t *testing.T) {
	tests := []struct {
		cacheControl, age string
		want              time.Duration
	}{
		{want: defaultKeysMaxAge},
		{cacheControl: "max-age=120", want: 2 * time.Minute},
		{cacheControl: "public, max-age=600, must-revalidate", want: 10 * time.Minute},
		{cacheControl: "MAX-AGE=600", want: 10 * time.Minute},
		{cacheControl: `max-age="600"`, want: 10 * time.Minute},
		{cacheControl: "max-age=1", want: minKeysMaxAge},
		{cacheControl: "max-age=0", want: minKeysMaxAge},
		{cacheControl: "max-age=99999999999999999999", want: defaultKeysMaxAge}, // not a number we can hold
		{cacheControl: "max-age=999999999", want: maxKeysMaxAge},
		{cacheControl: "max-age=-5", want: defaultKeysMaxAge},
		{cacheControl: "max-age=abc", want: defaultKeysMaxAge},
		{cacheControl: "no-store", want: minKeysMaxAge},
		{cacheControl: "max-age=600, no-cache", want: minKeysMaxAge},
		{cacheControl: "private", want: defaultKeysMaxAge},
		{cacheControl: "max-age=600", age: "300", want: 5 * time.Minute},
		{cacheControl: "max-age=600", age: "1000", want: minKeysMaxAge},
		{cacheControl: "max-age=600", age: "junk", want: 10 * time.Minute},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.cacheControl != "" {
			h.Set("Cache-Control", tt.cacheControl)
		}
		if tt.age != "" {
			h.Set("Age", tt.age)
		}
		if got := maxAge(h); got != tt.want {
			t.Errorf("maxAge(Cache-Control %q, Age %q) = %v, want %v", tt.cacheControl, tt.age, got, tt.want)
		}
	}
}

// TestRefetchWaitBoundedByContext: a caller whose context ends stops
// waiting for a slow JWKS; the fetch itself goes on for the others.
func TestRefetchWaitBoundedByContext(t *testing.T) {
	a := mustGenerate(t, token.EdDSA)
	iss := newFakeIssuer(t, a)
	clk := newClock()
	v := mustNew(t, iss.url, WithClock(clk.Now))
	release := make(chan struct{})
	iss.set(func(f *fakeIssuer) { f.jwksBlock = release })
	clk.Add(minRefetchInterval + time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := v.Verify(ctx, sign(t, mustGenerate(t, token.EdDSA), claims(iss.url, clk.Now()))); !errors.Is(err, token.ErrUnknownKey) {
		t.Errorf("Verify(unknown kid, slow JWKS) = %v, want ErrUnknownKey", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Verify waited %v past its context", d)
	}
	close(release)
	eventually(t, "the slow fetch to finish", v.keys.idle)
}
