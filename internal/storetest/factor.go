package storetest

import (
	"bytes"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
)

func codeHashes(codes ...string) [][]byte {
	out := make([][]byte, len(codes))
	for i, c := range codes {
		out[i] = hashOf(c)
	}
	return out
}

// testTOTP walks a secret through enrolment, use and removal.
func testTOTP(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	alice := mustCreateUser(t, s, newUser("alice"))
	if _, err := s.TOTP(ctx, alice.ID); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("TOTP(none) = %v, want ErrNotFound", err)
	}
	if err := s.PutTOTP(ctx, &jwtgate.TOTP{UserID: 1 << 40, Secret: []byte("x"), CreatedAt: t0}); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("PutTOTP(unknown user) = %v, want ErrNotFound", err)
	}
	// Enrolment may restart while pending; the newest secret wins.
	for _, secret := range []string{"first", "second"} {
		if err := s.PutTOTP(ctx, &jwtgate.TOTP{UserID: alice.ID, Secret: []byte(secret), CreatedAt: t0}); err != nil {
			t.Fatalf("PutTOTP(%s) = %v", secret, err)
		}
	}
	got, err := s.TOTP(ctx, alice.ID)
	if err != nil || string(got.Secret) != "second" || got.Confirmed() || !sameTime(got.CreatedAt, t0) {
		t.Fatalf("TOTP(pending) = %+v, %v; want the second secret, unconfirmed", got, err)
	}
	if err := s.UseTOTPStep(ctx, alice.ID, 100); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("UseTOTPStep(pending secret) = %v, want ErrNotFound", err)
	}
	at := t0.Add(time.Minute)
	if err := s.ConfirmTOTP(ctx, alice.ID, 100, at, codeHashes("c1", "c2")); err != nil {
		t.Fatalf("ConfirmTOTP() = %v", err)
	}
	if err := s.ConfirmTOTP(ctx, alice.ID, 101, at, nil); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("ConfirmTOTP(again) = %v, want ErrNotFound", err)
	}
	if err := s.PutTOTP(ctx, &jwtgate.TOTP{UserID: alice.ID, Secret: []byte("third"), CreatedAt: t0}); !errors.Is(err, jwtgate.ErrConflict) {
		t.Errorf("PutTOTP(over a confirmed secret) = %v, want ErrConflict", err)
	}
	got, _ = s.TOTP(ctx, alice.ID)
	if string(got.Secret) != "second" || !got.Confirmed() || !sameTime(*got.ConfirmedAt, at) || got.LastStep != 100 {
		t.Errorf("TOTP(confirmed) = %+v, want second, confirmed at %v, last step 100", got, at)
	}
	// Each step works once, and never an earlier one.
	for _, tt := range []struct {
		step int64
		want error
	}{{100, jwtgate.ErrConflict}, {99, jwtgate.ErrConflict}, {101, nil}, {101, jwtgate.ErrConflict}, {103, nil}, {102, jwtgate.ErrConflict}} {
		if err := s.UseTOTPStep(ctx, alice.ID, tt.step); !errors.Is(err, tt.want) {
			t.Errorf("UseTOTPStep(%d) = %v, want %v", tt.step, err, tt.want)
		}
	}
	if f, err := s.UserFactors(ctx, []int64{alice.ID}); err != nil || !f[alice.ID].TOTP || f[alice.ID].RecoveryCodes != 2 || !f[alice.ID].Any() {
		t.Errorf("UserFactors() = %+v, %v; want TOTP and 2 codes", f, err)
	}
	if err := s.DeleteTOTP(ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteTOTP(ctx, alice.ID); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("DeleteTOTP(again) = %v, want ErrNotFound", err)
	}
	if err := s.UseRecoveryCode(ctx, alice.ID, hashOf("c1"), at); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("UseRecoveryCode after DeleteTOTP = %v, want ErrNotFound (codes go with the secret)", err)
	}
	if f, _ := s.UserFactors(ctx, []int64{alice.ID}); f[alice.ID].Any() {
		t.Errorf("UserFactors() after delete = %+v, want none", f)
	}
}

