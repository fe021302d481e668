package jwtgate

import (
	"context"
	"time"
)

// Purposes of one-time tokens. A token works only for the purpose it was
// made for, so a verification link cannot reset a password.
const (
	PurposeVerifyEmail   = "verify_email"
	PurposeResetPassword = "reset_password"
	PurposeInvite        = "invite"
	// PurposeMFALogin is the mfa_token of a login whose password was right
	// and whose second factor is still to come: short-lived, single use,
	// never sent by email.
	PurposeMFALogin = "mfa_login"
)

// OneTimeToken is a single-use secret sent by email (a verification,
// password-reset or invitation link). Only its hash is stored: a copy of
// the database yields no working link.
type OneTimeToken struct {
	ID      int64
	Hash    []byte // SHA-256 of the token; unique
	Purpose string
	// UserID is the account the token acts on; 0 for an invitation, which
	// comes before the account.
	UserID int64
	// Email is the address the link was sent to: the one a verification
	// proves, the one an invitation is for.
	Email string
	// Data is purpose-specific, opaque to the store (an invitation's roles).
	Data      string
	CreatedBy int64 // the admin who invited; 0 otherwise
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// OneTimeTokenStore keeps one-time tokens. Implementations are safe for
// concurrent use, also by several processes sharing the store.
type OneTimeTokenStore interface {
	// CreateOneTimeToken stores t and sets t.ID. In the same transaction it
	// deletes the unused tokens of the same purpose for the same user (for
	// invitations: the same email), so only the newest link works. It
	// returns an error wrapping ErrConflict if t.Hash exists.
	CreateOneTimeToken(ctx context.Context, t *OneTimeToken) error
	// SpendOneTimeToken marks the token with this purpose and hash used at
	// now and returns it, atomically: of concurrent spenders one wins. An
	// unknown, used, expired or other-purpose token is ErrNotFound, all
	// alike, so a caller cannot tell which.
	SpendOneTimeToken(ctx context.Context, purpose string, hash []byte, now time.Time) (*OneTimeToken, error)
	// OneTimeToken returns the unused, unexpired token with this purpose
	// and hash at now without spending it (a page that shows what a link
	// is for before the user acts on it); ErrNotFound as SpendOneTimeToken.
	OneTimeToken(ctx context.Context, purpose string, hash []byte, now time.Time) (*OneTimeToken, error)
	// DeleteOneTimeTokens removes userID's unused tokens of purpose (of
	// every purpose if purpose is "") and reports how many: a password
	// change voids the reset links sent before it.
	DeleteOneTimeTokens(ctx context.Context, userID int64, purpose string) (int, error)
	// PendingOneTimeTokens lists unused, unexpired tokens of purpose at
	// now, newest first (an admin's list of open invitations).
	PendingOneTimeTokens(ctx context.Context, purpose string, now time.Time) ([]OneTimeToken, error)
	// RevokeOneTimeToken deletes the unused token id; ErrNotFound if there
	// is none.
	RevokeOneTimeToken(ctx context.Context, id int64) error
	// DeleteOneTimeTokensBefore removes tokens that expired or were used
	// before t and reports how many.
	DeleteOneTimeTokensBefore(ctx context.Context, t time.Time) (int, error)
}
