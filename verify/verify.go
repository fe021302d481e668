// Package verify lets any Go service accept the access tokens a jwtgate
// server issues: a Verifier checks a token's signature and claims, and its
// Handler is net/http middleware that demands "Authorization: Bearer" (or,
// with WithCookie, jwtgate's session cookie) and puts the verified claims
// in the request context.
//
// New configures a Verifier from the issuer URL alone: it reads the issuer's
// OpenID discovery document, fetches the JWK Set it names, caches the keys
// and follows the issuer's revocation feed. NewStatic uses one fixed public
// key or HS256 shared secret and no network.
//
// Only the standard library and jwtgate's token package are imported, so a
// service that uses this package does not pull in the server; the claims
// are this package's own type.
//
// # Starting before the issuer
//
// A service may start while jwtgate is down or unreachable. New tries the
// discovery document and keys once (within its context); if that fails it
// returns a working Verifier anyway, logs a warning and retries in the
// background with exponential backoff (1 s doubling to 1 min, with jitter;
// see WithDiscoveryRetry). Until the keys are known, Verify returns
// ErrUnavailable and Handler answers requests that carry a token with 503
// Service Unavailable and Retry-After, never 401: the token may well be
// valid, and a 401 would send clients to log in again against an issuer
// that is down. Requests without a token still get 401. Refused requests
// are logged (at most one line every 10 seconds), and once the issuer
// answers the service accepts tokens without a restart. Ready reports the
// state and Wait blocks until the keys are known, for services that would
// rather not start without them.
//
// # Keys
//
// The JWK Set is cached for the max-age of its Cache-Control header, clamped
// to between 1 minute and 24 hours (5 minutes without one). When the cache
// is stale the next Verify starts a refresh in the background and goes on
// with the keys it has. A token whose kid is not in the cache makes Verify
// refetch the set at once, at most once every 10 seconds whatever the
// number of such tokens (concurrent misses share one fetch), because the
// kid is chosen by whoever sent the token. A failed fetch keeps the keys
// already known. The algorithm is pinned by each key (EdDSA, ES256 or
// RS256); a token's jku, x5u, jwk, x5c and crit headers are never followed.
//
// Inside a cluster the issuer's public URL may not be reachable:
// WithInternalURL fetches discovery, keys and revocations from another base
// URL while tokens must still carry the public issuer as iss.
//
// # Revocation feed
//
// A Verifier made by New polls GET {issuer}/revocations every 2 seconds
// (see WithRevocationPolling) and rejects tokens whose session or token id
// was revoked, so a logout takes effect within seconds on every service. The
// feed's wire format, which the jwtgate server implements, is:
//
//	GET {issuer}/revocations?since=CURSOR
//
//	200 {"cursor": "<opaque string>",
//	     "revocations": [{"sid": "<session id>", "exp": <unix seconds>},
//	                     {"jti": "<token id>", "exp": <unix seconds>}]}
//
// Each entry has exactly one of sid and jti; exp is when the entry may be
// forgotten, because every token it could affect has expired by then. The
// first request has no since parameter and gets every unexpired entry;
// later requests pass the last cursor and get only newer entries. A 400
// answer means the cursor is no longer valid: the client starts over
// without one. Clients keep each entry until its exp plus their leeway.
package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtgate/jwtgate/token"
)

// Errors returned by Verify and Check. Every error they return wraps
// ErrUnauthenticated, and, where known, a more specific cause: ErrNoToken,
// ErrRevoked, ErrCrossOrigin, or one of the token package's errors
// (token.ErrExpired, token.ErrUnknownKey, token.ErrIssuer, ...) — except
// ErrUnavailable, which says nothing about the token. Check with errors.Is.
var (
	ErrUnauthenticated = errors.New("verify: unauthenticated")
	ErrNoToken         = errors.New("verify: no bearer token")
	ErrRevoked         = errors.New("verify: token revoked")
	// ErrCrossOrigin: a token from a cookie on a state-changing request
	// that a browser sent from another origin (Handler answers 403).
	ErrCrossOrigin = errors.New("verify: cross-origin request with a cookie")
	// ErrUnavailable: New's Verifier does not know the issuer's keys yet
	// (jwtgate was down or unreachable so far). Handler answers 503.
	ErrUnavailable = errors.New("verify: issuer keys not known yet")
)

