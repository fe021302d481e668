package verify

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"
)

// Option configures New or NewStatic.
type Option func(*config)

type config struct {
	issuer      string
	audience    string
	client      *http.Client
	leeway      time.Duration
	poll        time.Duration
	pollSet     bool
	now         func() time.Time
	log         *slog.Logger
	jwksOrigins []string
}

// WithAudience requires tokens to list aud among their audiences (jwtgate's
// --audience).
func WithAudience(aud string) Option { return func(c *config) { c.audience = aud } }

// WithIssuer sets the iss tokens must carry, for NewStatic. New takes the
// issuer as an argument; giving New a different one is an error.
func WithIssuer(iss string) Option { return func(c *config) { c.issuer = iss } }

// WithHTTPClient sets the client for discovery, key and revocation requests
// (default: a client with a 10-second timeout). Its CheckRedirect is
// replaced by one that follows redirects only within the same origin, and
// every request is also bounded by a 10-second deadline.
func WithHTTPClient(hc *http.Client) Option { return func(c *config) { c.client = hc } }

// WithLeeway sets the clock skew allowed when checking exp, nbf and iat
// (default 30 seconds). Revocations are also kept this much longer than
// their exp.
func WithLeeway(d time.Duration) Option { return func(c *config) { c.leeway = d } }

// WithRevocationPolling sets how often New's Verifier polls the issuer's
// revocation feed (default 2 seconds); 0 turns the feed off. NewStatic
// refuses a non-zero interval.
func WithRevocationPolling(interval time.Duration) Option {
	return func(c *config) { c.poll, c.pollSet = interval, true }
}

// WithClock sets the clock used for token times, key cache lifetimes, the
// refetch rate limit and revocation expiry (default time.Now). Tests use it.
func WithClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

// WithLogger sets where background problems (an unreachable revocation
// feed, a failed key refresh) are logged (default slog.Default()). Rejected
// tokens are logged only at debug level.
func WithLogger(l *slog.Logger) Option { return func(c *config) { c.log = l } }

// WithJWKSOrigin allows New to fetch keys from origin (scheme://host[:port],
// such as "https://keys.example.com") when the issuer's discovery document
// points its jwks_uri there. Without it the jwks_uri must be on the
// issuer's own origin.
func WithJWKSOrigin(origin string) Option {
	return func(c *config) { c.jwksOrigins = append(c.jwksOrigins, origin) }
}

func newConfig(opts []Option) (*config, error) {
	c := &config{leeway: defaultLeeway, poll: defaultRevocationPoll, now: time.Now}
	for _, o := range opts {
		o(c)
	}
	if c.leeway < 0 {
		return nil, fmt.Errorf("verify: negative leeway %v", c.leeway)
	}
	if c.poll < 0 {
		return nil, fmt.Errorf("verify: negative revocation polling interval %v", c.poll)
	}
	if c.now == nil {
		return nil, errors.New("verify: WithClock(nil)")
	}
	if c.log == nil {
		c.log = slog.Default()
	}
	for i, o := range c.jwksOrigins {
		u, err := checkURL(o)
		if err != nil || (u.Path != "" && u.Path != "/") {
			return nil, fmt.Errorf("verify: WithJWKSOrigin(%q): want scheme://host[:port]", o)
		}
		c.jwksOrigins[i] = origin(u)
	}
	return c, nil
}
