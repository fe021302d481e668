package jwtgate

import (
	"context"
	"time"
)

// AuthRequest is one OpenID Connect authorization request, kept from the
// authorization endpoint until its code is redeemed (or it expires). It is
// stored, not held in memory, so that any instance sharing the store can
// continue it after the login page and redeem its code.
type AuthRequest struct {
	ID          string // random, URL-safe; names the request in the login round trip
	ClientID    string
	RedirectURI string // as sent, already matched against the client's
	Scopes      []string
	State       string // returned untouched
	Nonce       string // copied into the id_token
	// CodeChallenge is the PKCE challenge (RFC 7636); the method is always
	// S256 when set: plain is refused before a request is stored.
	CodeChallenge string
	ResponseMode  string   // "" (query) or "form_post"
	Prompt        []string // none, login, consent
	MaxAge        int64    // seconds; -1 when the client sent none
	LoginHint     string
	// HintSubject is the sub of the request's id_token_hint, verified when
	// the request was stored ("" without one): the user the client
	// expects, checked against the browser's session when the flow
	// continues (OpenID Connect Core section 3.1.2.1).
	HintSubject string
	CreatedAt   time.Time
	ExpiresAt   time.Time // the user must finish logging in by then

	// Set once the user has authenticated and consented (Complete).
	UserID    int64
	SessionID string    // the browser session that authenticated
	AuthTime  time.Time // when that session's user last entered credentials
	AMR       []string
	// CodeHash is the SHA-256 of the authorization code issued for the
	// request; the code itself is never stored.
	CodeHash      []byte
	CodeExpiresAt time.Time
	// CodeUsedAt is set by the code's first redemption, together with
	// IssuedSessionID, the session that redemption created: a second
	// redemption revokes it (RFC 6749 section 4.1.2).
	CodeUsedAt      *time.Time
	IssuedSessionID string
}

// Done reports whether the user has finished with the request (a code was
// issued).
func (r *AuthRequest) Done() bool { return len(r.CodeHash) > 0 }

// AuthCompletion is what completing an authorization request records.
type AuthCompletion struct {
	UserID        int64
	SessionID     string
	AuthTime      time.Time
	AMR           []string
	CodeHash      []byte
	CodeExpiresAt time.Time
}

// Consent is a user's remembered approval of a client for a set of scopes.
type Consent struct {
	UserID    int64
	ClientID  string
	Scopes    []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ClientGrant ties a jwtgate session to the client it was created for: an
// OpenID Connect login (a redeemed code) starts a session of its own, so
// that the client's refresh tokens rotate, are reused-detected and are
// revoked exactly as a browser's are, and a logout, an admin revocation or
// the revocation feed reaches the client's tokens by their sid.
type ClientGrant struct {
	SessionID string
	ClientID  string
	UserID    int64
	Scopes    []string
	AuthTime  time.Time
	AMR       []string
	CreatedAt time.Time
}

// OIDCStore keeps the provider's state: authorization requests and codes,
// consents and client grants. Implementations are safe for concurrent use.
type OIDCStore interface {
	// CreateAuthRequest stores r. ErrNotFound if its client does not exist.
	CreateAuthRequest(ctx context.Context, r *AuthRequest) error
	// AuthRequest finds a request by ID; ErrNotFound if none.
	AuthRequest(ctx context.Context, id string) (*AuthRequest, error)
	// CompleteAuthRequest records c on the request unless a code was
	// already issued for it, atomically: exactly one of concurrent callers
	// succeeds, the others get ErrConflict. ErrNotFound if there is no
	// such request.
	CompleteAuthRequest(ctx context.Context, id string, c AuthCompletion) error
	// RedeemAuthCode marks the code with this hash used at `at`, recording
	// sid as the session its redemption creates, unless it was used
	// already, atomically. It returns the request and whether this call
	// redeemed it (false: a replay; the request then carries the first
	// redemption's CodeUsedAt and IssuedSessionID). ErrNotFound if no
	// request has this code.
	RedeemAuthCode(ctx context.Context, codeHash []byte, at time.Time, sid string) (*AuthRequest, bool, error)
	// DeleteAuthRequestsBefore removes requests that expired before t and
	// whose code (if any) expired before t; it reports how many.
	DeleteAuthRequestsBefore(ctx context.Context, t time.Time) (int, error)

	// SaveConsent stores c, replacing the user's consent for that client.
	// ErrNotFound if the user or client does not exist.
	SaveConsent(ctx context.Context, c *Consent) error
	// Consent finds the user's consent for a client; ErrNotFound if none.
	Consent(ctx context.Context, userID int64, clientID string) (*Consent, error)
	// ConsentsByUser returns the user's consents, oldest first.
	ConsentsByUser(ctx context.Context, userID int64) ([]Consent, error)
	// DeleteConsent removes the user's consent for a client; ErrNotFound
	// if there was none.
	DeleteConsent(ctx context.Context, userID int64, clientID string) error

	// CreateClientGrant records g. ErrNotFound if its session or client
	// does not exist.
	CreateClientGrant(ctx context.Context, g *ClientGrant) error
	// ClientGrant finds the grant of a session; ErrNotFound if the session
	// is not a client's.
	ClientGrant(ctx context.Context, sessionID string) (*ClientGrant, error)
	// ClientGrantSessions returns the IDs of the user's sessions created
	// for the client, live or not.
	ClientGrantSessions(ctx context.Context, userID int64, clientID string) ([]string, error)
	// ClientSessionIDs returns the IDs of every session created for the
	// client, whoever's, live or not.
	ClientSessionIDs(ctx context.Context, clientID string) ([]string, error)
}

// Audit event types of the OpenID Provider.
const (
	EventClientAuthorized = "oidc.authorized"      // a user consented to a client
	EventClientLogin      = "oidc.login"           // a code was redeemed: a session for a client began
	EventCodeReused       = "oidc.code_reused"     // a spent code came back; what it issued was revoked
	EventConsentRevoked   = "oidc.consent_revoked" // a user disconnected an app
)
