package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
)

func testUserEmail(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	alice := mustCreateUser(t, s, newUser("alice"))
	bob := mustCreateUser(t, s, newUser("bob"))
	carol := mustCreateUser(t, s, newUser("carol"))

	if _, err := s.UserEmail(ctx, alice.ID); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("UserEmail(no address) = %v, want ErrNotFound", err)
	}
	if err := s.SetUserEmail(ctx, jwtgate.UserEmail{UserID: alice.ID, Address: "Alice@example.test"}); err != nil {
		t.Fatalf("SetUserEmail(alice) = %v", err)
	}
	got, err := s.UserEmail(ctx, alice.ID)
	if err != nil || got.Address != "Alice@example.test" || got.Verified() {
		t.Fatalf("UserEmail(alice) = %+v, %v; want Alice@example.test, unverified", got, err)
	}
	for _, addr := range []string{"alice@example.test", "ALICE@EXAMPLE.TEST", "Alice@example.test"} {
		if got, err := s.UserEmailByAddress(ctx, addr); err != nil || got.UserID != alice.ID {
			t.Errorf("UserEmailByAddress(%q) = %+v, %v; want alice's", addr, got, err)
		}
	}
	for _, addr := range []string{"alice@example.tes", "al.ice@example.test", "alice+x@example.test", "bob'; --@example.test"} {
		if got, err := s.UserEmailByAddress(ctx, addr); !errors.Is(err, jwtgate.ErrNotFound) {
			t.Errorf("UserEmailByAddress(%q) = %+v, %v; want ErrNotFound (nothing but case is folded)", addr, got, err)
		}
	}
	if err := s.SetUserEmail(ctx, jwtgate.UserEmail{UserID: bob.ID, Address: "ALICE@example.test"}); !errors.Is(err, jwtgate.ErrConflict) {
		t.Errorf("SetUserEmail(bob, alice's address in capitals) = %v, want ErrConflict", err)
	}
	if err := s.SetUserEmail(ctx, jwtgate.UserEmail{UserID: 1 << 40, Address: "x@example.test"}); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("SetUserEmail(unknown user) = %v, want ErrNotFound", err)
	}

	// Replacing: verified, then a new address replaces the old entirely.
	at := t0.Add(time.Minute)
	if err := s.SetUserEmail(ctx, jwtgate.UserEmail{UserID: alice.ID, Address: "Alice@example.test", VerifiedAt: &at}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.UserEmail(ctx, alice.ID); !got.Verified() || !sameTime(*got.VerifiedAt, at) {
		t.Errorf("UserEmail(alice) = %+v, want verified at %v", got, at)
	}
	if err := s.SetUserEmail(ctx, jwtgate.UserEmail{UserID: alice.ID, Address: "alice@new.example.test"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserEmail(ctx, jwtgate.UserEmail{UserID: bob.ID, Address: "alice@example.test"}); err != nil {
		t.Errorf("SetUserEmail(bob, alice's old address) = %v, want nil: it is free again", err)
	}
	if err := s.SetUserEmail(ctx, jwtgate.UserEmail{UserID: carol.ID, Address: "carol@example.test"}); err != nil {
		t.Fatal(err)
	}

	all, err := s.UserEmails(ctx, []int64{alice.ID, bob.ID, carol.ID, 1 << 40})
	if err != nil || len(all) != 3 || all[alice.ID].Address != "alice@new.example.test" || all[alice.ID].Verified() || all[bob.ID].Address != "alice@example.test" {
		t.Errorf("UserEmails() = %+v, %v", all, err)
	}
	if none, err := s.UserEmails(ctx, nil); err != nil || len(none) != 0 {
		t.Errorf("UserEmails(nil) = %+v, %v; want empty", none, err)
	}

	if err := s.DeleteUserEmail(ctx, carol.ID); err != nil {
		t.Errorf("DeleteUserEmail(carol) = %v", err)
	}
	if err := s.DeleteUserEmail(ctx, carol.ID); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("DeleteUserEmail(carol again) = %v, want ErrNotFound", err)
	}
	if err := s.DeleteUser(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserEmailByAddress(ctx, "alice@example.test"); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("UserEmailByAddress(deleted bob's) = %v, want ErrNotFound", err)
	}
}