// testTOTPStepConcurrent: of eight concurrent uses of one code, one wins.
func testTOTPStepConcurrent(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	alice := mustCreateUser(t, s, newUser("alice"))
	if err := s.PutTOTP(ctx, &jwtgate.TOTP{UserID: alice.ID, Secret: []byte("k"), CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	if err := s.ConfirmTOTP(ctx, alice.ID, 10, t0, nil); err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			err := s.UseTOTPStep(ctx, alice.ID, 11)
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, jwtgate.ErrConflict):
				t.Errorf("UseTOTPStep() = %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Errorf("%d concurrent uses of one code succeeded, want 1", wins.Load())
	}
}

func testRecoveryCodes(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	alice := mustCreateUser(t, s, newUser("alice"))
	bob := mustCreateUser(t, s, newUser("bob"))
	if err := s.ReplaceRecoveryCodes(ctx, alice.ID, codeHashes("a1", "a2", "a3"), t0); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceRecoveryCodes(ctx, bob.ID, codeHashes("b1"), t0); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		user int64
		code string
		want error
	}{
		{alice.ID, "a1", nil},
		{alice.ID, "a1", jwtgate.ErrNotFound}, // used
		{alice.ID, "b1", jwtgate.ErrNotFound}, // bob's
		{alice.ID, "zz", jwtgate.ErrNotFound},
		{bob.ID, "b1", nil},
	} {
		if err := s.UseRecoveryCode(ctx, tt.user, hashOf(tt.code), t0); !errors.Is(err, tt.want) {
			t.Errorf("UseRecoveryCode(user %d, %s) = %v, want %v", tt.user, tt.code, err, tt.want)
		}
	}
	if f, _ := s.UserFactors(ctx, []int64{alice.ID, bob.ID}); f[alice.ID].RecoveryCodes != 2 || f[bob.ID].RecoveryCodes != 0 || f[alice.ID].Any() {
		t.Errorf("UserFactors() = %+v; want alice 2 codes left (codes alone are no factor), bob none", f)
	}
	// Regenerating voids the old set.
	if err := s.ReplaceRecoveryCodes(ctx, alice.ID, codeHashes("n1"), t0); err != nil {
		t.Fatal(err)
	}
	if err := s.UseRecoveryCode(ctx, alice.ID, hashOf("a2"), t0); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("UseRecoveryCode(old set) = %v, want ErrNotFound", err)
	}
	if err := s.UseRecoveryCode(ctx, alice.ID, hashOf("n1"), t0); err != nil {
		t.Errorf("UseRecoveryCode(new set) = %v", err)
	}
}

