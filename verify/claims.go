package verify

import (
	"slices"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/token"
)

// Claims are the claims of a verified jwtgate access token. They are this
// package's own type, plain Go values, so a service's code depends on no
// JWT library's types (and on none of their versions).
type Claims struct {
	Issuer    string    // iss: the issuer URL the Verifier was built for
	Subject   string    // sub: the user's stable id, as a string
	Audience  []string  // aud: empty unless the issuer sets --audience
	ExpiresAt time.Time // exp
	IssuedAt  time.Time // iat; zero if absent
	NotBefore time.Time // nbf; zero if absent
	ID        string    // jti: this token's id
	SessionID string    // sid: the login session it belongs to
	UserID    int64     // id: the user's id (the tutorial's claim)
	Name      string    // name: the user's name
	Roles     []string  // roles
	// ClientID and Scope are set on tokens jwtgate issued to an OpenID
	// Connect client (RFC 9068): the client, and the space-separated
	// scopes the user granted it. A client_credentials token has a
	// ClientID and no user (Subject is the client_id, UserID 0).
	ClientID string
	Scope    string
	// AMR are how the user signed in (RFC 8176): "pwd" for a password,
	// "otp" for a code, "hwk"/"swk" for a passkey or security key, "user"
	// for the authenticator's user verification, and "mfa" when two
	// factors were used. Refreshed tokens keep their login's values.
	AMR []string
}

// HasScope reports whether the token was granted scope (a client's token;
// jwtgate's own tokens carry no scope).
func (c *Claims) HasScope(scope string) bool { return slices.Contains(strings.Fields(c.Scope), scope) }

// HasRole reports whether the token grants role.
func (c *Claims) HasRole(role string) bool { return slices.Contains(c.Roles, role) }

// HasAMR reports whether the login used method, an RFC 8176 amr value
// such as "mfa".
func (c *Claims) HasAMR(method string) bool { return slices.Contains(c.AMR, method) }

// claimsOf copies the token package's claims into a Claims.
func claimsOf(t *token.Claims) *Claims {
	c := &Claims{
		Issuer:    t.Issuer,
		Subject:   t.Subject,
		Audience:  t.Audience,
		ID:        t.ID,
		SessionID: t.SessionID,
		UserID:    t.UserID,
		Name:      t.Name,
		Roles:     t.Roles,
		ClientID:  t.ClientID,
		Scope:     t.Scope,
		AMR:       t.AMR,
	}
	if t.ExpiresAt != nil {
		c.ExpiresAt = t.ExpiresAt.Time
	}
	if t.IssuedAt != nil {
		c.IssuedAt = t.IssuedAt.Time
	}
	if t.NotBefore != nil {
		c.NotBefore = t.NotBefore.Time
	}
	return c
}
