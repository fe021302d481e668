package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/internal/sqlite"
)

func TestUserInvite(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "jwtgate.db")
	for _, tt := range []struct {
		name    string
		args    []string
		wantErr string
		code    int
	}{
		{"no issuer", []string{"user", "invite", "dora@example.test", "--db", db}, "--issuer", 2},
		{"no email without a link", []string{"user", "invite", "dora@example.test", "--issuer", "https://auth.example.test", "--no-email", "--db", db}, "--no-email needs --link", 2},
		{"bad address", []string{"user", "invite", "dora\r\nBcc: x@example.test", "--issuer", "https://auth.example.test", "--db", db}, "email", 1},
		{"bad role", []string{"user", "invite", "dora@example.test", "--issuer", "https://auth.example.test", "--role", "Admin!", "--db", db}, "role", 1},
		{"issuer not a URL", []string{"user", "invite", "dora@example.test", "--issuer", "auth.example.test", "--db", db}, "public URL", 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, "", nil, tt.args...)
			if r.err == nil || !strings.Contains(r.err.Error(), tt.wantErr) || exitCode(r.err) != tt.code {
				t.Errorf("run(%q) = %v (exit %d), want an error naming %q, exit %d", tt.args, r.err, exitCode(r.err), tt.wantErr, tt.code)
			}
		})
	}

	r := runCLI(t, "", []string{"JWTGATE_ISSUER=https://auth.example.test"}, "user", "invite", "Dora@Example.TEST", "--role", "dev", "--link", "--db", db)
	if r.err != nil {
		t.Fatalf("user invite = %v", r.err)
	}
	if !strings.Contains(r.stdout, "invited Dora@example.test") || !regexp.MustCompile(`(?m)^https://auth\.example\.test/signup#invitation=[A-Za-z0-9_-]{43}$`).MatchString(r.stdout) {
		t.Errorf("user invite printed %q", r.stdout)
	}
	st, err := sqlite.Open(t.Context(), strings.TrimPrefix(db, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n, _ := st.PendingEmails(t.Context()); n != 1 {
		t.Errorf("%d emails queued, want the invitation", n)
	}
}

func TestUserAddEmail(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "jwtgate.db")
	if r := runCLI(t, "bob's long password\n", nil, "user", "add", "bob", "--email", "Bob@Example.TEST", "--password-stdin", "--db", db); r.err != nil {
		t.Fatalf("user add --email = %v", r.err)
	}
	if r := runCLI(t, "carol's long password\n", nil, "user", "add", "carol", "--email", "BOB@example.test", "--password-stdin", "--db", db); r.err == nil {
		t.Error("user add with another user's address succeeded")
	}
	if r := runCLI(t, "carol's long password\n", nil, "user", "add", "carol", "--email-verified", "--password-stdin", "--db", db); exitCode(r.err) != 2 {
		t.Errorf("user add --email-verified without --email = %v, want a usage error", r.err)
	}
	st, err := sqlite.Open(t.Context(), filepath.Join(dir, "jwtgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e, err := st.UserEmailByAddress(t.Context(), "bob@example.test")
	if err != nil || e.Address != "Bob@example.test" || e.Verified() {
		t.Errorf("bob's address = %+v, %v; want Bob@example.test, unverified", e, err)
	}
	if _, err := st.UserByName(t.Context(), "carol"); err == nil {
		t.Error("carol was created although her address was taken")
	}
}
