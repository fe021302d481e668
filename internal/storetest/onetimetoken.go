package storetest

import (
	"crypto/sha256"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
)

// ott returns a token to create; its hash is derived from secret.
func ott(secret, purpose string, userID int64, email string) *jwtgate.OneTimeToken {
	h := sha256.Sum256([]byte(secret))
	return &jwtgate.OneTimeToken{Hash: h[:], Purpose: purpose, UserID: userID, Email: email, CreatedAt: t0, ExpiresAt: t0.Add(30 * time.Minute)}
}

func hashOf(secret string) []byte { h := sha256.Sum256([]byte(secret)); return h[:] }

func mustCreateOTT(t *testing.T, s jwtgate.Store, tok *jwtgate.OneTimeToken) *jwtgate.OneTimeToken {
	t.Helper()
	if err := s.CreateOneTimeToken(t.Context(), tok); err != nil || tok.ID == 0 {
		t.Fatalf("CreateOneTimeToken(%s) = %v, id %d", tok.Purpose, err, tok.ID)
	}
	return tok
}

// testOneTimeTokenSpend covers a token's single use and everything that
// makes one unusable; each failure is ErrNotFound, indistinguishable.
func testOneTimeTokenSpend(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	alice := mustCreateUser(t, s, newUser("alice"))
	tok := ott("reset-1", jwtgate.PurposeResetPassword, alice.ID, "alice@example.test")
	tok.Data = `{"x":1}`
	mustCreateOTT(t, s, tok)

	for _, tt := range []struct {
		name, secret, purpose string
		at                    time.Time
	}{
		{"unknown token", "nope", jwtgate.PurposeResetPassword, t0},
		{"other purpose", "reset-1", jwtgate.PurposeVerifyEmail, t0},
		{"expired", "reset-1", jwtgate.PurposeResetPassword, t0.Add(30 * time.Minute)},
	} {
		if got, err := s.SpendOneTimeToken(ctx, tt.purpose, hashOf(tt.secret), tt.at); !errors.Is(err, jwtgate.ErrNotFound) {
			t.Errorf("SpendOneTimeToken(%s) = %+v, %v; want ErrNotFound", tt.name, got, err)
		}
	}
	if got, err := s.OneTimeToken(ctx, jwtgate.PurposeResetPassword, hashOf("reset-1"), t0); err != nil || got.ID != tok.ID || got.UsedAt != nil {
		t.Errorf("OneTimeToken(valid) = %+v, %v; want it, unused", got, err)
	}
	if _, err := s.OneTimeToken(ctx, jwtgate.PurposeVerifyEmail, hashOf("reset-1"), t0); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("OneTimeToken(other purpose) = %v, want ErrNotFound", err)
	}
	spentAt := t0.Add(time.Minute)
	got, err := s.SpendOneTimeToken(ctx, jwtgate.PurposeResetPassword, hashOf("reset-1"), spentAt)
	if err != nil {
		t.Fatalf("SpendOneTimeToken(valid) = %v", err)
	}
	if got.ID != tok.ID || got.UserID != alice.ID || got.Email != "alice@example.test" || got.Data != `{"x":1}` ||
		!sameTime(got.CreatedAt, t0) || !sameTime(got.ExpiresAt, tok.ExpiresAt) || got.UsedAt == nil || !sameTime(*got.UsedAt, spentAt) {
		t.Errorf("SpendOneTimeToken() = %+v, want %+v used at %v", got, tok, spentAt)
	}
	if _, err := s.SpendOneTimeToken(ctx, jwtgate.PurposeResetPassword, hashOf("reset-1"), spentAt); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("second SpendOneTimeToken() = %v, want ErrNotFound", err)
	}
	if _, err := s.OneTimeToken(ctx, jwtgate.PurposeResetPassword, hashOf("reset-1"), spentAt); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("OneTimeToken(spent) = %v, want ErrNotFound", err)
	}

	dup := ott("reset-1", jwtgate.PurposeVerifyEmail, alice.ID, "")
	if err := s.CreateOneTimeToken(ctx, dup); !errors.Is(err, jwtgate.ErrConflict) {
		t.Errorf("CreateOneTimeToken(same hash) = %v, want ErrConflict", err)
	}
	if err := s.CreateOneTimeToken(ctx, ott("x", jwtgate.PurposeVerifyEmail, 1<<40, "")); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("CreateOneTimeToken(unknown user) = %v, want ErrNotFound", err)
	}
}

