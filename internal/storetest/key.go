package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
)

// newKey returns a key to store. Its bytes include 0x00 and 0xff, which a
// store that treated them as text would lose.
func newKey(kid, alg string, created time.Time) *jwtgate.Key {
	return &jwtgate.Key{
		ID:          kid,
		Alg:         alg,
		Private:     append([]byte{0x30, 0x00, 0xff, 0x00}, kid...),
		Public:      append([]byte{0x30, 0xff, 0x00}, alg...),
		CreatedAt:   created,
		ActivatesAt: created.Add(time.Minute),
	}
}

func testEnsureKey(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)

	ed := newKey("ed-1", "EdDSA", t0)
	got, err := s.EnsureKey(ctx, ed)
	if err != nil {
		t.Fatalf("EnsureKey(ed-1) on an empty store = %v, want nil", err)
	}
	checkKey(t, "EnsureKey(ed-1)", got, ed)

	// A second key of the same algorithm, even a newer one, is not stored:
	// the first stays in force.
	got, err = s.EnsureKey(ctx, newKey("ed-2", "EdDSA", t0.Add(time.Hour)))
	if err != nil {
		t.Fatalf("EnsureKey(ed-2) = %v, want nil", err)
	}
	checkKey(t, "EnsureKey(ed-2)", got, ed)

	// Another algorithm gets its own key; this one is already retiring.
	es := newKey("es-1", "ES256", t0.Add(-time.Hour))
	retires := t0.Add(24 * time.Hour)
	es.RetiresAt = &retires
	got, err = s.EnsureKey(ctx, es)
	if err != nil {
		t.Fatalf("EnsureKey(es-1) = %v, want nil", err)
	}
	checkKey(t, "EnsureKey(es-1)", got, es)

	// A kid taken by a key of another algorithm cannot be stored.
	if got, err := s.EnsureKey(ctx, newKey("ed-1", "RS256", t0)); !errors.Is(err, jwtgate.ErrConflict) {
		t.Errorf("EnsureKey(ed-1, RS256) = %v, %v, want ErrConflict", got, err)
	}

	keys, err := s.Keys(ctx)
	if err != nil {
		t.Fatalf("Keys() = %v, want nil", err)
	}
	want := []*jwtgate.Key{ed, es}
	if len(keys) != len(want) {
		t.Fatalf("Keys() returned %d keys, want %d", len(keys), len(want))
	}
	for i := range keys {
		checkKey(t, fmt.Sprintf("Keys()[%d]", i), &keys[i], want[i])
	}
}

// testEnsureKeyConcurrent is several instances starting at once, each with
// a key of its own: all end up signing with the same one.
func testEnsureKeyConcurrent(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	const n = 8
	got := make([]*jwtgate.Key, n)
	errs := make([]error, n)
	concurrently(n, func(i int) {
		got[i], errs[i] = s.EnsureKey(ctx, newKey(fmt.Sprintf("kid-%d", i), "EdDSA", t0))
	})
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("EnsureKey(kid-%d) = %v, want nil", i, errs[i])
		}
	}
	for i := range n {
		if got[i].ID != got[0].ID {
			t.Errorf("EnsureKey(kid-%d).ID = %q, but EnsureKey(kid-0).ID = %q; want the same key", i, got[i].ID, got[0].ID)
		}
	}
	keys, err := s.Keys(ctx)
	if err != nil {
		t.Fatalf("Keys() = %v, want nil", err)
	}
	if len(keys) != 1 {
		t.Fatalf("Keys() returned %d keys, want 1", len(keys))
	}
	checkKey(t, "Keys()[0]", &keys[0], got[0])
}

