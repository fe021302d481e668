package postgres

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
)

// TestUnstorableText covers strings PostgreSQL's text cannot hold (invalid
// UTF-8, NUL), which SQLite stores as given. A request can carry them (a
// path segment, a header); the store must answer as if they were any other
// unknown value, or refuse them as invalid input, never fail as a server.
func TestUnstorableText(t *testing.T) {
	ctx := t.Context()
	db := openTest(t)
	now := time.Now()
	u := &jwtgate.User{Name: "zoë", PasswordHash: "h"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}

	// A name longer than an index entry can hold, even compressed (the
	// service caps names at 64 characters; the store does not count on it).
	long := make([]byte, 4000)
	rand.Read(long)
	for _, name := range []string{"bad\xff", "nul\x00", hex.EncodeToString(long)} {
		if err := db.CreateUser(ctx, &jwtgate.User{Name: name, PasswordHash: "h"}); !errors.Is(err, jwtgate.ErrInvalid) {
			t.Errorf("CreateUser(%.20q) = %.200v, want ErrInvalid", name, err)
		}
	}
	for _, name := range []string{"zo\x00", "\x00"} {
		if got, err := db.UserByName(ctx, name); !errors.Is(err, jwtgate.ErrNotFound) {
			t.Errorf("UserByName(%q) = %v, %v, want ErrNotFound", name, got, err)
		}
	}
	for _, id := range []string{"\xff", "a\x00"} {
		if got, err := db.SessionByID(ctx, id); !errors.Is(err, jwtgate.ErrNotFound) {
			t.Errorf("SessionByID(%q) = %v, %v, want ErrNotFound", id, got, err)
		}
		if ids, err := db.RevokeSessions(ctx, jwtgate.SessionFilter{ID: id}, now, now); err != nil || len(ids) != 0 {
			t.Errorf("RevokeSessions(%q) = %v, %v, want none, nil", id, ids, err)
		}
		rt := &jwtgate.RefreshToken{Hash: []byte("h"), SessionID: id, CreatedAt: now}
		if err := db.CreateRefreshToken(ctx, rt); !errors.Is(err, jwtgate.ErrNotFound) {
			t.Errorf("CreateRefreshToken(session %q) = %v, want ErrNotFound", id, err)
		}
	}
	if err := db.RevokeToken(ctx, "jti\xff", now); !errors.Is(err, jwtgate.ErrInvalid) {
		t.Errorf("RevokeToken(%q) = %v, want ErrInvalid", "jti\xff", err)
	}

	// Free text from the request is stored with the bad bytes replaced: a
	// User-Agent cut mid-character (as a byte limit cuts it) must not make
	// the login fail.
	s := &jwtgate.Session{ID: "s1", UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour),
		IP: "\xff", UserAgent: "Zo\xc3"}
	if err := db.CreateSession(ctx, s); err != nil {
		t.Fatalf("CreateSession(user agent %q) = %v, want nil", s.UserAgent, err)
	}
	got, err := db.SessionByID(ctx, "s1")
	if err != nil || got.UserAgent != "Zo\uFFFD" || got.IP != "\uFFFD" {
		t.Errorf("SessionByID(s1) = %+v, %v; want IP %q, UserAgent %q", got, err, "\uFFFD", "Zo\uFFFD")
	}
	// An ExceptID that cannot be stored excepts nothing.
	if ids, err := db.RevokeSessions(ctx, jwtgate.SessionFilter{UserID: u.ID, ExceptID: "\x00"}, now, now); err != nil || len(ids) != 1 {
		t.Errorf("RevokeSessions(all of %d except %q) = %v, %v, want [s1]", u.ID, "\x00", ids, err)
	}

	e := &jwtgate.AuditEvent{At: now, Type: jwtgate.EventLoginFailed, UserAgent: "\x00\xfe", Detail: "d\xff"}
	if err := db.AppendAudit(ctx, e); err != nil {
		t.Fatalf("AppendAudit(user agent %q) = %v, want nil", e.UserAgent, err)
	}
	if got, err := db.Audit(ctx, jwtgate.AuditFilter{Type: "\xff"}); err != nil || len(got) != 0 {
		t.Errorf("Audit(type %q) = %v, %v, want none, nil", "\xff", got, err)
	}
	if got, err := db.Audit(ctx, jwtgate.AuditFilter{}); err != nil || len(got) != 1 || got[0].Detail != "d\uFFFD" {
		t.Errorf("Audit() = %+v, %v, want one event with detail %q", got, err, "d\uFFFD")
	}
}
