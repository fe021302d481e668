package passkey_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/passkey"
	"github.com/jwtgate/jwtgate/internal/passkey/passkeytest"
	"github.com/jwtgate/jwtgate/internal/sqlite"
)

const (
	origin = "https://auth.example.test"
	rpID   = "auth.example.test"
)

type env struct {
	store *sqlite.DB
	svc   *passkey.Service
	alice *jwtgate.User
	bob   *jwtgate.User
}

func newEnv(t testing.TB) *env {
	t.Helper()
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "jwtgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc, err := passkey.New(store, passkey.Options{PublicURL: origin + "/"})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{store: store, svc: svc}
	for _, name := range []string{"alice", "bob"} {
		u := &jwtgate.User{Name: name, PasswordHash: "x"}
		if err := store.CreateUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
		if name == "alice" {
			e.alice = u
		} else {
			e.bob = u
		}
	}
	return e
}

// register adds a passkey from a for u.
func (e *env) register(t *testing.T, u *jwtgate.User, a *passkeytest.Authenticator, name string) *jwtgate.WebAuthnCredential {
	t.Helper()
	id, opts, err := e.svc.BeginRegistration(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.FinishRegistration(t.Context(), u.ID, id, name, a.Create(opts, origin, rpID))
	if err != nil {
		t.Fatalf("FinishRegistration() = %v", err)
	}
	return c
}

func TestRegisterAndSecondFactor(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a := passkeytest.New(t)
	a.Backup = true
	c := e.register(t, e.alice, a, "phone")
	if c.Name != "phone" || !c.BackupEligible || !c.BackupState || len(c.Transports) != 1 {
		t.Errorf("stored credential = %+v, want phone, BE and BS set, one transport", c)
	}
	// The same authenticator cannot be registered twice.
	id, opts, err := e.svc.BeginRegistration(ctx, e.alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.FinishRegistration(ctx, e.alice.ID, id, "again", a.Create(opts, origin, rpID)); !errors.Is(err, jwtgate.ErrConflict) {
		t.Errorf("FinishRegistration(same credential) = %v, want ErrConflict", err)
	}

	for round := range 2 {
		id, opts, err := e.svc.BeginLogin(ctx, e.alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.svc.FinishLogin(ctx, e.alice.ID, id, a.Get(opts, origin, rpID, true))
		if err != nil || r.User.ID != e.alice.ID || r.Passwordless || len(r.AMR) != 2 || r.AMR[0] != "swk" || r.AMR[1] != "user" {
			t.Fatalf("round %d: FinishLogin() = %+v, %v; want alice, second factor, amr swk+user", round, r, err)
		}
	}
	if got, _ := e.store.WebAuthnCredential(ctx, a.CredID); got.SignCount != 2 || got.LastUsedAt == nil {
		t.Errorf("after two logins: counter %d, last used %v; want 2 and set", got.SignCount, got.LastUsedAt)
	}
	if _, _, err := e.svc.BeginLogin(ctx, e.bob.ID); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("BeginLogin(user without passkey) = %v, want ErrNotFound", err)
	}
}

func TestPasswordless(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a := passkeytest.New(t)
	e.register(t, e.alice, a, "laptop")
	id, opts, err := e.svc.BeginPasswordless(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.svc.FinishLogin(ctx, 0, id, a.Get(opts, origin, rpID, true))
	if err != nil || r.User.ID != e.alice.ID || !r.Passwordless || r.AMR[0] != "hwk" {
		t.Fatalf("FinishLogin(passwordless) = %+v, %v; want alice, hwk", r, err)
	}
	// Without user verification, a passkey alone is not enough.
	id, opts, _ = e.svc.BeginPasswordless(ctx)
	if _, err := e.svc.FinishLogin(ctx, 0, id, a.Get(opts, origin, rpID, false)); !errors.Is(err, passkey.ErrRefused) {
		t.Errorf("FinishLogin(passwordless without UV) = %v, want ErrRefused", err)
	}
	// A passwordless ceremony is no second-factor ceremony, and the reverse.
	id, opts, _ = e.svc.BeginPasswordless(ctx)
	if _, err := e.svc.FinishLogin(ctx, e.alice.ID, id, a.Get(opts, origin, rpID, true)); !errors.Is(err, passkey.ErrCeremony) {
		t.Errorf("FinishLogin(passwordless ceremony as alice) = %v, want ErrCeremony", err)
	}
	// A disabled user's passkey signs nobody in.
	if err := e.store.SetDisabled(ctx, e.alice.ID, true, e.alice.CreatedAt); err != nil {
		t.Fatal(err)
	}
	id, opts, _ = e.svc.BeginPasswordless(ctx)
	if _, err := e.svc.FinishLogin(ctx, 0, id, a.Get(opts, origin, rpID, true)); !errors.Is(err, passkey.ErrRefused) {
		t.Errorf("FinishLogin(disabled user) = %v, want ErrRefused", err)
	}
}

// TestRefusedAssertions: answers made for another origin or RP, replayed
// ceremonies, a cloned counter and another user's ceremony all fail and
// change nothing.
func TestRefusedAssertions(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	a := passkeytest.New(t)
	e.register(t, e.alice, a, "key")
	bobKey := passkeytest.New(t)
	e.register(t, e.bob, bobKey, "bob's")

	tests := []struct {
		name string
		run  func() error
		want error
	}{
		{"other origin", func() error {
			id, opts, _ := e.svc.BeginLogin(ctx, e.alice.ID)
			_, err := e.svc.FinishLogin(ctx, e.alice.ID, id, a.Get(opts, "https://evil.example.test", rpID, true))
			return err
		}, passkey.ErrRefused},
		{"other RP ID", func() error {
			id, opts, _ := e.svc.BeginLogin(ctx, e.alice.ID)
			_, err := e.svc.FinishLogin(ctx, e.alice.ID, id, a.Get(opts, origin, "evil.example.test", true))
			return err
		}, passkey.ErrRefused},
		{"parent domain as RP ID", func() error {
			id, opts, _ := e.svc.BeginLogin(ctx, e.alice.ID)
			_, err := e.svc.FinishLogin(ctx, e.alice.ID, id, a.Get(opts, origin, "example.test", true))
			return err
		}, passkey.ErrRefused},
		{"answer to another challenge", func() error {
			_, opts, _ := e.svc.BeginLogin(ctx, e.alice.ID)
			id2, _, _ := e.svc.BeginLogin(ctx, e.alice.ID)
			_, err := e.svc.FinishLogin(ctx, e.alice.ID, id2, a.Get(opts, origin, rpID, true))
			return err
		}, passkey.ErrRefused},
		{"replayed ceremony", func() error {
			id, opts, _ := e.svc.BeginLogin(ctx, e.alice.ID)
			if _, err := e.svc.FinishLogin(ctx, e.alice.ID, id, a.Get(opts, origin, rpID, true)); err != nil {
				return err
			}
			_, err := e.svc.FinishLogin(ctx, e.alice.ID, id, a.Get(opts, origin, rpID, true))
			return err
		}, passkey.ErrCeremony},
		{"cloned counter", func() error {
			id, opts, _ := e.svc.BeginLogin(ctx, e.alice.ID)
			a.Counter -= 2 // the next answer carries an old counter
			_, err := e.svc.FinishLogin(ctx, e.alice.ID, id, a.Get(opts, origin, rpID, true))
			a.Counter += 5
			return err
		}, passkey.ErrRefused},
		{"bob's key for alice's ceremony", func() error {
			id, opts, _ := e.svc.BeginLogin(ctx, e.alice.ID)
			_, err := e.svc.FinishLogin(ctx, e.alice.ID, id, bobKey.Get(opts, origin, rpID, true))
			return err
		}, passkey.ErrRefused},
		{"alice's ceremony finished as bob", func() error {
			id, opts, _ := e.svc.BeginLogin(ctx, e.alice.ID)
			_, err := e.svc.FinishLogin(ctx, e.bob.ID, id, bobKey.Get(opts, origin, rpID, true))
			return err
		}, passkey.ErrCeremony},
		{"unknown ceremony", func() error {
			_, opts, _ := e.svc.BeginLogin(ctx, e.alice.ID)
			_, err := e.svc.FinishLogin(ctx, e.alice.ID, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", a.Get(opts, origin, rpID, true))
			return err
		}, passkey.ErrCeremony},
		{"registration for another origin", func() error {
			id, opts, _ := e.svc.BeginRegistration(ctx, e.alice.ID)
			_, err := e.svc.FinishRegistration(ctx, e.alice.ID, id, "x", passkeytest.New(t).Create(opts, "https://evil.example.test", rpID))
			return err
		}, passkey.ErrRefused},
		{"registration for an unknown challenge", func() error {
			_, opts, _ := e.svc.BeginRegistration(ctx, e.alice.ID)
			id2, _, _ := e.svc.BeginRegistration(ctx, e.alice.ID)
			_, err := e.svc.FinishRegistration(ctx, e.alice.ID, id2, "x", passkeytest.New(t).Create(opts, origin, rpID))
			return err
		}, passkey.ErrRefused},
		{"registration with a control character in the name", func() error {
			id, opts, _ := e.svc.BeginRegistration(ctx, e.alice.ID)
			_, err := e.svc.FinishRegistration(ctx, e.alice.ID, id, "a\nb", passkeytest.New(t).Create(opts, origin, rpID))
			return err
		}, jwtgate.ErrInvalid},
		{"garbage answer", func() error {
			id, _, _ := e.svc.BeginLogin(ctx, e.alice.ID)
			_, err := e.svc.FinishLogin(ctx, e.alice.ID, id, []byte(`{"id":"x","type":"public-key","response":{}}`))
			return err
		}, jwtgate.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.run(); !errors.Is(err, tt.want) {
				t.Errorf("= %v, want %v", err, tt.want)
			}
		})
	}
	if creds, _ := e.store.WebAuthnCredentials(ctx, e.alice.ID); len(creds) != 1 {
		t.Errorf("alice has %d passkeys after refused registrations, want 1", len(creds))
	}
}

func TestManage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a := passkeytest.New(t)
	c := e.register(t, e.alice, a, "key")
	if err := e.svc.Rename(ctx, e.bob.ID, c.ID, "stolen"); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("Rename(bob, alice's) = %v, want ErrNotFound", err)
	}
	if err := e.svc.Rename(ctx, e.alice.ID, c.ID, ""); !errors.Is(err, jwtgate.ErrInvalid) {
		t.Errorf("Rename(empty) = %v, want ErrInvalid", err)
	}
	if err := e.svc.Rename(ctx, e.alice.ID, c.ID, "yubikey"); err != nil {
		t.Errorf("Rename() = %v", err)
	}
	if _, err := passkey.DecodeID("not base64!"); !errors.Is(err, jwtgate.ErrInvalid) {
		t.Errorf("DecodeID(garbage) = %v, want ErrInvalid", err)
	}
	if err := e.svc.Delete(ctx, e.alice, c.ID); err != nil {
		t.Errorf("Delete() = %v", err)
	}
	if list, _ := e.svc.List(ctx, e.alice.ID); len(list) != 0 {
		t.Errorf("List() after delete = %d, want 0", len(list))
	}
}