// Defaults and limits, documented where they apply.
const (
	defaultLeeway          = 30 * time.Second
	defaultRevocationPoll  = 2 * time.Second
	defaultRequestTimeout  = 10 * time.Second
	minRefetchInterval     = 10 * time.Second
	defaultKeysMaxAge      = 5 * time.Minute
	minKeysMaxAge          = time.Minute
	maxKeysMaxAge          = 24 * time.Hour
	maxDiscoveryLen        = 1 << 20
	maxRevocationFeedLen   = 8 << 20
	maxRevocationCursorLen = 1 << 10
	defaultRetryMin        = time.Second
	defaultRetryMax        = time.Minute
	unavailableLogEvery    = 10 * time.Second
)

// Verifier checks jwtgate access tokens. Build one with New or NewStatic.
// All its methods are safe for concurrent use; Close stops its background
// work.
type Verifier struct {
	tv      *token.Verifier
	keys    *keyCache    // nil for NewStatic
	revs    *revocations // nil without revocation polling
	log     *slog.Logger
	cookies []string                    // WithCookie's names
	cop     *http.CrossOriginProtection // guards cookie-authenticated requests

	// ready is closed when the keys are known (at once for NewStatic);
	// lastErr is the latest discovery failure until then.
	ready   chan struct{}
	lastErr atomic.Pointer[error]
	lastLog atomic.Int64 // unix nanoseconds of the last ErrUnavailable log line

	stop      context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New returns a Verifier for the tokens of issuer, an http or https URL
// exactly as it appears in the tokens' iss claim (use https outside a
// laptop: keys and revocations travel over it).
//
// New reads issuer + "/.well-known/openid-configuration" (from
// WithInternalURL's base instead, if given), whose "issuer" must equal
// issuer exactly, then the JWK Set at its "jwks_uri", which must be on the
// issuer's scheme and host (or an origin allowed with WithJWKSOrigin): a
// discovery document that has been tampered with must not be able to send
// key fetching anywhere else. Unless WithRevocationPolling(0) is given, it
// then reads the revocation feed once, so a freshly started service
// already knows earlier logouts, and polls it in the background until
// Close (a failing read is logged; polling goes on).
//
// New returns an error only for a bad configuration. If the issuer cannot
// be read (down, unreachable, or answering something unusable), New logs
// a warning and returns a Verifier that keeps trying in the background;
// until it succeeds Verify returns ErrUnavailable (see the package
// documentation). ctx bounds only the first attempt, which New makes
// before it returns; background work lives until Close.
func New(ctx context.Context, issuer string, opts ...Option) (*Verifier, error) {
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if cfg.issuer != "" && cfg.issuer != issuer {
		return nil, fmt.Errorf("verify: WithIssuer(%q) contradicts New's issuer %q", cfg.issuer, issuer)
	}
	iss, err := checkURL(issuer)
	if err != nil {
		return nil, fmt.Errorf("verify: issuer: %w", err)
	}
	fetchBase := issuer
	if cfg.internal != "" {
		fetchBase = cfg.internal
	}
	fetchBase = strings.TrimSuffix(fetchBase, "/")
	f := newFetcher(cfg.client)

	base, stop := context.WithCancel(context.Background())
	v := &Verifier{log: cfg.log, stop: stop, ready: make(chan struct{}), cookies: cfg.cookies, cop: http.NewCrossOriginProtection()}
	v.keys = &keyCache{fetch: f, now: cfg.now, log: cfg.log, base: base, wg: &v.wg}
	v.tv = token.NewVerifier(v.keys, []string{token.EdDSA, token.ES256, token.RS256}, token.VerifierOptions{
		Issuer: issuer, Audience: cfg.audience, Leeway: cfg.leeway, Now: cfg.now,
	})
	if cfg.poll > 0 {
		v.revs = newRevocations(fetchBase+"/revocations", f, cfg.now, cfg.leeway, cfg.log)
	}
	d := &discoverer{v: v, f: f, issuer: issuer, iss: iss, fetchBase: fetchBase, allowed: cfg.jwksOrigins, poll: cfg.poll}
	if err := d.once(ctx); err != nil {
		v.lastErr.Store(&err)
		v.log.Warn("verify: cannot read the issuer's keys yet; requests with a token get 503 until it answers; retrying in the background",
			"issuer", issuer, "err", err)
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			d.retry(base, cfg.retryMin, cfg.retryMax)
		}()
	}
	return v, nil
}

