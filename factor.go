package jwtgate

import (
	"context"
	"time"
)

// TOTP is a user's authenticator-app secret (RFC 6238).
type TOTP struct {
	UserID int64
	// Secret is the shared key, sealed at rest by the caller (the
	// key-encryption key), never stored plain when one is configured.
	Secret    []byte
	CreatedAt time.Time
	// ConfirmedAt is nil until the user proved the app works by entering a
	// code: an unconfirmed secret is not a second factor yet.
	ConfirmedAt *time.Time
	// LastStep is the time step (Unix time / 30 s) of the last code
	// accepted. A code of that step or an earlier one is refused, so each
	// code works once, on every instance sharing the store.
	LastStep int64
}

// Confirmed reports whether the secret is an active second factor.
func (t *TOTP) Confirmed() bool { return t.ConfirmedAt != nil }

// WebAuthnCredential is a passkey or security key registered by a user.
type WebAuthnCredential struct {
	ID              []byte // the credential ID the authenticator chose; unique
	UserID          int64
	Name            string // the user's label for it
	PublicKey       []byte // COSE key
	AttestationType string
	AAGUID          []byte
	SignCount       uint32
	BackupEligible  bool // BE flag: the credential may be synced (a passkey)
	BackupState     bool // BS flag: it is backed up now
	Transports      []string
	CreatedAt       time.Time
	LastUsedAt      *time.Time
}

// MaxFactorNameLen bounds a passkey's label.
const MaxFactorNameLen = 64

// Factors summarises a user's second factors, for admins and the login flow.
type Factors struct {
	TOTP          bool // a confirmed TOTP secret
	RecoveryCodes int  // unused recovery codes
	Passkeys      int
}

// Any reports whether the user has a second factor.
func (f Factors) Any() bool { return f.TOTP || f.Passkeys > 0 }

// FactorStore keeps second factors. Implementations are safe for
// concurrent use, also by several processes sharing the store.
type FactorStore interface {
	// PutTOTP stores t as userID's pending (unconfirmed) secret, replacing
	// any pending one. ErrConflict if a confirmed secret exists: enrolling
	// again needs removing the old one first. ErrNotFound if no such user.
	PutTOTP(ctx context.Context, t *TOTP) error
	// TOTP returns userID's secret, confirmed or pending; ErrNotFound if none.
	TOTP(ctx context.Context, userID int64) (*TOTP, error)
	// ConfirmTOTP makes userID's pending secret active with step as its
	// last used step and replaces the user's recovery codes with
	// codeHashes, in one transaction. ErrNotFound if there is no pending
	// secret.
	ConfirmTOTP(ctx context.Context, userID int64, step int64, at time.Time, codeHashes [][]byte) error
	// UseTOTPStep records that a code of step was accepted for userID's
	// confirmed secret: it sets LastStep = step only if step > LastStep,
	// atomically, and returns ErrConflict otherwise (a replayed or
	// concurrently used code). ErrNotFound if there is no confirmed secret.
	UseTOTPStep(ctx context.Context, userID int64, step int64) error
	// DeleteTOTP removes userID's secret and recovery codes; ErrNotFound
	// if it has no secret.
	DeleteTOTP(ctx context.Context, userID int64) error

	// ReplaceRecoveryCodes voids userID's recovery codes and stores
	// codeHashes (SHA-256 of each code) instead.
	ReplaceRecoveryCodes(ctx context.Context, userID int64, codeHashes [][]byte, at time.Time) error
	// UseRecoveryCode spends userID's unused code with this hash, atomically;
	// ErrNotFound if there is none (unknown or already used).
	UseRecoveryCode(ctx context.Context, userID int64, codeHash []byte, at time.Time) error

	// AddWebAuthnCredential stores c. ErrConflict if its ID exists;
	// ErrNotFound if no such user.
	AddWebAuthnCredential(ctx context.Context, c *WebAuthnCredential) error
	// WebAuthnCredentials returns userID's credentials, oldest first.
	WebAuthnCredentials(ctx context.Context, userID int64) ([]WebAuthnCredential, error)
	// WebAuthnCredential finds a credential by its ID; ErrNotFound if none.
	WebAuthnCredential(ctx context.Context, id []byte) (*WebAuthnCredential, error)
	// UseWebAuthnCredential records an assertion: the new sign counter and
	// backup state, and the time. It refuses, with ErrConflict, a counter
	// that does not grow past the stored one (a cloned authenticator, per
	// WebAuthn §6.1.1), except when both are zero (authenticators that
	// keep no counter). ErrNotFound if there is no such credential.
	UseWebAuthnCredential(ctx context.Context, id []byte, signCount uint32, backupState bool, at time.Time) error
	// RenameWebAuthnCredential sets the label of userID's credential id;
	// ErrNotFound if the user has no such credential.
	RenameWebAuthnCredential(ctx context.Context, userID int64, id []byte, name string) error
	// DeleteWebAuthnCredential removes userID's credential id; ErrNotFound
	// if the user has no such credential.
	DeleteWebAuthnCredential(ctx context.Context, userID int64, id []byte) error

	// UserFactors summarises the second factors of the users in ids (users
	// without any are absent).
	UserFactors(ctx context.Context, ids []int64) (map[int64]Factors, error)
	// DeleteFactors removes every second factor of userID (an admin reset)
	// and reports whether there was any.
	DeleteFactors(ctx context.Context, userID int64) (bool, error)
}
