package auth

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"github.com/jwtgate/jwtgate/token"
)

// tokenCache remembers tokens that passed signature and claims checks, so a
// client sending the same token again skips the signature check (about
// 40 µs for Ed25519). It is bounded, and an entry never outlives its token's
// exp (plus the leeway the verifier grants). It does not bypass revocation:
// Verify checks the revocation set on every request, cached or not.
//
// Keys are a seeded 64-bit maphash of the token; a hit is confirmed by a
// constant-time comparison with the stored token, so a collision cannot
// impersonate, and comparison time leaks nothing about a stored token.
//
// The cached claims are shared, not copied: every request presenting the
// token gets the same *token.Claims, which nobody may change (see
// Service.Verify). A copy per hit cost one or two allocations on every
// authenticated request, and a deep copy has to know every pointer and
// slice field of token.Claims, which grows. In test binaries, every hit
// checks that the claims still encode as they did when cached and panics
// otherwise (guard), so a handler that writes into them fails its tests.
type tokenCache struct {
	seed   maphash.Seed
	max    int
	guard  bool
	shards [cacheShards]cacheShard
}

const cacheShards = 16

type cacheShard struct {
	mu sync.RWMutex
	m  map[uint64]cacheEntry
}

type cacheEntry struct {
	raw    string
	claims *token.Claims
	until  time.Time
	// encoded is the JSON of claims when cached; only with guard.
	encoded []byte
}

// newTokenCache makes a cache of about max entries; under 16 disables it.
func newTokenCache(max int) *tokenCache {
	c := &tokenCache{seed: maphash.MakeSeed(), max: max, guard: guardClaims()}
	for i := range c.shards {
		c.shards[i].m = make(map[uint64]cacheEntry)
	}
	return c
}

// guardClaims reports whether caches check on every hit that nobody
// changed the shared claims: in a test binary's tests (package testing's
// flags are registered), but not when it runs benchmarks, which measure
// the hit without the check. A production binary has no such flags. The
// flags are looked up rather than testing.Testing called, so that package
// testing stays out of the server binary.
func guardClaims() bool {
	if flag.Lookup("test.v") == nil {
		return false
	}
	b := flag.Lookup("test.bench")
	return b == nil || b.Value.String() == ""
}

// get returns the cached claims of raw if present and not expired at now.
// They are shared with every other request presenting raw: read only.
func (c *tokenCache) get(raw string, now time.Time) (*token.Claims, bool) {
	h := maphash.String(c.seed, raw)
	s := &c.shards[h%cacheShards]
	s.mu.RLock()
	e, ok := s.m[h]
	s.mu.RUnlock()
	if !ok || !now.Before(e.until) || !equalTokens(e.raw, raw) {
		return nil, false
	}
	if c.guard {
		if now, _ := json.Marshal(e.claims); !bytes.Equal(now, e.encoded) {
			panic(fmt.Sprintf("auth: cached token claims were changed after Verify returned them (now %s, was %s); they are shared by every request with the token and are read only", now, e.encoded))
		}
	}
	return e.claims, true
}

// put caches verified claims until until. The cache keeps claims itself,
// not a copy: from now on nobody may change it. A full shard drops its expired
// entries, then, if still full, all of them: simple, bounded, and a miss
// costs only one signature check.
func (c *tokenCache) put(raw string, claims *token.Claims, until, now time.Time) {
	if c.max < cacheShards {
		return // disabled
	}
	h := maphash.String(c.seed, raw)
	s := &c.shards[h%cacheShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.m) >= c.max/cacheShards {
		for k, e := range s.m {
			if !now.Before(e.until) {
				delete(s.m, k)
			}
		}
		if len(s.m) >= c.max/cacheShards {
			clear(s.m)
		}
	}
	e := cacheEntry{raw: raw, claims: claims, until: until}
	if c.guard {
		e.encoded, _ = json.Marshal(claims) // claims always marshal
	}
	s.m[h] = e
}

// equalTokens reports whether a and b are equal in time that depends only
// on their lengths (token lengths are not secret), like
// crypto/subtle.ConstantTimeCompare, but eight bytes at a time: a token is
// a few hundred bytes and this runs on every cached verification.
func equalTokens(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	var v uint64
	i := 0
	for ; i+8 <= len(a); i += 8 {
		v |= binary.LittleEndian.Uint64([]byte(a[i:i+8])) ^ binary.LittleEndian.Uint64([]byte(b[i:i+8]))
	}
	for ; i < len(a); i++ {
		v |= uint64(a[i] ^ b[i])
	}
	return v == 0
}
