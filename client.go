package jwtgate

import (
	"context"
	"time"
)

// Client is an application registered to sign users in over OpenID
// Connect (jwtgate client add).
type Client struct {
	ID   string // client_id: random, URL-safe, never reused
	Name string // unique, for people and the CLI
	// SecretHash is the SHA-256 of a confidential client's secret (256
	// random bits, so a fast hash suffices); empty for a public client.
	SecretHash []byte
	Public     bool // no secret; PKCE is required
	// RedirectURIs are matched exactly (loopback ports aside, RFC 8252).
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	// Scopes the client may ask for; empty means the standard ones.
	Scopes []string
	// Trusted clients skip the consent page (first-party apps).
	Trusted bool
	// IDTokenAlg is the client's id_token_signed_response_alg; "" = RS256.
	IDTokenAlg string
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// ClientStore keeps OpenID Connect clients. Implementations are safe for
// concurrent use.
type ClientStore interface {
	// CreateClient stores c. ErrConflict if its ID or name is taken.
	CreateClient(ctx context.Context, c *Client) error
	// Client finds a client by ID; ErrNotFound if none.
	Client(ctx context.Context, id string) (*Client, error)
	// Clients returns every client, ordered by name.
	Clients(ctx context.Context) ([]Client, error)
	// SetClientSecret replaces a client's secret hash; ErrNotFound if none.
	SetClientSecret(ctx context.Context, id string, hash []byte, at time.Time) error
	// DeleteClient removes a client; ErrNotFound if none.
	DeleteClient(ctx context.Context, id string) error
}