// testOneTimeTokenNewestOnly checks that a new token voids its owner's
// older unused ones of the same purpose, and nothing else.
func testOneTimeTokenNewestOnly(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	alice := mustCreateUser(t, s, newUser("alice"))
	bob := mustCreateUser(t, s, newUser("bob"))
	mustCreateOTT(t, s, ott("a-reset-1", jwtgate.PurposeResetPassword, alice.ID, ""))
	mustCreateOTT(t, s, ott("a-verify", jwtgate.PurposeVerifyEmail, alice.ID, "alice@example.test"))
	mustCreateOTT(t, s, ott("b-reset", jwtgate.PurposeResetPassword, bob.ID, ""))
	mustCreateOTT(t, s, ott("inv-c-1", jwtgate.PurposeInvite, 0, "carol@example.test"))
	mustCreateOTT(t, s, ott("inv-d", jwtgate.PurposeInvite, 0, "dave@example.test"))
	mustCreateOTT(t, s, ott("a-reset-2", jwtgate.PurposeResetPassword, alice.ID, ""))
	mustCreateOTT(t, s, ott("inv-c-2", jwtgate.PurposeInvite, 0, "carol@example.test"))

	for _, tt := range []struct {
		secret, purpose string
		live            bool
	}{
		{"a-reset-1", jwtgate.PurposeResetPassword, false}, // voided by a-reset-2
		{"a-reset-2", jwtgate.PurposeResetPassword, true},
		{"a-verify", jwtgate.PurposeVerifyEmail, true},  // another purpose
		{"b-reset", jwtgate.PurposeResetPassword, true}, // another user
		{"inv-c-1", jwtgate.PurposeInvite, false},       // voided by inv-c-2
		{"inv-c-2", jwtgate.PurposeInvite, true},
		{"inv-d", jwtgate.PurposeInvite, true}, // another address
	} {
		_, err := s.SpendOneTimeToken(ctx, tt.purpose, hashOf(tt.secret), t0)
		if tt.live != (err == nil) {
			t.Errorf("SpendOneTimeToken(%s) = %v, want live=%v", tt.secret, err, tt.live)
		}
	}
}