// NewStatic returns a Verifier that checks tokens against key alone, with
// no network: a public key (token.ParsePublic; its kid must match the
// tokens') or an HS256 shared secret (token.Secret).
//
// With a public key, WithIssuer is required and every token must carry
// that iss and typ at+jwt, as jwtgate issues them. With a secret the checks
// are those of jwtgate's tutorial-compatible mode: tokens without iss and
// with typ JWT are accepted (anyone holding the secret can mint any claims
// anyway), and iss is checked only when both the token and WithIssuer have
// one. WithRevocationPolling, WithJWKSOrigin and WithInternalURL are
// refused: they need New.
func NewStatic(key *token.Key, opts ...Option) (*Verifier, error) {
	if key == nil {
		return nil, errors.New("verify: NewStatic needs a key")
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if cfg.pollSet && cfg.poll > 0 {
		return nil, errors.New("verify: WithRevocationPolling needs New (the feed is found from the issuer)")
	}
	if len(cfg.jwksOrigins) > 0 {
		return nil, errors.New("verify: WithJWKSOrigin needs New")
	}
	if cfg.internal != "" {
		return nil, errors.New("verify: WithInternalURL needs New")
	}
	lax := key.Alg == token.HS256
	if !lax && cfg.issuer == "" {
		return nil, errors.New("verify: NewStatic with a public key needs WithIssuer")
	}
	ready := make(chan struct{})
	close(ready)
	return &Verifier{
		tv: token.NewVerifier(token.NewKeySet(key), []string{key.Alg}, token.VerifierOptions{
			Issuer: cfg.issuer, Audience: cfg.audience, Leeway: cfg.leeway, Now: cfg.now,
			AllowMissingIssuerAndType: lax,
		}),
		log:     cfg.log,
		cookies: cfg.cookies,
		cop:     http.NewCrossOriginProtection(),
		ready:   ready,
		stop:    func() {},
	}, nil
}

// Verify checks raw, a compact JWS, and returns its claims. Errors wrap
// ErrUnauthenticated and the cause (see the package's error variables), or
// are ErrUnavailable while New's Verifier does not know the issuer's keys
// yet. A token with an unknown kid may make Verify refetch the issuer's
// keys; ctx bounds how long it waits for that. Verify is safe for
// concurrent use.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	var seen *keySet
	if v.keys != nil {
		if seen = v.keys.set.Load(); seen == nil {
			return nil, v.unavailable(ctx)
		}
		v.keys.refreshIfStale(seen)
	}
	c, err := v.tv.Verify(raw)
	if err != nil && v.keys != nil && errors.Is(err, token.ErrUnknownKey) && v.keys.refetch(ctx, seen) {
		c, err = v.tv.Verify(raw)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	if v.revs != nil {
		if err := v.revs.check(c.SessionID, c.ID); err != nil {
			return nil, err
		}
	}
	return claimsOf(c), nil
}

// unavailable logs, at most every unavailableLogEvery, that a token was
// refused for want of keys, and returns an error wrapping ErrUnavailable
// and the last discovery failure.
func (v *Verifier) unavailable(ctx context.Context) error {
	var last error = errors.New("no attempt finished yet")
	if p := v.lastErr.Load(); p != nil {
		last = *p
	}
	now := time.Now().UnixNano()
	if prev := v.lastLog.Load(); now-prev >= int64(unavailableLogEvery) && v.lastLog.CompareAndSwap(prev, now) {
		v.log.WarnContext(ctx, "verify: refusing tokens (503) until the issuer's keys are known", "last_err", last)
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, last)
}

// Ready returns nil once the Verifier knows the issuer's keys (always, for
// NewStatic), and otherwise an error wrapping ErrUnavailable and the last
// reason discovery failed.
func (v *Verifier) Ready() error {
	select {
	case <-v.ready:
		return nil
	default:
	}
	last := errors.New("no attempt finished yet")
	if p := v.lastErr.Load(); p != nil {
		last = *p
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, last)
}

// Wait blocks until the Verifier knows the issuer's keys or ctx ends; then
// it returns what Ready returns. A service that would rather not start
// without its issuer calls it after New with a deadline.
func (v *Verifier) Wait(ctx context.Context) error {
	select {
	case <-v.ready:
	case <-ctx.Done():
	}
	return v.Ready()
}

// Close stops background work (discovery retries, key refreshes and
// revocation polling) and waits for it to end. Verify keeps working after
// Close with the keys and revocations already known. Close always returns
// nil and may be called more than once.
func (v *Verifier) Close() error {
	v.closeOnce.Do(func() {
		if v.keys != nil {
			v.keys.close()
		}
		v.stop()
		v.wg.Wait()
	})
	return nil
}

// checkURL accepts absolute http and https URLs without user info, query or
// fragment.
func checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q is not an http or https URL", raw)
	}
	if u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, fmt.Errorf("%q must be a plain absolute URL (host, optional path)", raw)
	}
	return u, nil
}
