// Package auth holds jwtgate's rules: who may log in, what a login creates,
// how a token is checked, and how users are managed. It depends on the
// domain interfaces and the token package, never on HTTP or SQL, so the
// server, the CLI and tests share one implementation of every rule.
package auth

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"log/slog"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/password"
	"github.com/jwtgate/jwtgate/token"
)

// Store is what the service needs from storage.
type Store interface {
	jwtgate.UserStore
	jwtgate.SessionStore
}

// Defaults for Options left zero.
const (
	DefaultAccessTTL  = 15 * time.Minute
	DefaultSessionTTL = 30 * 24 * time.Hour
	// MinPasswordLen follows NIST SP 800-63B: at least 8 characters for
	// user-chosen passwords.
	MinPasswordLen = 8
	// Leeway is the clock skew tolerated on exp, nbf and iat (RFC 8725
	// suggests "a small leeway"; a few seconds covers NTP-synced hosts).
	Leeway = 30 * time.Second
)

// Options configure a Service. Zero values take the defaults above.
type Options struct {
	Issuer     string
	Audience   string // set aud in tokens and require it when verifying
	AccessTTL  time.Duration
	SessionTTL time.Duration
	Hash       password.Params
	// Limiter bounds concurrent password hashes; nil means a default one.
	Limiter *password.Limiter
	// VerifyKeys are the keys tokens may be verified with; nil means only
	// the signing key.
	VerifyKeys token.KeyLookup
	Now        func() time.Time
	Logger     *slog.Logger
}

// Service applies jwtgate's rules. It is safe for concurrent use.
type Service struct {
	store    Store
	key      *token.Key // signs access tokens; nil in the CLI, which only manages users
	verifier *token.Verifier
	o        Options
	dummy    string // a hash of a random password, checked for unknown users
}

// New returns a Service that stores in store and signs with key (nil for a
// service that only manages users).
func New(store Store, key *token.Key, o Options) (*Service, error) {
	if o.AccessTTL == 0 {
		o.AccessTTL = DefaultAccessTTL
	}
	if o.SessionTTL == 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.Hash == (password.Params{}) {
		o.Hash = password.OWASP
	}
	if o.Limiter == nil {
		o.Limiter = password.NewLimiter(0, 0)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	dummy, err := password.Hash(randomPassword(), o.Hash)
	if err != nil {
		return nil, fmt.Errorf("auth: dummy hash: %w", err)
	}
	s := &Service{store: store, key: key, o: o, dummy: dummy}
	if key != nil {
		keys := o.VerifyKeys
		if keys == nil {
			keys = token.NewKeySet(key)
		}
		algs := []string{token.EdDSA, token.ES256, token.RS256}
		if key.Alg == token.HS256 {
			algs = []string{token.HS256}
		}
		s.verifier = token.NewVerifier(keys, algs, token.VerifierOptions{
			Issuer:   o.Issuer,
			Audience: o.Audience,
			Leeway:   Leeway,
			Now:      o.Now,
			// The tutorial's tokens carry neither iss nor typ at+jwt; with a
			// shared secret they are as trustworthy as ours (SPEC section 1).
			AllowMissingIssuerAndType: key.Alg == token.HS256,
		})
	}
	return s, nil
}

// AccessTTL is the lifetime of access tokens.
func (s *Service) AccessTTL() time.Duration { return s.o.AccessTTL }

// randomPassword returns 20 URL-safe random characters (120 bits).
func randomPassword() string {
	var b [15]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
