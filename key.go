package jwtgate

import (
	"context"
	"time"
)

// Key is a token-signing key as the store keeps it. The private half is
// PKCS#8 DER (possibly sealed at rest); the public half is PKIX DER.
type Key struct {
	ID          string // the JWS "kid"
	Alg         string // EdDSA, ES256 or RS256
	Private     []byte
	Public      []byte
	CreatedAt   time.Time
	ActivatesAt time.Time  // signs new tokens from then on
	RetiresAt   *time.Time // stops signing then; nil while current
}

// KeyStore keeps signing keys. Implementations are safe for concurrent use.
type KeyStore interface {
	// EnsureKey inserts k unless a key of the same Alg already exists,
	// atomically, so that instances starting at once agree on one key. It
	// returns the key now in force for that algorithm (k or the existing one).
	EnsureKey(ctx context.Context, k *Key) (*Key, error)
	// Keys returns every stored key, newest first.
	Keys(ctx context.Context) ([]Key, error)
}

// Store is everything the server needs from storage.
type Store interface {
	UserStore
	SessionStore
	KeyStore
	// Ping checks the store is reachable (readiness).
	Ping(ctx context.Context) error
	Close() error
}
