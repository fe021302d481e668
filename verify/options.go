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
	internal    string
	cookies     []string
	retryMin    time.Duration
	retryMax    time.Duration
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

// WithInternalURL makes New send its requests (discovery, keys,
// revocations) to base, such as "http://jwtgate.auth.svc:8000", instead of
// the issuer's public URL, which a service inside a cluster often cannot
// reach. Tokens must still carry the public issuer as iss, and the
// discovery document must still name it: only the transport changes. The
// document's jwks_uri, under the public issuer, is fetched at the same
// path under base (one on an origin allowed with WithJWKSOrigin is fetched
// as is). base is trusted like the issuer: use a network path only jwtgate
// can answer on.
func WithInternalURL(base string) Option { return func(c *config) { c.internal = base } }

// WithCookie lets Check and Handler take the token from the first of the
// named cookies a request carries when it has no Authorization header,
// for browser apps that share jwtgate's session cookie. jwtgate names it
// "jwtgate_access" with a plain http issuer, "__Host-jwtgate_access" with
// an https one, and "__Secure-jwtgate_access" with --cookie-domain, which
// makes it reach every host under that domain: a service under the
// cookie domain passes "__Secure-jwtgate_access". An
// Authorization header, even a malformed one, always wins. A state-changing
// request (POST, PUT, DELETE...) authenticated by cookie must not come
// from a browser on another origin (http.CrossOriginProtection): such a
// request gets ErrCrossOrigin, which Handler answers with 403, so a
// cross-site form cannot act with the user's cookie.
func WithCookie(names ...string) Option {
	return func(c *config) { c.cookies = append(c.cookies, names...) }
}

// WithDiscoveryRetry sets the backoff between New's attempts to reach an
// issuer that was down: the first wait is min, doubling up to max
// (defaults 1 second and 1 minute), each with ±20% jitter.
func WithDiscoveryRetry(min, max time.Duration) Option {
	return func(c *config) { c.retryMin, c.retryMax = min, max }
}

func newConfig(opts []Option) (*config, error) {
	c := &config{leeway: defaultLeeway, poll: defaultRevocationPoll, now: time.Now, retryMin: defaultRetryMin, retryMax: defaultRetryMax}
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
	if c.retryMin <= 0 || c.retryMax < c.retryMin {
		return nil, fmt.Errorf("verify: WithDiscoveryRetry(%v, %v): want 0 < min <= max", c.retryMin, c.retryMax)
	}
	for _, name := range c.cookies {
		if !isToken(name) {
			return nil, fmt.Errorf("verify: WithCookie(%q): not a cookie name", name)
		}
	}
	if c.internal != "" {
		if _, err := checkURL(c.internal); err != nil {
			return nil, fmt.Errorf("verify: WithInternalURL: %w", err)
		}
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
