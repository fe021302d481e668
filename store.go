package jwtgate

import "context"

// Store is everything jwtgate needs from storage: one interface, implemented
// by internal/sqlite and internal/postgres and checked by internal/storetest.
// The rules in internal/auth take it whole; narrower consumers name the
// smaller interfaces (KeyStore, RevocationStore, ...).
type Store interface {
	UserStore
	SessionStore
	KeyStore
	RevocationStore
	AuditStore
	OutboxStore
	OneTimeTokenStore
	EmailStore
	FactorStore
	ClientStore
	AccountStore
	OIDCStore
	// Ping checks the store is reachable (readiness).
	Ping(ctx context.Context) error
	Close() error
}
