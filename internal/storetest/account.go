package storetest

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
)

// newAccount is a signup with every part: address, verification token,
// its email and two audit events. invitation, if set, is spent.
func newAccount(name, addr string, invitation []byte) *jwtgate.NewAccount {
	vh := sha256.Sum256([]byte("verify " + name))
	return &jwtgate.NewAccount{
		User:       newUser(name),
		Email:      &jwtgate.UserEmail{Address: addr},
		Invitation: invitation,
		Verification: &jwtgate.OneTimeToken{Hash: vh[:], Purpose: jwtgate.PurposeVerifyEmail, Email: addr,
			CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)},
		Mail: &jwtgate.OutboxEmail{To: addr, Purpose: "verify", Body: []byte("sealed"), CreatedAt: t0, NextAttempt: t0},
		Events: []*jwtgate.AuditEvent{
			{At: t0, Type: jwtgate.EventUserCreated, Name: name},
			{At: t0, Type: jwtgate.EventSignedUp, Name: name, Detail: "open"},
		},
		At: t0,
	}
}

// accountState is what a signup may have written, to show that a failed
// one wrote nothing.
type accountState struct {
	users, emails, pending, events int
}

func readAccountState(t *testing.T, s jwtgate.Store, names, addrs []string) accountState {
	t.Helper()
	ctx := t.Context()
	var st accountState
	for _, n := range names {
		if _, err := s.UserByName(ctx, n); err == nil {
			st.users++
		}
	}
	for _, a := range addrs {
		if _, err := s.UserEmailByAddress(ctx, a); err == nil {
			st.emails++
		}
	}
	var err error
	if st.pending, err = s.PendingEmails(ctx); err != nil {
		t.Fatal(err)
	}
	evs, err := s.Audit(ctx, jwtgate.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	st.events = len(evs)
	return st
}

func testCreateAccount(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	a := newAccount("alice", "alice@example.test", nil)
	if err := s.CreateAccount(ctx, a); err != nil {
		t.Fatalf("CreateAccount(alice) = %v, want nil", err)
	}
	if a.User.ID == 0 || a.Email.UserID != a.User.ID || a.Verification.UserID != a.User.ID || a.Verification.ID == 0 || a.Mail.ID == 0 {
		t.Fatalf("CreateAccount(alice) left ids user %d, email %d, token %d/%d, mail %d; want all set",
			a.User.ID, a.Email.UserID, a.Verification.UserID, a.Verification.ID, a.Mail.ID)
	}
	u, err := s.UserByName(ctx, "alice")
	if err != nil || u.ID != a.User.ID || u.PasswordHash != testHash {
		t.Errorf("UserByName(alice) = %+v, %v; want the created user", u, err)
	}
	if e, err := s.UserEmail(ctx, u.ID); err != nil || e.Address != "alice@example.test" || e.Verified() {
		t.Errorf("UserEmail(alice) = %+v, %v; want alice@example.test, unverified", e, err)
	}
	if tok, err := s.OneTimeToken(ctx, jwtgate.PurposeVerifyEmail, a.Verification.Hash, t0); err != nil || tok.UserID != u.ID || tok.Email != "alice@example.test" {
		t.Errorf("OneTimeToken(verification) = %+v, %v; want alice's", tok, err)
	}
	if n, err := s.PendingEmails(ctx); err != nil || n != 1 {
		t.Errorf("PendingEmails() = %d, %v; want 1", n, err)
	}
	evs, err := s.Audit(ctx, jwtgate.AuditFilter{UserID: u.ID})
	if err != nil || len(evs) != 2 {
		t.Fatalf("Audit(alice) = %d events, %v; want 2", len(evs), err)
	}
	for i, ev := range a.Events {
		if ev.ID == 0 || ev.UserID != u.ID {
			t.Errorf("event %d = id %d, user %d; want set, %d", i, ev.ID, ev.UserID, u.ID)
		}
	}

	// A bare account: no address, nothing else.
	bare := &jwtgate.NewAccount{User: newUser("bob"), At: t0}
	if err := s.CreateAccount(ctx, bare); err != nil || bare.User.ID == 0 {
		t.Fatalf("CreateAccount(bob, bare) = %v, id %d; want nil, set", err, bare.User.ID)
	}
	if _, err := s.UserEmail(ctx, bare.User.ID); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("UserEmail(bob) = %v, want ErrNotFound", err)
	}
}

