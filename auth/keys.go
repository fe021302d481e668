package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/token"
)

// SigningKey returns the stored key for alg, generating and storing one on
// first use (atomically, so instances starting together agree), together
// with a KeyLookup of every stored key's public half so tokens signed
// before an algorithm change still verify until they expire.
func SigningKey(ctx context.Context, store jwtgate.KeyStore, alg string, now time.Time) (*token.Key, token.KeySet, error) {
	gen, err := token.Generate(alg)
	if err != nil {
		return nil, nil, err
	}
	priv, err := gen.MarshalPrivate()
	if err != nil {
		return nil, nil, err
	}
	pub, err := gen.MarshalPublic()
	if err != nil {
		return nil, nil, err
	}
	rec, err := store.EnsureKey(ctx, &jwtgate.Key{
		ID: gen.ID, Alg: alg, Private: priv, Public: pub, CreatedAt: now, ActivatesAt: now,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("auth: ensure %s key: %w", alg, err)
	}
	key, err := token.ParsePrivate(rec.ID, rec.Alg, rec.Private)
	if err != nil {
		return nil, nil, fmt.Errorf("auth: stored key %q: %w", rec.ID, err)
	}
	all, err := store.Keys(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("auth: list keys: %w", err)
	}
	set := token.KeySet{key.ID: key}
	for _, r := range all {
		if _, ok := set[r.ID]; ok {
			continue
		}
		k, err := token.ParsePublic(r.ID, r.Alg, r.Public)
		if err != nil {
			return nil, nil, fmt.Errorf("auth: stored key %q: %w", r.ID, err)
		}
		set[k.ID] = k
	}
	return key, set, nil
}
