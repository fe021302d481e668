package verify

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtgate/jwtgate/token"
)

// keyCache is the issuer's JWK Set as a token.KeyLookup. Readers load an
// immutable keySet through an atomic pointer, so Verify takes no lock and
// allocates nothing here; fetches replace the whole set.
type keyCache struct {
	url   string // set by publish, under mu
	fetch *fetcher
	now   func() time.Time
	log   *slog.Logger
	base  context.Context // the Verifier's lifetime; fetches run under it
	wg    *sync.WaitGroup

	set     atomic.Pointer[keySet]
	nextTry atomic.Int64 // unix nanoseconds before which no fetch may start

	mu     sync.Mutex
	flight *flight // the fetch in progress, if any
	closed bool
}

type keySet struct {
	keys    token.KeySet
	staleAt time.Time
}

// flight is one fetch; done is closed when it ends.
type flight struct {
	done chan struct{}
}

// Lookup implements token.KeyLookup.
func (c *keyCache) Lookup(kid string) (*token.Key, bool) {
	s := c.set.Load()
	if s == nil {
		return nil, false
	}
	k, ok := s.keys[kid]
	return k, ok
}

// publish makes s, loaded from u at now, the set Verify uses; fetches from
// then on read u. It is called once, when discovery first succeeds.
func (c *keyCache) publish(u string, s *keySet, now time.Time) {
	c.mu.Lock()
	c.url = u
	c.mu.Unlock()
	c.nextTry.Store(now.Add(minRefetchInterval).UnixNano())
	c.set.Store(s)
}

// load fetches and parses the JWK Set at u.
func (c *keyCache) load(ctx context.Context, u string, now time.Time) (*keySet, error) {
	body, h, err := c.fetch.get(ctx, u, token.MaxJWKSLen)
	if err != nil {
		return nil, fmt.Errorf("fetch keys: %w", err)
	}
	keys, err := token.ParseJWKS(body)
	if err != nil {
		return nil, fmt.Errorf("keys from %s: %w", u, err)
	}
	if len(keys) == 0 {
		// A shared-secret server publishes none: use NewStatic with the secret.
		return nil, fmt.Errorf("keys from %s: no usable EdDSA, ES256 or RS256 key", u)
	}
	return &keySet{keys: token.NewKeySet(keys...), staleAt: now.Add(maxAge(h))}, nil
}

// refreshIfStale starts a background fetch if s, the current set, is past
// its max-age and the rate limit allows one. The hot path is an atomic
// load and a clock read.
func (c *keyCache) refreshIfStale(s *keySet) {
	if now := c.now(); now.After(s.staleAt) && now.UnixNano() >= c.nextTry.Load() {
		c.start(now)
	}
}

// refetch is called after a token named a kid not in seen, the set Verify
// used. It waits (within ctx) for a fetch, starting one unless the rate
// limit forbids it, and reports whether the set changed since seen, so
// Verify knows whether a retry can succeed.
func (c *keyCache) refetch(ctx context.Context, seen *keySet) bool {
	if f := c.start(c.now()); f != nil {
		select {
		case <-f.done:
		case <-ctx.Done():
		}
	}
	return c.set.Load() != seen
}

// start returns the fetch in progress, or starts one if none ran in the
// last minRefetchInterval; otherwise it returns nil.
func (c *keyCache) start(now time.Time) *flight {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.flight != nil {
		return c.flight
	}
	if c.closed || now.UnixNano() < c.nextTry.Load() {
		return nil
	}
	c.nextTry.Store(now.Add(minRefetchInterval).UnixNano())
	f := &flight{done: make(chan struct{})}
	c.flight = f
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		// The fetch runs under the Verifier's context, not a request's: a
		// caller that gives up must not cancel the fetch others wait on.
		c.mu.Lock()
		u := c.url
		c.mu.Unlock()
		s, err := c.load(c.base, u, now)
		if err != nil {
			if c.base.Err() == nil {
				c.log.Warn("verify: key refresh failed; keeping the keys already known", "err", err)
			}
		} else {
			c.set.Store(s)
			c.log.Debug("verify: keys refreshed", "url", u, "keys", len(s.keys), "max_age", s.staleAt.Sub(now))
		}
		c.mu.Lock()
		c.flight = nil
		c.mu.Unlock()
		close(f.done)
	}()
	return f
}

// close stops new fetches from starting; the Verifier waits for running
// ones.
func (c *keyCache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
}

// maxAge is how long a JWK Set response may be used: its Cache-Control
// max-age less its Age (RFC 9111 section 4.2), clamped to
// [minKeysMaxAge, maxKeysMaxAge]; defaultKeysMaxAge without one. no-store
// and no-cache give the minimum: refetching every request would let token
// traffic drive traffic to the issuer.
func maxAge(h http.Header) time.Duration {
	d, ok := time.Duration(0), false
	for _, v := range h.Values("Cache-Control") {
		for dir := range strings.SplitSeq(v, ",") {
			name, val, _ := strings.Cut(strings.TrimSpace(dir), "=")
			switch strings.ToLower(name) {
			case "no-store", "no-cache":
				return minKeysMaxAge
			case "max-age":
				n, err := strconv.ParseInt(strings.Trim(val, `"`), 10, 64)
				if err != nil || n < 0 {
					continue
				}
				d, ok = time.Duration(min(n, int64(maxKeysMaxAge/time.Second)))*time.Second, true
			}
		}
	}
	if !ok {
		return defaultKeysMaxAge
	}
	if age, err := strconv.ParseInt(h.Get("Age"), 10, 64); err == nil && age > 0 {
		d -= time.Duration(min(age, int64(maxKeysMaxAge/time.Second))) * time.Second
	}
	return min(max(d, minKeysMaxAge), maxKeysMaxAge)
}

var _ token.KeyLookup = (*keyCache)(nil)
