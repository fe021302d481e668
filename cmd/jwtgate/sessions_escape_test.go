package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlite"
)

// TestSessionsListJSONEscapes: a User-Agent is whatever a client sent;
// sessions list --json writes its bidi and zero-width characters as
// \uXXXX, as user list and audit do, so a terminal shows what is there.
func TestSessionsListJSONEscapes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jwtgate.db")
	st, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	u := &jwtgate.User{Name: "alice", PasswordHash: "x", CreatedAt: now, UpdatedAt: now}
	if err := st.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	sess := &jwtgate.Session{ID: "s1", UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour), UserAgent: "curl\u202e\u200bgnp.exe"}
	if err := st.CreateSession(t.Context(), sess); err != nil {
		t.Fatal(err)
	}
	st.Close()
	r := runCLI(t, "", nil, "sessions", "list", "alice", "--json", "--db", "sqlite:"+path)
	if r.err != nil {
		t.Fatal(r.err)
	}
	if strings.ContainsAny(r.stdout, "\u202e\u200b") || !strings.Contains(r.stdout, `curl\u202e\u200bgnp.exe`) {
		t.Errorf("sessions list --json = %q, want the bidi and zero-width characters escaped", r.stdout)
	}
}
