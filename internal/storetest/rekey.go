package storetest

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
)

// Rekey is what RunRekey needs of a store to test the migration that
// applies the look-alike rules for names to existing users
// (sqlrow.NameKeyVersion).
type Rekey struct {
	// Store is a fresh store, migrated to the latest version.
	Store jwtgate.Store
	// DownTo migrates the store down to version v.
	DownTo func(ctx context.Context, v int64) error
	// Insert stores a user row as an older version did: name and name_key
	// as given, no checks.
	Insert func(ctx context.Context, name, key string) error
	// Migrate brings the store up to date (the store's Migrate).
	Migrate func(ctx context.Context) error
}

// RunRekey checks the name-key migration: existing keys are recomputed
// (including two users trading keys, which a one-pass update would refuse),
// and users whose names become one name under the new rule stop the
// migration with an error naming them, changing nothing.
func RunRekey(t *testing.T, open func(t *testing.T) Rekey) {
	t.Run("recomputes", func(t *testing.T) {
		r := open(t)
		ctx := t.Context()
		if err := r.DownTo(ctx, sqlrow.NameKeyVersion-1); err != nil {
			t.Fatalf("migrating down to %d: %v", sqlrow.NameKeyVersion-1, err)
		}
		// Old keys: lower case. "ＢＯＢ" had "ｂｏｂ"; the new key is "bob".
		for _, n := range []string{"Alice", "ＢＯＢ", "Carol", "Zoë Ωmega"} {
			if err := r.Insert(ctx, n, sqlrow.OldNameKey(n)); err != nil {
				t.Fatalf("inserting %q: %v", n, err)
			}
		}
		if err := r.Migrate(ctx); err != nil {
			t.Fatalf("Migrate() = %v, want nil", err)
		}
		for _, tt := range []struct{ lookup, want string }{{"alice", "Alice"}, {"bob", "ＢＯＢ"}, {"ｂｏｂ", "ＢＯＢ"}, {"CAROL", "Carol"}} {
			u, err := r.Store.UserByName(ctx, tt.lookup)
			if err != nil || u.Name != tt.want {
				t.Errorf("UserByName(%q) after the migration = %v, %v, want %q", tt.lookup, u, err, tt.want)
			}
		}
		if err := r.Store.CreateUser(ctx, &jwtgate.User{Name: "bob", PasswordHash: "h"}); !errors.Is(err, jwtgate.ErrConflict) {
			t.Errorf(`CreateUser("bob") next to "ＢＯＢ" = %v, want ErrConflict`, err)
		}
		// "Zoë Ωmega" mixes Latin and Greek: unique, so migrated, but the
		// name rules now refuse it, and the audit log says so.
		events, err := r.Store.Audit(ctx, jwtgate.AuditFilter{Type: jwtgate.EventSecurityWarning})
		if err != nil || len(events) != 1 || events[0].Name != "Zoë Ωmega" || !strings.Contains(events[0].Detail, "no longer valid") {
			t.Errorf("security warnings after the migration = %+v, %v, want one for \"Zoë Ωmega\"", events, err)
		}
	})
	t.Run("swap", func(t *testing.T) {
		r := open(t)
		ctx := t.Context()
		if err := r.DownTo(ctx, sqlrow.NameKeyVersion-1); err != nil {
			t.Fatal(err)
		}
		// Each row holds the key the other one gets: "y" had "z", "ｚ"
		// (new key "z") had "y".
		if err := r.Insert(ctx, "y", "z"); err != nil {
			t.Fatal(err)
		}
		if err := r.Insert(ctx, "ｚ", "y"); err != nil {
			t.Fatal(err)
		}
		if err := r.Migrate(ctx); err != nil {
			t.Fatalf("Migrate() = %v, want nil", err)
		}
		for _, tt := range []struct{ lookup, want string }{{"y", "y"}, {"z", "ｚ"}, {"Z", "ｚ"}} {
			if u, err := r.Store.UserByName(ctx, tt.lookup); err != nil || u.Name != tt.want {
				t.Errorf("UserByName(%q) = %v, %v, want %q", tt.lookup, u, err, tt.want)
			}
		}
	})
	t.Run("collision", func(t *testing.T) {
		r := open(t)
		ctx := t.Context()
		if err := r.DownTo(ctx, sqlrow.NameKeyVersion-1); err != nil {
			t.Fatal(err)
		}
		// What issue 17 §4 created next to admin before the rule.
		names := []string{"admin", "ａｄｍｉｎ", "admin\u00ad", "a\u200bdmin", "ᴬdmin", "carol"}
		for _, n := range names {
			if err := r.Insert(ctx, n, sqlrow.OldNameKey(n)); err != nil {
				t.Fatalf("inserting %q: %v", n, err)
			}
		}
		err := r.Migrate(ctx)
		if !errors.Is(err, jwtgate.ErrConflict) {
			t.Fatalf("Migrate() with look-alike users = %v, want ErrConflict", err)
		}
		for _, want := range []string{`"admin"`, `"ａｄｍｉｎ"`, `"admin\u00ad"`, `"a\u200bdmin"`, `"ᴬdmin"`, "nothing was changed"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Migrate() = %v\nwant it to name %s", err, want)
			}
		}
		if strings.Contains(err.Error(), "carol") {
			t.Errorf("Migrate() = %v, names carol, who collides with no one", err)
		}
		// Nothing merged: still six users, and the migration is still due.
		if err := r.DownTo(ctx, sqlrow.NameKeyVersion-1); err != nil {
			t.Fatalf("after the refused migration, DownTo(%d) = %v", sqlrow.NameKeyVersion-1, err)
		}
		if all, err := r.Store.ListUsers(ctx); err != nil || len(all) != len(names) {
			t.Errorf("ListUsers() after the refused migration = %d users, %v, want %d", len(all), err, len(names))
		}
	})
}