// testKeys checks the order of Keys: newest first, by creation time to the
// millisecond, and by kid among keys created in the same millisecond.
func testKeys(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	keys, err := s.Keys(ctx)
	if err != nil || len(keys) != 0 {
		t.Fatalf("Keys() on an empty store = %d keys, %v, want 0, nil", len(keys), err)
	}

	// Stored in neither order.
	b := newKey("k-b", "ES256", t0)
	newest := newKey("k-z", "EdDSA", t0.Add(time.Millisecond))
	a := newKey("k-a", "RS256", t0)
	for _, k := range []*jwtgate.Key{b, newest, a} {
		if _, err := s.EnsureKey(ctx, k); err != nil {
			t.Fatalf("EnsureKey(%s) = %v, want nil", k.ID, err)
		}
	}
	want := []*jwtgate.Key{newest, a, b}
	keys, err = s.Keys(ctx)
	if err != nil {
		t.Fatalf("Keys() = %v, want nil", err)
	}
	if len(keys) != len(want) {
		t.Fatalf("Keys() returned %d keys, want %d", len(keys), len(want))
	}
	for i := range keys {
		checkKey(t, fmt.Sprintf("Keys()[%d]", i), &keys[i], want[i])
	}
}

func testRotateKey(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	k1 := newKey("k1", "EdDSA", t0)
	if _, err := s.EnsureKey(ctx, k1); err != nil {
		t.Fatal(err)
	}
	k2 := newKey("k2", "EdDSA", t0.Add(time.Hour))
	ok, err := s.RotateKey(ctx, k2, t0.Add(time.Hour))
	if err != nil || !ok {
		t.Fatalf("RotateKey(k2) = %v, %v", ok, err)
	}
	// A racing scheduled rotation that saw the world before k2 loses.
	if ok, err := s.RotateKey(ctx, newKey("k3", "EdDSA", t0.Add(time.Hour)), t0.Add(30*time.Minute)); err != nil || ok {
		t.Errorf("RotateKey(k3, unless created after t0+30m) = %v, %v; want false", ok, err)
	}
	keys, err := s.Keys(ctx)
	if err != nil || len(keys) != 2 || keys[0].ID != "k2" || keys[1].ID != "k1" {
		t.Fatalf("Keys = %+v, %v", keys, err)
	}
	if !samePtrTime(keys[1].RetiresAt, &k2.ActivatesAt) || keys[0].RetiresAt != nil {
		t.Errorf("after rotation k1.RetiresAt = %s (want %v), k2.RetiresAt = %s (want nil)",
			fmtPtrTime(keys[1].RetiresAt), stored(k2.ActivatesAt), fmtPtrTime(keys[0].RetiresAt))
	}
	if n, err := s.DeleteKeysRetiredBefore(ctx, k2.ActivatesAt); err != nil || n != 0 {
		t.Errorf("DeleteKeysRetiredBefore(k1's retirement) = %d, %v; want 0", n, err)
	}
	if n, err := s.DeleteKeysRetiredBefore(ctx, k2.ActivatesAt.Add(time.Millisecond)); err != nil || n != 1 {
		t.Errorf("DeleteKeysRetiredBefore(after) = %d, %v; want 1", n, err)
	}
	if keys, _ := s.Keys(ctx); len(keys) != 1 || keys[0].ID != "k2" {
		t.Errorf("Keys after delete = %+v", keys)
	}
}

func testEnsureSecret(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	var wg sync.WaitGroup
	got := make([][]byte, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := s.EnsureSecret(ctx, "refresh", []byte{byte(i), 0xff, 0}, t0)
			if err != nil {
				t.Errorf("EnsureSecret #%d = %v", i, err)
			}
			got[i] = v
		}()
	}
	wg.Wait()
	for i := range got {
		if string(got[i]) != string(got[0]) || len(got[i]) != 3 {
			t.Errorf("EnsureSecret #%d = %x, #0 = %x; want the same stored value", i, got[i], got[0])
		}
	}
	if v, _ := s.EnsureSecret(ctx, "other", []byte("x"), t0); string(v) != "x" {
		t.Errorf("EnsureSecret(other) = %q", v)
	}
}
