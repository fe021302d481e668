package auth

import (
	"encoding/binary"
	"hash/maphash"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

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
type tokenCache struct {
	seed   maphash.Seed
	max    int
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
}

// newTokenCache makes a cache of about max entries; under 16 disables it.
func newTokenCache(max int) *tokenCache {
	c := &tokenCache{seed: maphash.MakeSeed(), max: max}
	for i := range c.shards {
		c.shards[i].m = make(map[uint64]cacheEntry)
	}
	return c
}

// get returns a copy of the cached claims of raw if present and not
// expired at now: the caller may change it without touching other
// requests' claims.
func (c *tokenCache) get(raw string, now time.Time) (*token.Claims, bool) {
	h := maphash.String(c.seed, raw)
	s := &c.shards[h%cacheShards]
	s.mu.RLock()
	e, ok := s.m[h]
	s.mu.RUnlock()
	if !ok || !now.Before(e.until) || !equalTokens(e.raw, raw) {
		return nil, false
	}
	return cloneClaims(e.claims), true
}

// put caches a copy of verified claims until until. A full shard drops its expired
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
	s.m[h] = cacheEntry{raw: raw, claims: cloneClaims(claims), until: until}
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

// claimsCopy holds a Claims and what its pointers point to, so a deep copy
// is one allocation (two with audience or roles).
type claimsCopy struct {
	c             token.Claims
	exp, nbf, iat jwt.NumericDate
}

// cloneClaims returns a deep copy of c: nothing in it is shared with c.
func cloneClaims(c *token.Claims) *token.Claims {
	cp := &claimsCopy{c: *c}
	if c.ExpiresAt != nil {
		cp.exp = *c.ExpiresAt
		cp.c.ExpiresAt = &cp.exp
	}
	if c.NotBefore != nil {
		cp.nbf = *c.NotBefore
		cp.c.NotBefore = &cp.nbf
	}
	if c.IssuedAt != nil {
		cp.iat = *c.IssuedAt
		cp.c.IssuedAt = &cp.iat
	}
	if n := len(c.Audience) + len(c.Roles); n > 0 {
		// One backing array; full slice expressions, so an append to one
		// cannot write into the other.
		strs := make([]string, 0, n)
		strs = append(append(strs, c.Audience...), c.Roles...)
		cp.c.Audience, cp.c.Roles = nil, nil
		if len(c.Audience) > 0 {
			cp.c.Audience = strs[:len(c.Audience):len(c.Audience)]
		}
		if len(c.Roles) > 0 {
			cp.c.Roles = strs[len(c.Audience):n:n]
		}
	}
	return &cp.c
}