// testOneTimeTokenManage covers the admin and clean-up side: pending
// lists, revocation, a password change voiding links, deleting a user.
func testOneTimeTokenManage(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	alice := mustCreateUser(t, s, newUser("alice"))
	inv1 := ott("inv-1", jwtgate.PurposeInvite, 0, "carol@example.test")
	inv1.Data, inv1.CreatedBy = `["dev"]`, alice.ID
	mustCreateOTT(t, s, inv1)
	inv2 := ott("inv-2", jwtgate.PurposeInvite, 0, "dave@example.test")
	inv2.CreatedAt = t0.Add(time.Second)
	mustCreateOTT(t, s, inv2)
	old := ott("inv-old", jwtgate.PurposeInvite, 0, "erin@example.test")
	old.ExpiresAt = t0.Add(time.Second)
	mustCreateOTT(t, s, old)

	got, err := s.PendingOneTimeTokens(ctx, jwtgate.PurposeInvite, t0.Add(time.Minute))
	if err != nil || len(got) != 2 || got[0].ID != inv2.ID || got[1].ID != inv1.ID {
		t.Fatalf("PendingOneTimeTokens() = %+v, %v; want inv-2, inv-1 (inv-old expired)", got, err)
	}
	if got[1].CreatedBy != alice.ID || got[1].Data != `["dev"]` || got[1].UserID != 0 {
		t.Errorf("pending invitation = %+v, want created by alice with data", got[1])
	}
	if err := s.RevokeOneTimeToken(ctx, inv2.ID); err != nil {
		t.Errorf("RevokeOneTimeToken() = %v", err)
	}
	if err := s.RevokeOneTimeToken(ctx, inv2.ID); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("RevokeOneTimeToken(again) = %v, want ErrNotFound", err)
	}
	if _, err := s.SpendOneTimeToken(ctx, jwtgate.PurposeInvite, hashOf("inv-2"), t0); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("SpendOneTimeToken(revoked) = %v, want ErrNotFound", err)
	}
	if _, err := s.SpendOneTimeToken(ctx, jwtgate.PurposeInvite, hashOf("inv-1"), t0); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeOneTimeToken(ctx, inv1.ID); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("RevokeOneTimeToken(used) = %v, want ErrNotFound", err)
	}

	// A new password voids reset links, whoever sets it; not verification links.
	mustCreateOTT(t, s, ott("r0", jwtgate.PurposeResetPassword, alice.ID, ""))
	mustCreateOTT(t, s, ott("v0", jwtgate.PurposeVerifyEmail, alice.ID, "alice@example.test"))
	if err := s.SetPasswordHash(ctx, alice.ID, testHash, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SpendOneTimeToken(ctx, jwtgate.PurposeResetPassword, hashOf("r0"), t0); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("SpendOneTimeToken(reset link from before a password change) = %v, want ErrNotFound", err)
	}
	if _, err := s.SpendOneTimeToken(ctx, jwtgate.PurposeVerifyEmail, hashOf("v0"), t0); err != nil {
		t.Errorf("SpendOneTimeToken(verification link after a password change) = %v, want it still good", err)
	}
	// DeleteOneTimeTokens voids one purpose alone.
	mustCreateOTT(t, s, ott("r", jwtgate.PurposeResetPassword, alice.ID, ""))
	mustCreateOTT(t, s, ott("v", jwtgate.PurposeVerifyEmail, alice.ID, "alice@example.test"))
	if n, err := s.DeleteOneTimeTokens(ctx, alice.ID, jwtgate.PurposeResetPassword); err != nil || n != 1 {
		t.Errorf("DeleteOneTimeTokens(reset) = %d, %v; want 1", n, err)
	}
	if _, err := s.SpendOneTimeToken(ctx, jwtgate.PurposeResetPassword, hashOf("r"), t0); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("SpendOneTimeToken(after password change) = %v, want ErrNotFound", err)
	}
	// Deleting the user deletes their tokens.
	mustCreateOTT(t, s, ott("r2", jwtgate.PurposeResetPassword, alice.ID, ""))
	if err := s.DeleteUser(ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	for secret, purpose := range map[string]string{"v": jwtgate.PurposeVerifyEmail, "r2": jwtgate.PurposeResetPassword} {
		if _, err := s.SpendOneTimeToken(ctx, purpose, hashOf(secret), t0); !errors.Is(err, jwtgate.ErrNotFound) {
			t.Errorf("SpendOneTimeToken(%s of a deleted user) = %v, want ErrNotFound", secret, err)
		}
	}
	// Clean-up: inv-old expired, inv-1 used; nothing else is left.
	if n, err := s.DeleteOneTimeTokensBefore(ctx, t0.Add(time.Hour)); err != nil || n != 2 {
		t.Errorf("DeleteOneTimeTokensBefore() = %d, %v; want 2", n, err)
	}
}

// testOneTimeTokenSpendConcurrent: of eight concurrent spenders of one
// token, exactly one wins.
func testOneTimeTokenSpendConcurrent(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	s := newStore(t)
	alice := mustCreateUser(t, s, newUser("alice"))
	mustCreateOTT(t, s, ott("once", jwtgate.PurposeResetPassword, alice.ID, ""))
	var wins, losses atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			_, err := s.SpendOneTimeToken(t.Context(), jwtgate.PurposeResetPassword, hashOf("once"), t0)
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, jwtgate.ErrNotFound):
				losses.Add(1)
			default:
				t.Errorf("SpendOneTimeToken() = %v", err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || losses.Load() != 7 {
		t.Errorf("concurrent spends: %d won, %d lost; want 1 and 7", wins.Load(), losses.Load())
	}
}
