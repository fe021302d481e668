// Package auth holds jwtgate's rules: who may log in, what a login creates,
// how refresh tokens rotate and detect reuse, how tokens are checked and
// revoked, and how users and keys are managed. It depends on the domain
// interfaces and the token package, never on HTTP or SQL, so the server,
// the CLI and tests share one implementation of every rule.
package auth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/mfa"
	"github.com/jwtgate/jwtgate/internal/password"
	"github.com/jwtgate/jwtgate/internal/seal"
	"github.com/jwtgate/jwtgate/internal/throttle"
	"github.com/jwtgate/jwtgate/token"
)

// Defaults for Options left zero.
const (
	DefaultAccessTTL = 15 * time.Minute
	// MaxAccessTTL is the longest access-token lifetime a server may be
	// configured with. Access tokens are meant to be short-lived (RFC
	// 9068); the bound also lets a service that does not know the
	// servers' lifetime (the CLI) keep revocations long enough.
	MaxAccessTTL          = 24 * time.Hour
	DefaultSessionTTL     = 30 * 24 * time.Hour
	DefaultSessionIdleTTL = 7 * 24 * time.Hour
	// DefaultRefreshGrace is how long a spent refresh token still yields its
	// successor (two tabs refreshing at once, a retried request) before a
	// reuse is treated as theft.
	DefaultRefreshGrace = 10 * time.Second
	// MinPasswordLen follows NIST SP 800-63B: at least 8 characters for
	// user-chosen passwords.
	MinPasswordLen = 8
	// DefaultMaxSessionsPerUser is the default cap on a user's live
	// sessions: far more devices than a person has, few enough that a
	// script or an attacker with the password logging in again and again
	// cannot grow the session table (and each session list) without bound.
	DefaultMaxSessionsPerUser = 100
	// Leeway is the clock skew tolerated on exp, nbf and iat (RFC 8725
	// suggests "a small leeway"; 30 s covers NTP-synced hosts).
	Leeway = 30 * time.Second
)

// Options configure a Service. Zero values take the defaults above.
type Options struct {
	Issuer   string
	Audience string // set aud in tokens and require it when verifying
	// AccessTTL is the lifetime of access tokens. A service made without
	// keys (the CLI's) signs none and does not know the servers' setting:
	// left zero, it keeps the revocations it makes for MaxAccessTTL, which
	// outlasts any token a server may have issued.
	AccessTTL      time.Duration
	SessionTTL     time.Duration // absolute session lifetime
	SessionIdleTTL time.Duration // a session unused this long ends
	RefreshGrace   time.Duration
	Hash           password.Params
	// Limiter bounds concurrent password hashes; nil means a default one.
	Limiter *password.Limiter
	// Revocations is the instance's revocation set; nil means a new one.
	Revocations *Revocations
	// PairLimiter, IPLimiter and AccountLimiter throttle failed logins per
	// account and client address together, per client address, and per
	// account from everywhere; DeviceLimiter per device cookie (see
	// throttle.go). Nil means in-memory ones with the default policies
	// (throttle.DefaultPairPolicy and so on).
	PairLimiter, IPLimiter, AccountLimiter, DeviceLimiter throttle.Limiter
	// MaxSessionsPerUser caps a user's live sessions: a login beyond it
	// ends the user's least recently used sessions. Zero means
	// DefaultMaxSessionsPerUser; negative means no cap.
	MaxSessionsPerUser int
	// Sealer seals the refresh-token key at rest; nil stores it plain.
	Sealer *seal.Sealer
	// Observer counts outcomes for metrics; nil counts nothing.
	Observer Observer
	// AllowLogin, if set, is asked after a right password whether u may
	// have a session now; an error refuses the login with that error (an
	// unverified email address, in internal/accounts). It is asked only
	// after the password, so its answer reveals nothing to a guesser.
	AllowLogin func(ctx context.Context, u *jwtgate.User) error
	// MFAAccountLimiter and MFAIPLimiter throttle wrong second-factor
	// codes per account and per client address; nil means in-memory ones
	// (one instance: servers sharing a store pass shared ones). TOTP
	// secrets are sealed with Sealer.
	MFAAccountLimiter, MFAIPLimiter throttle.Limiter
	// RequireMFAFor are roles whose users must log in with a second
	// factor: their tokens without amr "mfa" reach only enrolment
	// (RequiresMFA).
	RequireMFAFor []string
	Now           func() time.Time
	Logger        *slog.Logger
}

// Service applies jwtgate's rules. It is safe for concurrent use.
type Service struct {
	store      jwtgate.Store
	keys       Keys // nil in the CLI, which only manages users
	verifier   *token.Verifier
	revs       *Revocations
	refreshKey []byte // HMAC key deriving a refresh token's successor
	deviceKey  []byte // HMAC key of device cookies (device.go); nil without keys
	cache      *tokenCache
	mfa        *mfa.Service
	// sharedSecret: tokens are HS256 with the tutorial's secret.
	sharedSecret bool
	o            Options
	// dummy is checked for unknown users, so they cost what a wrong
	// password costs (password.Dummy).
	dummy string
}

