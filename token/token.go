// Package token issues and verifies jwtgate's access tokens: JWTs (RFC 7519)
// shaped by the RFC 9068 profile, signed with EdDSA, ES256, RS256 or, for the
// tutorial-compatible mode, HS256 with a shared secret.
//
// It is pure: no storage, no HTTP. Verification follows RFC 8725: the
// algorithm is pinned by the key the kid selects, never taken from the token;
// exp is required; oversized tokens are refused before any parsing; tokens
// that carry jku, x5u, jwk, x5c or crit headers are refused outright.
package token

import (
	"crypto/rand"
	"encoding/base64"
	"errors"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the claims of an access token. The tutorial's clients read "id"
// and "name"; everything else follows RFC 9068.
type Claims struct {
	jwt.RegisteredClaims
	UserID    int64    `json:"id"`
	Name      string   `json:"name"`
	SessionID string   `json:"sid,omitempty"`
	Roles     []string `json:"roles,omitempty"`
	// AMR are the authentication methods of the login (RFC 8176): "pwd",
	// "otp", "hwk"/"swk", "user", and "mfa" when two factors were used.
	// Services that demand a second factor look for "mfa".
	AMR []string `json:"amr,omitempty"`
	// ClientID and Scope are set on tokens issued to an OpenID Connect
	// client (RFC 9068 section 2.2): the client it was issued to and the
	// space-separated scopes granted.
	ClientID string `json:"client_id,omitempty"`
	Scope    string `json:"scope,omitempty"`
}

// HasAMR reports whether the token's login used method (an RFC 8176 amr
// value such as "mfa").
func (c *Claims) HasAMR(method string) bool {
	for _, m := range c.AMR {
		if m == method {
			return true
		}
	}
	return false
}

// Machine reports whether c is a client_credentials token: issued to a
// client for itself, with no user and no session (RFC 9068 section 2.2:
// sub is then the client_id).
func (c *Claims) Machine() bool {
	return c.ClientID != "" && c.UserID == 0 && c.SessionID == "" && c.Subject == c.ClientID
}

// TypeAccessToken is the JWS "typ" of access tokens (RFC 9068 section 2.1).
const TypeAccessToken = "at+jwt"

// MaxLen is the largest token accepted, in bytes. Ours are under 1 KiB; the
// bound stops a hostile 1 MiB header from reaching base64 or JSON decoding.
const MaxLen = 8 << 10

// Errors returned by Verify, wrapped; check with errors.Is.
var (
	ErrInvalid         = errors.New("token: invalid")
	ErrTooLarge        = errors.New("token: too large")
	ErrUnknownKey      = errors.New("token: unknown key")
	ErrAlgMismatch     = errors.New("token: algorithm does not match key")
	ErrForbiddenHeader = errors.New("token: forbidden header")
	ErrWrongType       = errors.New("token: wrong typ")
	ErrExpired         = errors.New("token: expired")
	ErrIssuer          = errors.New("token: wrong issuer")
	ErrAudience        = errors.New("token: wrong audience")
	ErrMissingIDs      = errors.New("token: no sid or jti")
	ErrLifetime        = errors.New("token: lifetime longer than this issuer grants")
)

// NewID returns a random 128-bit identifier, base64url without padding, for
// jti and sid values.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b[:])
}