func testWebAuthnCredentials(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	alice := mustCreateUser(t, s, newUser("alice"))
	bob := mustCreateUser(t, s, newUser("bob"))
	k1 := &jwtgate.WebAuthnCredential{ID: []byte{1, 2, 3}, UserID: alice.ID, Name: "laptop", PublicKey: []byte("cose-1"), AttestationType: "none",
		AAGUID: bytes.Repeat([]byte{7}, 16), SignCount: 5, BackupEligible: true, BackupState: true, Transports: []string{"internal", "hybrid"}, CreatedAt: t0}
	k2 := &jwtgate.WebAuthnCredential{ID: []byte{4, 5}, UserID: alice.ID, Name: "key", PublicKey: []byte("cose-2"), CreatedAt: t0.Add(time.Second)}
	kb := &jwtgate.WebAuthnCredential{ID: []byte{9}, UserID: bob.ID, Name: "bob's", PublicKey: []byte("cose-b"), CreatedAt: t0}
	for _, c := range []*jwtgate.WebAuthnCredential{k1, k2, kb} {
		if err := s.AddWebAuthnCredential(ctx, c); err != nil {
			t.Fatalf("AddWebAuthnCredential(%s) = %v", c.Name, err)
		}
	}
	if err := s.AddWebAuthnCredential(ctx, &jwtgate.WebAuthnCredential{ID: []byte{1, 2, 3}, UserID: bob.ID, Name: "dup", PublicKey: []byte("x"), CreatedAt: t0}); !errors.Is(err, jwtgate.ErrConflict) {
		t.Errorf("AddWebAuthnCredential(taken ID) = %v, want ErrConflict", err)
	}
	if err := s.AddWebAuthnCredential(ctx, &jwtgate.WebAuthnCredential{ID: []byte{8}, UserID: 1 << 40, Name: "x", PublicKey: []byte("x"), CreatedAt: t0}); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("AddWebAuthnCredential(unknown user) = %v, want ErrNotFound", err)
	}
	list, err := s.WebAuthnCredentials(ctx, alice.ID)
	if err != nil || len(list) != 2 || list[0].Name != "laptop" || list[1].Name != "key" {
		t.Fatalf("WebAuthnCredentials(alice) = %+v, %v; want laptop, key", list, err)
	}
	if c := list[0]; !bytes.Equal(c.ID, k1.ID) || string(c.PublicKey) != "cose-1" || c.AttestationType != "none" || !bytes.Equal(c.AAGUID, k1.AAGUID) ||
		c.SignCount != 5 || !c.BackupEligible || !c.BackupState || len(c.Transports) != 2 || c.Transports[1] != "hybrid" || c.LastUsedAt != nil {
		t.Errorf("credential round trip = %+v, want %+v", c, k1)
	}
	if c, err := s.WebAuthnCredential(ctx, []byte{9}); err != nil || c.UserID != bob.ID {
		t.Errorf("WebAuthnCredential(bob's) = %+v, %v", c, err)
	}
	if _, err := s.WebAuthnCredential(ctx, []byte{0}); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("WebAuthnCredential(unknown) = %v, want ErrNotFound", err)
	}

	// The counter must grow; zero stays allowed for counterless authenticators.
	at := t0.Add(time.Hour)
	for _, tt := range []struct {
		id    []byte
		count uint32
		want  error
	}{
		{k1.ID, 5, jwtgate.ErrConflict}, // no growth: a clone
		{k1.ID, 4, jwtgate.ErrConflict},
		{k1.ID, 6, nil},
		{k2.ID, 0, nil}, // counterless
		{k2.ID, 0, nil},
		{k2.ID, 3, nil},
		{k2.ID, 0, jwtgate.ErrConflict}, // went back to zero
		{[]byte{0}, 1, jwtgate.ErrNotFound},
	} {
		if err := s.UseWebAuthnCredential(ctx, tt.id, tt.count, false, at); !errors.Is(err, tt.want) {
			t.Errorf("UseWebAuthnCredential(%x, %d) = %v, want %v", tt.id, tt.count, err, tt.want)
		}
	}
	if c, _ := s.WebAuthnCredential(ctx, k1.ID); c.SignCount != 6 || c.BackupState || c.LastUsedAt == nil || !sameTime(*c.LastUsedAt, at) {
		t.Errorf("after use = %+v, want count 6, backup state off, used at %v", c, at)
	}

	// Only the owner may rename or delete.
	if err := s.RenameWebAuthnCredential(ctx, bob.ID, k1.ID, "mine now"); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("RenameWebAuthnCredential(bob, alice's) = %v, want ErrNotFound", err)
	}
	if err := s.RenameWebAuthnCredential(ctx, alice.ID, k1.ID, "work laptop"); err != nil {
		t.Errorf("RenameWebAuthnCredential() = %v", err)
	}
	if err := s.DeleteWebAuthnCredential(ctx, bob.ID, k2.ID); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("DeleteWebAuthnCredential(bob, alice's) = %v, want ErrNotFound", err)
	}
	if err := s.DeleteWebAuthnCredential(ctx, alice.ID, k2.ID); err != nil {
		t.Errorf("DeleteWebAuthnCredential() = %v", err)
	}
	if f, _ := s.UserFactors(ctx, []int64{alice.ID, bob.ID}); f[alice.ID].Passkeys != 1 || f[bob.ID].Passkeys != 1 {
		t.Errorf("UserFactors() = %+v, want one passkey each", f)
	}

	// An admin reset removes everything; deleting a user takes its keys.
	if err := s.ReplaceRecoveryCodes(ctx, alice.ID, codeHashes("x"), t0); err != nil {
		t.Fatal(err)
	}
	if had, err := s.DeleteFactors(ctx, alice.ID); err != nil || !had {
		t.Errorf("DeleteFactors(alice) = %v, %v; want true", had, err)
	}
	if had, err := s.DeleteFactors(ctx, alice.ID); err != nil || had {
		t.Errorf("DeleteFactors(alice again) = %v, %v; want false", had, err)
	}
	if err := s.DeleteUser(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WebAuthnCredential(ctx, []byte{9}); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("credential of a deleted user = %v, want ErrNotFound", err)
	}
	if f, err := s.UserFactors(ctx, nil); err != nil || len(f) != 0 {
		t.Errorf("UserFactors(nil) = %+v, %v", f, err)
	}
}
