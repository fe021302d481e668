package auth

import (
	"context"
	"errors"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/token"
)

// countingKeys is a real store that counts the rotations offered to it:
// each one carries a freshly generated (and sealed) key.
type countingKeys struct {
	jwtgate.KeyStore
	offered atomic.Int64
}

func (c *countingKeys) RotateKey(ctx context.Context, k *jwtgate.Key, unlessCreatedAfter time.Time) (bool, error) {
	c.offered.Add(1)
	return c.KeyStore.RotateKey(ctx, k, unlessCreatedAfter)
}

// newInstances opens n keyrings ("instances") on one SQLite store, each
// counting the keys it generates for rotation.
func newInstances(t *testing.T, n int) []*countingKeys {
	t.Helper()
	store, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	out := make([]*countingKeys, n)
	for i := range out {
		out[i] = &countingKeys{KeyStore: store}
	}
	return out
}

func openRing(t *testing.T, ks jwtgate.KeyStore, clk *clock) *Keyring {
	t.Helper()
	kr, err := NewKeyring(context.Background(), ks, KeyringOptions{
		Alg: token.EdDSA, PublishDelay: 10 * time.Minute, TokenLifetime: DefaultAccessTTL + Leeway, Now: clk.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// TestRotateIfOlderGeneratesOnlyWhenDue: the schedule runs every minute on
// every instance; a key is generated only when a rotation is due, and two
// instances due at once make one new key between them.
func TestRotateIfOlderGeneratesOnlyWhenDue(t *testing.T) {
	ctx := context.Background()
	clk := &clock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	stores := newInstances(t, 2)
	a, b := openRing(t, stores[0], clk), openRing(t, stores[1], clk)
	const interval = time.Hour

	for minute := 1; minute < 60; minute++ {
		clk.Add(time.Minute)
		for i, kr := range []*Keyring{a, b} {
			if rotated, err := kr.RotateIfOlder(ctx, interval); err != nil || rotated {
				t.Fatalf("instance %d: RotateIfOlder at +%dm = %v, %v; want false, nil", i, minute, rotated, err)
			}
		}
	}
	if n := stores[0].offered.Load() + stores[1].offered.Load(); n != 0 {
		t.Errorf("before a rotation is due, the instances generated %d keys, want 0", n)
	}

	clk.Add(time.Minute) // now an hour since the first key
	rotatedA, err := a.RotateIfOlder(ctx, interval)
	if err != nil || !rotatedA {
		t.Fatalf("instance 0: RotateIfOlder when due = %v, %v; want true, nil", rotatedA, err)
	}
	// b has not synced yet: it tries, and the store refuses a second key.
	if rotatedB, err := b.RotateIfOlder(ctx, interval); err != nil || rotatedB {
		t.Errorf("instance 1: RotateIfOlder right after instance 0 rotated = %v, %v; want false, nil", rotatedB, err)
	}
	if err := b.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	before := stores[1].offered.Load()
	for range 30 {
		clk.Add(time.Minute)
		if rotated, err := b.RotateIfOlder(ctx, interval); err != nil || rotated {
			t.Fatalf("instance 1: RotateIfOlder after syncing the new key = %v, %v; want false, nil", rotated, err)
		}
	}
	if n := stores[1].offered.Load() - before; n != 0 {
		t.Errorf("instance 1 generated %d keys after it synced the fresh key, want 0", n)
	}
	keys, err := stores[0].Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 {
		t.Errorf("store holds %d keys after one scheduled rotation by two instances, want 2", len(keys))
	}
}

// TestRotateRefusedWhilePending: at most one key waits out its publish
// delay. A second rotation, on this instance or another that has not yet
// synced, is ErrKeyPending; once the key signs, rotation works
// again.
func TestRotateRefusedWhilePending(t *testing.T) {
	ctx := context.Background()
	clk := &clock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	stores := newInstances(t, 2)
	a, b := openRing(t, stores[0], clk), openRing(t, stores[1], clk)

	first, err := a.Rotate(ctx)
	if err != nil {
		t.Fatalf("Rotate() = %v", err)
	}
	for name, kr := range map[string]*Keyring{"same instance": a, "other instance": b} {
		if _, err := kr.Rotate(ctx); !errors.Is(err, ErrKeyPending) {
			t.Errorf("Rotate() on the %s while %s is pending = %v, want ErrKeyPending", name, first.ID, err)
		}
	}
	if keys, _ := stores[0].Keys(ctx); len(keys) != 2 {
		t.Errorf("store holds %d keys after refused rotations, want 2", len(keys))
	}
	clk.Add(10 * time.Minute)
	if _, err := b.Rotate(ctx); err != nil {
		t.Errorf("Rotate() after the pending key began signing = %v, want nil", err)
	}
}

// TestJWKSMaxAge: verifiers cache the JWKS for at most half the publish
// delay, and never longer than MaxJWKSMaxAge; the default delay is safe
// against the longest cache lifetime.
func TestJWKSMaxAge(t *testing.T) {
	tests := []struct {
		delay, want time.Duration
	}{
		{delay: MinPublishDelay, want: time.Second},
		{delay: time.Minute, want: 30 * time.Second},
		{delay: DefaultPublishDelay, want: MaxJWKSMaxAge},
		{delay: time.Hour, want: MaxJWKSMaxAge},
	}
	for _, tt := range tests {
		t.Run(tt.delay.String(), func(t *testing.T) {
			if got := JWKSMaxAge(tt.delay); got != tt.want {
				t.Errorf("JWKSMaxAge(%s) = %s, want %s", tt.delay, got, tt.want)
			}
		})
	}
	if DefaultPublishDelay <= MaxJWKSMaxAge {
		t.Errorf("DefaultPublishDelay %s does not exceed MaxJWKSMaxAge %s", DefaultPublishDelay, MaxJWKSMaxAge)
	}
}

// TestKeylessServiceKeepsRevocationsLongEnough: a service made without
// keys (the CLI's `sessions revoke`, `user disable`) does not know the
// servers' --access-ttl; the revocations it writes outlive any access
// token a server may have issued (MaxAccessTTL), so an hour-long token
// from a server with --access-ttl 1h stays refused for its whole life.
func TestKeylessServiceKeepsRevocationsLongEnough(t *testing.T) {
	ctx := context.Background()
	server := newEnv(t, Options{AccessTTL: time.Hour})
	tok := loginAlice(t, server)
	cli, err := New(ctx, server.store, nil, Options{Now: server.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cli.RevokeUserSessions(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	feed, _, err := server.svc.RevocationFeed(ctx, 0)
	if err != nil || len(feed) != 1 {
		t.Fatalf("RevocationFeed = %v, %v; want one entry", feed, err)
	}
	if exp := feed[0].ExpiresAt; exp.Before(tok.Claims.ExpiresAt.Time) || exp.Before(server.clk.Now().Add(MaxAccessTTL)) {
		t.Errorf("CLI revocation expires %v, before the token (%v) or now + MaxAccessTTL", exp, tok.Claims.ExpiresAt.Time)
	}
}

// TestKeyringExtraAlgs: a keyring signing with EdDSA keeps an RS256 key
// for id_tokens: made at once on first start, published, rotated with the
// signing key (the new one activating with it), one per rotation however
// many instances start.
func TestKeyringExtraAlgs(t *testing.T) {
	ctx := context.Background()
	clk := &clock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "keys.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	o := KeyringOptions{Alg: token.EdDSA, ExtraAlgs: IDTokenExtraAlgs(token.EdDSA), PublishDelay: 10 * time.Minute, TokenLifetime: DefaultAccessTTL + Leeway, Now: clk.Now}
	kr, err := NewKeyring(ctx, store, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewKeyring(ctx, store, o); err != nil { // a second instance
		t.Fatal(err)
	}
	rs := kr.IDTokenSigner(token.RS256)
	if kr.Signer().Alg != token.EdDSA || rs == nil || rs.Alg != token.RS256 {
		t.Fatalf("Signer = %v, IDTokenSigner(RS256) = %v; want EdDSA and an RS256 key at once", kr.Signer(), rs)
	}
	if got := len(kr.Published()); got != 2 {
		t.Fatalf("Published() = %d keys, want 2 (EdDSA, RS256)", got)
	}
	if _, err := kr.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(kr.Published()); got != 4 {
		t.Fatalf("Published() after Rotate = %d keys, want 4", got)
	}
	if kr.IDTokenSigner(token.RS256).ID != rs.ID {
		t.Error("the new RS256 key signs before its publish delay")
	}
	clk.Add(10*time.Minute + time.Second)
	next := kr.IDTokenSigner(token.RS256)
	if next == nil || next.ID == rs.ID {
		t.Fatalf("IDTokenSigner(RS256) after the delay = %v, want the new key", next)
	}
	// The old RS256 key stays published while its id_tokens may be live,
	// then leaves with the old signing key.
	clk.Add(DefaultAccessTTL + Leeway + time.Minute)
	if got := len(kr.Published()); got != 2 {
		t.Errorf("Published() once the old keys expired = %d, want 2", got)
	}
	if _, ok := kr.Lookup(rs.ID); ok {
		t.Error("the expired RS256 key still verifies")
	}
	if got := kr.IDTokenSigner(token.ES256); got != nil {
		t.Errorf("IDTokenSigner(ES256) = %v, want nil (no such key)", got)
	}
	if IDTokenExtraAlgs(token.RS256) != nil {
		t.Error("IDTokenExtraAlgs(RS256) is not empty: the signing key is already RS256")
	}
}
