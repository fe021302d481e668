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
	// RotateKey inserts k and sets RetiresAt = k.ActivatesAt on every key
	// not yet retired, in one transaction, unless some key was created after
	// unlessCreatedAfter (so instances racing to rotate on a schedule make
	// one new key). It reports whether k was inserted.
	RotateKey(ctx context.Context, k *Key, unlessCreatedAfter time.Time) (bool, error)
	// AddKey inserts k unless a key of k.Alg that is not retired exists,
	// atomically, and reports whether it did: a key of a second algorithm
	// (the RS256 key OpenID Connect needs for id_tokens) follows the
	// rotations of the main one this way, one key per rotation however many
	// instances try.
	AddKey(ctx context.Context, k *Key) (bool, error)
	// Keys returns every stored key, newest first.
	Keys(ctx context.Context) ([]Key, error)
	// DeleteKeysRetiredBefore removes keys retired before t (whose tokens
	// have all expired) and reports how many.
	DeleteKeysRetiredBefore(ctx context.Context, t time.Time) (int, error)
	// EnsureSecret stores value under name unless a secret of that name
	// exists, atomically, and returns the stored value. Instances sharing a
	// store thereby agree on server-side secrets (the refresh-token HMAC key).
	EnsureSecret(ctx context.Context, name string, value []byte, at time.Time) ([]byte, error)
}
