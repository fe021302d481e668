package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"reflect"
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

// TestCachedClaimsShared: a cache hit returns the claims the miss
// cached, not a copy: no allocation per authenticated request.
func TestCachedClaimsShared(t *testing.T) {
	e := newEnv(t, Options{})
	tok := loginAlice(t, e)
	first, err := e.svc.Verify(tok.Access)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.svc.Verify(tok.Access)
	if err != nil {
		t.Fatal(err)
	}
	if first != second {
		t.Error("a cache hit returned other claims than the miss that cached them")
	}
	// Without the guard of test binaries, as in the server.
	e.svc.cache.guard = false
	if n := testing.AllocsPerRun(100, func() { _, _ = e.svc.Verify(tok.Access) }); n != 0 {
		t.Errorf("a cache hit allocates %v times, want 0", n)
	}
}

// TestCachedClaimsGuard: a caller that changes claims Verify gave it
// (which are shared with every request presenting the token) is caught on
// the next hit, whichever field it changes, in place or by replacing it,
// and whether its own Verify was the miss or a hit. The fields are found
// by reflection, so a field added to token.Claims is covered without
// touching this test; a kind of field it cannot change fails it.
func TestCachedClaimsGuard(t *testing.T) {
	e := newEnv(t, Options{Audience: "api"})
	if !e.svc.cache.guard {
		t.Fatal("the claims guard is off in tests")
	}
	if _, err := e.svc.CreateUser(context.Background(), "carol", "carol-pass", []string{"admin", "ops"}); err != nil {
		t.Fatal(err)
	}
	tok, err := e.svc.Login(context.Background(), "carol", "carol-pass", Client{})
	if err != nil {
		t.Fatal(err)
	}
	var changes []string
	forEachChange(t, "", reflect.TypeFor[token.Claims](), func(name string, _ func(reflect.Value)) { changes = append(changes, name) })
	if len(changes) < 12 {
		t.Fatalf("found %d ways to change token.Claims, want at least 12: %q", len(changes), changes)
	}
	for _, step := range []string{"miss", "hit"} {
		forEachChange(t, "", reflect.TypeFor[token.Claims](), func(name string, change func(reflect.Value)) {
			e.svc.cache = newTokenCache(tokenCacheSize)
			c, err := e.svc.Verify(tok.Access) // a miss: fills the cache
			if err != nil {
				t.Fatal(err)
			}
			if step == "hit" {
				if c, err = e.svc.Verify(tok.Access); err != nil {
					t.Fatal(err)
				}
			}
			change(reflect.ValueOf(c).Elem())
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s changed after a %s: the next Verify did not panic", name, step)
					}
				}()
				_, _ = e.svc.Verify(tok.Access)
			}()
		})
	}
}

// forEachChange calls f for every way of changing a value of type typ
// that a careless caller might use: each exported field (through embedded
// structs) set to another value, and for pointers and slices also the
// value they refer to changed in place. f's change applies to a value of
// typ.
func forEachChange(t *testing.T, prefix string, typ reflect.Type, f func(name string, change func(reflect.Value))) {
	t.Helper()
	for i := range typ.NumField() {
		sf := typ.Field(i)
		if !sf.IsExported() {
			continue
		}
		name := prefix + sf.Name
		at := func(change func(reflect.Value)) func(reflect.Value) {
			return func(v reflect.Value) { change(v.Field(i)) }
		}
		switch ft := sf.Type; {
		case ft.Kind() == reflect.Struct && sf.Anonymous:
			forEachChange(t, name+".", ft, func(n string, change func(reflect.Value)) { f(n, at(change)) })
		case ft.Kind() == reflect.String:
			f(name, at(func(v reflect.Value) { v.SetString(v.String() + "x") }))
		case ft.Kind() == reflect.Int64 || ft.Kind() == reflect.Int:
			f(name, at(func(v reflect.Value) { v.SetInt(v.Int() + 1) }))
		case ft.Kind() == reflect.Bool:
			f(name, at(func(v reflect.Value) { v.SetBool(!v.Bool()) }))
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String:
			f(name, at(func(v reflect.Value) { v.Set(reflect.Append(v, reflect.ValueOf("x").Convert(ft.Elem()))) }))
			f(name+"[0]", at(func(v reflect.Value) {
				if v.Len() == 0 {
					t.Fatalf("%s is empty in the test token: give it an element", name)
				}
				v.Index(0).SetString(v.Index(0).String() + "x")
			}))
		case ft == reflect.TypeFor[*jwt.NumericDate]():
			f(name, at(func(v reflect.Value) { v.Set(reflect.ValueOf(jwt.NewNumericDate(time.Unix(1, 0)))) }))
			f("*"+name, at(func(v reflect.Value) {
				if v.IsNil() {
					v.Set(reflect.ValueOf(jwt.NewNumericDate(time.Unix(1, 0))))
					return
				}
				d := v.Interface().(*jwt.NumericDate)
				d.Time = d.Add(time.Hour)
			}))
		default:
			t.Fatalf("token.Claims.%s has type %v, which forEachChange cannot change yet: teach it", name, ft)
		}
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
