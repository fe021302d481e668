// Package verify lets any Go service accept the access tokens a jwtgate
// server issues: a Verifier checks a token's signature and claims, and its
// Handler is net/http middleware that demands "Authorization: Bearer" and
// puts the verified claims in the request context.
//
// New configures a Verifier from the issuer URL alone: it reads the issuer's
// OpenID discovery document, fetches the JWK Set it names, caches the keys
// and follows the issuer's revocation feed. NewStatic uses one fixed public
// key or HS256 shared secret and no network.
//
// Only the standard library and jwtgate's token package are imported, so a
// service that uses this package does not pull in the server.
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
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jwtgate/jwtgate/token"
)

// Claims are the claims of a verified access token.
type Claims = token.Claims

// Errors returned by Verify and Check. Every error they return wraps
// ErrUnauthenticated, and, where known, a more specific cause: ErrNoToken,
// ErrRevoked, or one of the token package's errors (token.ErrExpired,
// token.ErrUnknownKey, token.ErrIssuer, ...). Check with errors.Is.
var (
	ErrUnauthenticated = errors.New("verify: unauthenticated")
	ErrNoToken         = errors.New("verify: no bearer token")
	ErrRevoked         = errors.New("verify: token revoked")
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
)

// Verifier checks jwtgate access tokens. Build one with New or NewStatic.
// All its methods are safe for concurrent use; Close stops its background
// work.
type Verifier struct {
	tv   *token.Verifier
	keys *keyCache    // nil for NewStatic
	revs *revocations // nil without revocation polling
	log  *slog.Logger

	stop      context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New returns a Verifier for the tokens of issuer, an http or https URL
// exactly as it appears in the tokens' iss claim (use https outside a
// laptop: keys and revocations travel over it).
//
// New reads issuer + "/.well-known/openid-configuration", whose "issuer"
// must equal issuer exactly, then the JWK Set at its "jwks_uri", which must
// be on the issuer's scheme and host (or an origin allowed with
// WithJWKSOrigin): a discovery document that has been tampered with must
// not be able to send key fetching anywhere else. New fails if either
// fetch fails or the set has no usable key, so a service that cannot
// verify anything does not start.
//
// Unless WithRevocationPolling(0) is given, New also reads the revocation
// feed once before it returns, so a freshly started service already knows
// earlier logouts, then polls it in the background until Close. A failing
// first read does not fail New (a server without the feed still issues
// valid tokens); it is logged, and polling goes on.
//
// ctx bounds only the requests New makes itself; background work lives
// until Close.
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
	f := newFetcher(cfg.client)
	jwksURL, err := discover(ctx, f, issuer, iss, cfg.jwksOrigins)
	if err != nil {
		return nil, err
	}

	base, stop := context.WithCancel(context.Background())
	v := &Verifier{log: cfg.log, stop: stop}
	v.keys = &keyCache{url: jwksURL, fetch: f, now: cfg.now, log: cfg.log, base: base, wg: &v.wg}
	if err := v.keys.init(ctx); err != nil {
		stop()
		return nil, err
	}
	v.tv = token.NewVerifier(v.keys, []string{token.EdDSA, token.ES256, token.RS256}, token.VerifierOptions{
		Issuer: issuer, Audience: cfg.audience, Leeway: cfg.leeway, Now: cfg.now,
	})
	if cfg.poll > 0 {
		v.revs = newRevocations(strings.TrimSuffix(issuer, "/")+"/revocations", f, cfg.now, cfg.leeway, cfg.log)
		v.revs.pollAndLog(ctx)
		v.wg.Add(1)
		go func() {
			defer v.wg.Done()
			v.revs.run(base, cfg.poll)
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
// one. WithRevocationPolling is refused: the feed needs New.
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
	lax := key.Alg == token.HS256
	if !lax && cfg.issuer == "" {
		return nil, errors.New("verify: NewStatic with a public key needs WithIssuer")
	}
	return &Verifier{
		tv: token.NewVerifier(token.NewKeySet(key), []string{key.Alg}, token.VerifierOptions{
			Issuer: cfg.issuer, Audience: cfg.audience, Leeway: cfg.leeway, Now: cfg.now,
			AllowMissingIssuerAndType: lax,
		}),
		log:  cfg.log,
		stop: func() {},
	}, nil
}

// Verify checks raw, a compact JWS, and returns its claims. Errors wrap
// ErrUnauthenticated and the cause (see the package's error variables). A
// token with an unknown kid may make Verify refetch the issuer's keys; ctx
// bounds how long it waits for that. Verify is safe for concurrent use.
func (v *Verifier) Verify(ctx context.Context, raw string) (*Claims, error) {
	var seen *keySet
	if v.keys != nil {
		seen = v.keys.refreshIfStale()
	}
	c, err := v.tv.Verify(raw)
	if err != nil && v.keys != nil && errors.Is(err, token.ErrUnknownKey) && v.keys.refetch(ctx, seen) {
		c, err = v.tv.Verify(raw)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnauthenticated, err)
	}
	if v.revs != nil {
		if err := v.revs.check(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Close stops background work (key refreshes and revocation polling) and
// waits for it to end. Verify keeps working after Close with the keys and
// revocations already known. Close always returns nil and may be called
// more than once.
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
