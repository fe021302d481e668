package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtgate/jwtgate/token"
)

// TestCachedTokenStillRevoked: a token that sits in the verified-token
// cache is refused as soon as its session is revoked.
func TestCachedTokenStillRevoked(t *testing.T) {
	e := newEnv(t, Options{})
	tok := loginAlice(t, e)
	for range 2 { // the second Verify is a cache hit
		if _, err := e.svc.Verify(tok.Access); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := e.svc.cache.get(tok.Access, e.clk.Now()); !ok {
		t.Fatal("verified token not cached")
	}
	if err := e.svc.Logout(context.Background(), tok.Claims); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Verify(tok.Access); !errors.Is(err, ErrRevoked) {
		t.Errorf("Verify(cached, revoked token) = %v, want ErrRevoked", err)
	}
}

// TestCachedClaimsNotShared: a caller that changes the claims Verify gave
// it (every field, including what pointers and slices refer to) changes
// nothing another request sees, whether its Verify was a miss or a hit.
func TestCachedClaimsNotShared(t *testing.T) {
	e := newEnv(t, Options{Audience: "api"})
	if _, err := e.svc.CreateUser(context.Background(), "carol", "carol-pass", []string{"admin", "ops"}); err != nil {
		t.Fatal(err)
	}
	tok, err := e.svc.Login(context.Background(), "carol", "carol-pass", Client{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := e.svc.Verify(tok.Access) // a miss: fills the cache
	if err != nil {
		t.Fatal(err)
	}
	want = cloneClaims(want)
	for _, step := range []string{"miss", "hit"} {
		if step == "miss" {
			e.svc.cache = newTokenCache(tokenCacheSize)
		}
		c, err := e.svc.Verify(tok.Access)
		if err != nil {
			t.Fatal(err)
		}
		// A careless handler.
		c.Name, c.UserID = "mallory", 99
		c.Roles[0] = "nobody"
		c.Roles = append(c.Roles, "root")
		c.Audience[0] = "elsewhere"
		c.ExpiresAt.Time = c.ExpiresAt.Add(time.Hour)
		c.IssuedAt.Time = time.Time{}

		got, err := e.svc.Verify(tok.Access)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(*got) != fmt.Sprint(*want) || got.ExpiresAt.Time != want.ExpiresAt.Time || got.IssuedAt.Time != want.IssuedAt.Time {
			t.Errorf("after a caller changed its claims (first Verify a %s), Verify = %+v (exp %v), want %+v (exp %v)",
				step, *got, got.ExpiresAt, *want, want.ExpiresAt)
		}
	}
}

// TestCloneClaimsSlicesApart: appending to the copy's audience never
// writes into its roles (they share one backing array).
func TestCloneClaimsSlicesApart(t *testing.T) {
	c := cloneClaims(&token.Claims{RegisteredClaims: jwt.RegisteredClaims{Audience: []string{"api"}}, Roles: []string{"admin"}})
	c.Audience = append(c.Audience, "x")
	if len(c.Roles) != 1 || c.Roles[0] != "admin" {
		t.Errorf("roles after appending to the audience = %q, want [admin]", c.Roles)
	}
	d := cloneClaims(&token.Claims{})
	if d.Roles != nil || d.Audience != nil || d.ExpiresAt != nil {
		t.Errorf("cloneClaims(empty) = %+v, want nil slices and pointers", d)
	}
}

// TestCacheNeverOutlivesExp: after exp plus leeway the cached entry is not
// used; the token is checked afresh and refused as expired.
func TestCacheNeverOutlivesExp(t *testing.T) {
	e := newEnv(t, Options{AccessTTL: time.Minute})
	tok := loginAlice(t, e)
	if _, err := e.svc.Verify(tok.Access); err != nil {
		t.Fatal(err)
	}
	e.clk.Add(time.Minute + Leeway)
	if _, err := e.svc.Verify(tok.Access); !errors.Is(err, token.ErrExpired) {
		t.Errorf("Verify after exp+leeway = %v, want ErrExpired", err)
	}
}

// TestCacheNoImpersonation: a token differing in any byte from a cached one
// is not served from the cache.
func TestCacheNoImpersonation(t *testing.T) {
	c := newTokenCache(32)
	now := time.Now()
	good := "header.payload.signature"
	c.put(good, &token.Claims{Name: "alice"}, now.Add(time.Hour), now)
	for _, raw := range []string{"header.payload.signaturf", "header.payload.signature ", strings.ToUpper(good), ""} {
		if cl, ok := c.get(raw, now); ok {
			t.Errorf("get(%q) = %v from the cache", raw, cl)
		}
	}
	if _, ok := c.get(good, now); !ok {
		t.Error("cached token not found")
	}
	// Bounded: many more puts than the size never grow it past the bound.
	for i := range 1000 {
		c.put(strings.Repeat("x", i), &token.Claims{}, now.Add(time.Hour), now)
	}
	n := 0
	for i := range c.shards {
		n += len(c.shards[i].m)
	}
	if n > 32 {
		t.Errorf("cache holds %d entries, bound 32", n)
	}
}

// BenchmarkVerify measures the verify path as requests see it: signature
// check on a miss, the cache and the revocation set on a hit.
func BenchmarkVerify(b *testing.B) {
	for _, hit := range []bool{false, true} {
		name := "miss"
		if hit {
			name = "hit"
		}
		b.Run(name, func(b *testing.B) {
			e := newEnvB(b)
			tok, err := e.svc.Login(context.Background(), "alice", "alice-pass", Client{})
			if err != nil {
				b.Fatal(err)
			}
			if !hit {
				e.svc.cache = newTokenCache(0) // every put clears: always a miss
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.svc.Verify(tok.Access); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestEqualTokens checks the word-at-a-time comparison against
// crypto/subtle on lengths around the word size and differences at every
// position.
func TestEqualTokens(t *testing.T) {
	base := strings.Repeat("eyJhbGciOiJFZERTQSJ9.", 20)
	for n := 0; n <= 40; n++ {
		a := base[:n]
		if !equalTokens(a, strings.Clone(a)) {
			t.Fatalf("len %d: equal strings reported different", n)
		}
		for i := 0; i < n; i++ {
			b := []byte(a)
			b[i] ^= 0x01
			if equalTokens(a, string(b)) {
				t.Fatalf("len %d: difference at %d not seen", n, i)
			}
		}
		if n > 0 && equalTokens(a, a[:n-1]) {
			t.Fatalf("len %d: prefix reported equal", n)
		}
	}
}

func FuzzEqualTokens(f *testing.F) {
	f.Add("a.b.c", "a.b.c")
	f.Add("eyJhbGciOiJIUzI1NiJ9.e30.sig", "eyJhbGciOiJIUzI1NiJ9.e30.siG")
	f.Add("", "x")
	f.Fuzz(func(t *testing.T, a, b string) {
		want := subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
		if got := equalTokens(a, b); got != want {
			t.Fatalf("equalTokens(%q, %q) = %v, want %v", a, b, got, want)
		}
	})
}

func BenchmarkEqualTokens(b *testing.B) {
	a := strings.Repeat("x", 340)
	c := strings.Clone(a)
	b.Run("words", func(b *testing.B) {
		for b.Loop() {
			equalTokens(a, c)
		}
	})
	b.Run("subtle", func(b *testing.B) {
		for b.Loop() {
			subtle.ConstantTimeCompare([]byte(a), []byte(c))
		}
	})
}

// BenchmarkRevoked is the revocation check every verified request makes:
// a lock-free lookup of the token's sid and jti in the set loaded from the
// feed, here holding 1,000 revoked tokens.
func BenchmarkRevoked(b *testing.B) {
	e := newEnvB(b)
	ctx := context.Background()
	until := e.clk.Now().Add(time.Hour)
	for i := range 1000 {
		if err := e.store.RevokeToken(ctx, fmt.Sprintf("jti-%d", i), until); err != nil {
			b.Fatal(err)
		}
	}
	if err := e.svc.revs.Sync(ctx); err != nil {
		b.Fatal(err)
	}
	if n := e.svc.revs.Len(); n != 1000 {
		b.Fatalf("revocation set holds %d, want 1000", n)
	}
	for _, tc := range []struct{ name, sid, jti string }{
		{"not-revoked", "some-session", "some-jti"},
		{"revoked", "some-session", "jti-500"},
	} {
		b.Run(tc.name, func(b *testing.B) {
			want := tc.name == "revoked"
			b.ReportAllocs()
			for b.Loop() {
				if e.svc.revs.Revoked(tc.sid, tc.jti) != want {
					b.Fatal("wrong answer")
				}
			}
		})
	}
}