// New returns a Service over store that signs and verifies with keys (nil
// for a service that only manages users and sessions).
func New(ctx context.Context, store jwtgate.Store, keys Keys, o Options) (*Service, error) {
	switch {
	case o.AccessTTL == 0 && keys == nil:
		o.AccessTTL = MaxAccessTTL
	case o.AccessTTL == 0:
		o.AccessTTL = DefaultAccessTTL
	}
	if o.SessionTTL == 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.SessionIdleTTL == 0 {
		o.SessionIdleTTL = DefaultSessionIdleTTL
	}
	if o.RefreshGrace == 0 {
		o.RefreshGrace = DefaultRefreshGrace
	}
	if o.Hash == (password.Params{}) {
		o.Hash = password.OWASP
	}
	if o.Limiter == nil {
		o.Limiter = password.NewLimiter(0, 0, 0)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Observer == nil {
		o.Observer = nopObserver{}
	}
	if o.Revocations == nil {
		o.Revocations = NewRevocations(store, o.Now)
	}
	if o.PairLimiter == nil {
		o.PairLimiter = throttle.NewMemory(throttle.DefaultPairPolicy, o.Now)
	}
	if o.IPLimiter == nil {
		o.IPLimiter = throttle.NewMemory(throttle.DefaultIPPolicy, o.Now)
	}
	if o.AccountLimiter == nil {
		o.AccountLimiter = throttle.NewMemory(throttle.DefaultAccountWidePolicy, o.Now)
	}
	if o.DeviceLimiter == nil {
		o.DeviceLimiter = throttle.NewMemory(throttle.DefaultDevicePolicy, o.Now)
	}
	if o.MaxSessionsPerUser == 0 {
		o.MaxSessionsPerUser = DefaultMaxSessionsPerUser
	}
	if err := password.Validate(o.Hash); err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	s := &Service{store: store, keys: keys, revs: o.Revocations, o: o, dummy: password.Dummy(o.Hash), cache: newTokenCache(tokenCacheSize)}
	s.mfa = mfa.New(store, mfa.Options{Issuer: IssuerLabel(o.Issuer), Sealer: o.Sealer, Now: o.Now, Audit: s.audit,
		AccountLimiter: o.MFAAccountLimiter, IPLimiter: o.MFAIPLimiter})
	if keys == nil {
		return s, nil
	}
	var err error
	if s.refreshKey, err = loadSecret(ctx, store, o.Sealer, "refresh-successor", o.Now()); err != nil {
		return nil, err
	}
	if s.deviceKey, err = loadSecret(ctx, store, o.Sealer, "device-cookie", o.Now()); err != nil {
		return nil, err
	}
	algs := []string{token.EdDSA, token.ES256, token.RS256}
	lax := false
	if _, ok := keys.(StaticKey); ok {
		algs = []string{token.HS256}
		s.sharedSecret = true
		// The tutorial's tokens carry neither iss nor typ at+jwt; with a
		// shared secret they are as trustworthy as ours (SPEC section 1).
		lax = true
	}
	s.verifier = token.NewVerifier(keys, algs, token.VerifierOptions{
		Issuer: o.Issuer, Audience: o.Audience, Leeway: Leeway, Now: o.Now,
		AllowMissingIssuerAndType: lax,
		// jwtgate's own tokens always have sid and jti and live AccessTTL;
		// anything else was minted with a stolen key (issue 17 §1).
		RequireSessionAndID: !lax,
		MaxLifetime:         maxLifetime(lax, o.AccessTTL),
	})
	return s, nil
}

// IssuerLabel is how authenticator apps name this server: the host of
// the issuer URL (what a user recognises), or the issuer as it is.
func IssuerLabel(issuer string) string {
	if u, err := url.Parse(issuer); err == nil && u.Host != "" {
		return u.Host
	}
	if issuer == "" {
		return "jwtgate"
	}
	return issuer
}

// maxLifetime is the longest exp - iat accepted: AccessTTL with keys of
// our own, unbounded with the tutorial's shared secret (its tokens live
// as long as the tutorial app chose).
func maxLifetime(sharedSecret bool, accessTTL time.Duration) time.Duration {
	if sharedSecret {
		return 0
	}
	return accessTTL
}

// tokenCacheSize bounds the verified-token cache: 64k entries of about
// 1 KiB each at most.
const tokenCacheSize = 1 << 16

// loadSecret returns the named server secret, creating it on first use.
func loadSecret(ctx context.Context, store jwtgate.KeyStore, sealer *seal.Sealer, name string, now time.Time) ([]byte, error) {
	fresh := make([]byte, 32)
	_, _ = rand.Read(fresh)
	stored, err := store.EnsureSecret(ctx, name, sealer.Seal(fresh, []byte(name)), now)
	if err != nil {
		return nil, fmt.Errorf("auth: secret %s: %w", name, err)
	}
	v, err := sealer.Open(stored, []byte(name))
	if err != nil {
		return nil, fmt.Errorf("auth: secret %s: %w", name, err)
	}
	return v, nil
}

// AccessTTL is the lifetime of access tokens.
func (s *Service) AccessTTL() time.Duration { return s.o.AccessTTL }

// SessionIdleTTL is how long an unused session lives (the refresh cookie's lifetime).
func (s *Service) SessionIdleTTL() time.Duration { return s.o.SessionIdleTTL }

// HashQueue reports how many password hashes are running or waiting.
func (s *Service) HashQueue() int { return s.o.Limiter.Waiting() }

// Revocations is the service's revocation set, for the feed and for Sync.
func (s *Service) Revocations() *Revocations { return s.revs }

// randomPassword returns 20 URL-safe random characters (120 bits).
func randomPassword() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