// testCreateAccountAtomic shows that a signup that fails at any step
// writes nothing: not the user, the address, the invitation's spending,
// the token, the email or the events.
func testCreateAccountAtomic(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	if err := s.CreateAccount(ctx, newAccount("alice", "alice@example.test", nil)); err != nil {
		t.Fatal(err)
	}
	ih := sha256.Sum256([]byte("invitation"))
	inv := &jwtgate.OneTimeToken{Hash: ih[:], Purpose: jwtgate.PurposeInvite, Email: "carol@example.test", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}
	if err := s.CreateOneTimeToken(ctx, inv); err != nil {
		t.Fatal(err)
	}
	expired := sha256.Sum256([]byte("expired"))
	if err := s.CreateOneTimeToken(ctx, &jwtgate.OneTimeToken{Hash: expired[:], Purpose: jwtgate.PurposeInvite, Email: "dave@example.test", CreatedAt: t0.Add(-2 * time.Hour), ExpiresAt: t0.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	unknown := sha256.Sum256([]byte("unknown"))
	names := []string{"alice", "ALICE", "carol", "dave"}
	addrs := []string{"alice@example.test", "carol@example.test", "dave@example.test"}
	before := readAccountState(t, s, names, addrs)

	tests := []struct {
		name    string
		account *jwtgate.NewAccount
		want    error
	}{
		{name: "taken name", account: newAccount("ALICE", "carol@example.test", inv.Hash), want: jwtgate.ErrConflict},
		{name: "taken address", account: newAccount("carol", "Alice@Example.test", inv.Hash), want: jwtgate.ErrConflict},
		{name: "expired invitation", account: newAccount("dave", "dave@example.test", expired[:]), want: jwtgate.ErrNotFound},
		{name: "unknown invitation", account: newAccount("carol", "carol@example.test", unknown[:]), want: jwtgate.ErrNotFound},
	}
	for _, tt := range tests {
		err := s.CreateAccount(ctx, tt.account)
		if !errors.Is(err, tt.want) {
			t.Errorf("CreateAccount(%s) = %v, want %v", tt.name, err, tt.want)
		}
		if tt.account.User.ID != 0 || tt.account.Mail.ID != 0 {
			t.Errorf("CreateAccount(%s) set ids %d/%d on failure, want 0", tt.name, tt.account.User.ID, tt.account.Mail.ID)
		}
		if after := readAccountState(t, s, names, addrs); after != before {
			t.Errorf("after CreateAccount(%s): %+v, want unchanged %+v", tt.name, after, before)
		}
	}
	if _, err := s.OneTimeToken(ctx, jwtgate.PurposeInvite, inv.Hash, t0); err != nil {
		t.Errorf("invitation after failed signups: %v, want still live", err)
	}
	// And the invitation works once.
	if err := s.CreateAccount(ctx, newAccount("carol", "carol@example.test", inv.Hash)); err != nil {
		t.Fatalf("CreateAccount(carol, invitation) = %v, want nil", err)
	}
	if err := s.CreateAccount(ctx, newAccount("carol2", "carol2@example.test", inv.Hash)); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("CreateAccount(second use of the invitation) = %v, want ErrNotFound", err)
	}
	if _, err := s.UserByName(ctx, "carol2"); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("UserByName(carol2) = %v, want ErrNotFound: the refused signup made no user", err)
	}
}

// testCreateAccountInvitationConcurrent races signups over one
// invitation: exactly one gets an account.
func testCreateAccountInvitationConcurrent(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	ih := sha256.Sum256([]byte("invitation"))
	if err := s.CreateOneTimeToken(ctx, &jwtgate.OneTimeToken{Hash: ih[:], Purpose: jwtgate.PurposeInvite, Email: "x@example.test", CreatedAt: t0, ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			errs[i] = s.CreateAccount(ctx, newAccount(fmt.Sprintf("user%d", i), fmt.Sprintf("user%d@example.test", i), ih[:]))
		})
	}
	wg.Wait()
	ok := 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, jwtgate.ErrNotFound):
			t.Errorf("CreateAccount(user%d) = %v, want nil or ErrNotFound", i, err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent signups with one invitation succeeded, want 1", ok, n)
	}
	users, err := s.ListUsers(ctx)
	if err != nil || len(users) != 1 {
		t.Errorf("ListUsers() = %d users, %v; want 1", len(users), err)
	}
}
