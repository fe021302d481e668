package token

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// KeyLookup finds the verification key for a kid ("" when the token has
// none). Implementations are safe for concurrent use.
type KeyLookup interface {
	Lookup(kid string) (*Key, bool)
}

// Verifier checks access tokens. Build one with NewVerifier; it is safe for
// concurrent use.
type Verifier struct {
	keys   KeyLookup
	parser *jwt.Parser
	// issuer is checked even when the token lacks iss, unless lax.
	issuer string
	lax    bool
	// requireIDs and maxLifetime bound what a stolen signing key can mint
	// unnoticed (see VerifierOptions).
	requireIDs  bool
	maxLifetime time.Duration
}

// VerifierOptions configure a Verifier.
type VerifierOptions struct {
	Issuer   string        // required iss, when set
	Audience string        // required aud, when set
	Leeway   time.Duration // allowed clock skew for exp, nbf and iat
	Now      func() time.Time
	// AllowMissingIssuerAndType accepts tokens without iss and with typ JWT,
	// as the tutorial mints them. It is meant only for the HS256 shared-secret
	// mode, where anyone holding the secret can mint any claims anyway.
	AllowMissingIssuerAndType bool
	// RequireSessionAndID refuses tokens without sid or jti. jwtgate's own
	// access tokens always carry both; a token without them cannot be
	// revoked by logout or by disabling its user, so only someone holding
	// the signing key outside jwtgate mints one. The one exception is a
	// client_credentials token (Claims.Machine): it names no user, so it
	// has no session, and its jti (still required) revokes it.
	RequireSessionAndID bool
	// MaxLifetime, when positive, refuses tokens without iat and tokens
	// whose exp - iat exceeds it plus Leeway: jwtgate never issues them, so
	// a ten-year token made with a stolen key is refused, not honoured.
	MaxLifetime time.Duration
}

// NewVerifier returns a Verifier that takes keys from keys and accepts only
// the algorithms listed (each key further pins its own).
func NewVerifier(keys KeyLookup, algs []string, o VerifierOptions) *Verifier {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods(algs),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(o.Leeway),
	}
	if o.Now != nil {
		opts = append(opts, jwt.WithTimeFunc(o.Now))
	}
	if o.Audience != "" {
		opts = append(opts, jwt.WithAudience(o.Audience))
	}
	if o.Issuer != "" && !o.AllowMissingIssuerAndType {
		opts = append(opts, jwt.WithIssuer(o.Issuer))
	}
	v := &Verifier{
		keys: keys, parser: jwt.NewParser(opts...), issuer: o.Issuer, lax: o.AllowMissingIssuerAndType,
		requireIDs: o.RequireSessionAndID,
	}
	if o.MaxLifetime > 0 {
		v.maxLifetime = o.MaxLifetime + o.Leeway
	}
	return v
}

// forbiddenHeaders are JOSE headers that point at keys or demand extensions.
// jwtgate never issues them; a token carrying one is forged or foreign, and
// following one would let the token choose its own key (RFC 8725 3.10).
var forbiddenHeaders = []string{"jku", "x5u", "jwk", "x5c", "crit"}

// Verify parses and checks raw, returning its claims. Errors wrap ErrInvalid
// and, where known, a more specific sentinel (ErrExpired, ErrUnknownKey, ...).
func (v *Verifier) Verify(raw string) (*Claims, error) {
	if len(raw) > MaxLen {
		return nil, fmt.Errorf("%w: %w (%d bytes)", ErrInvalid, ErrTooLarge, len(raw))
	}
	if err := checkStrict(raw); err != nil {
		return nil, fmt.Errorf("%w: %w: %v", ErrInvalid, ErrMalformedClaims, err)
	}
	c := new(Claims)
	_, err := v.parser.ParseWithClaims(raw, c, v.keyFor)
	if err != nil {
		return nil, classify(err)
	}
	if v.lax && c.Issuer != "" && v.issuer != "" && c.Issuer != v.issuer {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, ErrIssuer)
	}
	// A client_credentials token has no session, so only its jti can
	// revoke it; every token that names a user must carry both.
	if v.requireIDs && (c.ID == "" || (c.SessionID == "" && !c.Machine())) {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, ErrMissingIDs)
	}
	if v.maxLifetime > 0 && (c.IssuedAt == nil || c.ExpiresAt.Sub(c.IssuedAt.Time) > v.maxLifetime) {
		return nil, fmt.Errorf("%w: %w", ErrInvalid, ErrLifetime)
	}
	return c, nil
}

func (v *Verifier) keyFor(t *jwt.Token) (any, error) {
	for _, h := range forbiddenHeaders {
		if _, ok := t.Header[h]; ok {
			return nil, fmt.Errorf("%w %q", ErrForbiddenHeader, h)
		}
	}
	kid := ""
	if raw, ok := t.Header["kid"]; ok {
		s, ok := raw.(string)
		if !ok {
			return nil, fmt.Errorf("%w: kid is not a string", ErrUnknownKey)
		}
		kid = s
	}
	k, ok := v.keys.Lookup(kid)
	if !ok {
		return nil, ErrUnknownKey
	}
	if t.Method.Alg() != k.Alg {
		return nil, ErrAlgMismatch
	}
	typ, _ := t.Header["typ"].(string)
	if !isAccessTokenType(typ) && !(v.lax && (typ == "" || strings.EqualFold(typ, "JWT"))) {
		return nil, ErrWrongType
	}
	return k.public, nil
}

// isAccessTokenType accepts "at+jwt" and "application/at+jwt", any case (RFC 9068 2.1, RFC 7515 4.1.9).
func isAccessTokenType(typ string) bool {
	typ = strings.ToLower(typ)
	return typ == TypeAccessToken || typ == "application/"+TypeAccessToken
}

// classify maps golang-jwt's errors onto ours, keeping the cause's text.
func classify(err error) error {
	var specific error
	switch {
	case errors.Is(err, ErrUnknownKey), errors.Is(err, ErrAlgMismatch),
		errors.Is(err, ErrForbiddenHeader), errors.Is(err, ErrWrongType):
		return fmt.Errorf("%w: %w", ErrInvalid, err)
	case errors.Is(err, jwt.ErrTokenExpired):
		specific = ErrExpired
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		specific = ErrIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		specific = ErrAudience
	default:
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return fmt.Errorf("%w: %w", ErrInvalid, specific)
}

// KeySet is a fixed KeyLookup: a map by kid. Build it once; it is read-only.
type KeySet map[string]*Key

// Lookup implements KeyLookup.
func (s KeySet) Lookup(kid string) (*Key, bool) {
	k, ok := s[kid]
	return k, ok
}

// NewKeySet indexes keys by kid.
func NewKeySet(keys ...*Key) KeySet {
	s := make(KeySet, len(keys))
	for _, k := range keys {
		s[k.ID] = k
	}
	return s
}
