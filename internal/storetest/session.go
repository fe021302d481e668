package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
)

// newSession returns a live session to create, made at t0.
func newSession(id string, userID int64) *jwtgate.Session {
	return &jwtgate.Session{
		ID:        id,
		UserID:    userID,
		CreatedAt: t0,
		ExpiresAt: t0.Add(30 * 24 * time.Hour),
		IP:        "203.0.113.7",
		UserAgent: "Mozilla/5.0 (X11; Linux x86_64)",
	}
}

// mustCreateSession creates a session or stops the test.
func mustCreateSession(t *testing.T, s jwtgate.Store, sess *jwtgate.Session) *jwtgate.Session {
	t.Helper()
	if err := s.CreateSession(t.Context(), sess); err != nil {
		t.Fatalf("CreateSession(%q) = %v, want nil", sess.ID, err)
	}
	return sess
}

func testSession(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	u := mustCreateUser(t, s, newUser("grace"))
	revoked := t0.Add(time.Minute)

	tests := []struct {
		name string
		sess *jwtgate.Session
	}{
		{name: "live", sess: newSession("Xq3-_9aZ", u.ID)},
		{name: "revoked", sess: func() *jwtgate.Session {
			s := newSession("revoked", u.ID)
			s.RevokedAt = &revoked
			return s
		}()},
		{name: "no client", sess: func() *jwtgate.Session {
			s := newSession("no-client", u.ID)
			s.IP, s.UserAgent = "", ""
			return s
		}()},
		{name: "odd client", sess: func() *jwtgate.Session {
			s := newSession(`'; DROP TABLE sessions;--`, u.ID)
			s.IP = "2001:db8::1"
			s.UserAgent = `curl/8 "quoted" 'single' \ ; DROP TABLE sessions;-- Zoë 🦫`
			return s
		}()},
	}
	for _, tt := range tests {
		mustCreateSession(t, s, tt.sess)
		got, err := s.SessionByID(ctx, tt.sess.ID)
		if err != nil {
			t.Errorf("%s: SessionByID(%q) = %v, want nil", tt.name, tt.sess.ID, err)
			continue
		}
		checkSession(t, "SessionByID("+tt.sess.ID+")", got, tt.sess)
		if live, want := got.Live(t0), tt.sess.RevokedAt == nil; live != want {
			t.Errorf("%s: SessionByID(%q).Live(t0) = %t, want %t", tt.name, tt.sess.ID, live, want)
		}
	}
}

func testSessionNotFound(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	u := mustCreateUser(t, s, newUser("heidi"))
	mustCreateSession(t, s, newSession("present", u.ID))

	for _, id := range []string{"absent", "", "PRESENT", "%"} {
		if got, err := s.SessionByID(ctx, id); !errors.Is(err, jwtgate.ErrNotFound) {
			t.Errorf("SessionByID(%q) = %v, %v, want ErrNotFound", id, got, err)
		}
		if err := s.RevokeSession(ctx, id, t0); !errors.Is(err, jwtgate.ErrNotFound) {
			t.Errorf("RevokeSession(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

// testSessionUnknownUser: a session for a user deleted meanwhile is
// refused as not found, so a login racing a delete gets no session.
func testSessionUnknownUser(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	u := mustCreateUser(t, s, newUser("ivan"))
	sess := newSession("orphan", u.ID+1000)
	if err := s.CreateSession(ctx, sess); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("CreateSession(user %d) of no user = %v, want ErrNotFound", sess.UserID, err)
	}
	if got, err := s.SessionByID(ctx, sess.ID); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("SessionByID(%q) = %v, %v, want ErrNotFound", sess.ID, got, err)
	}
}

func testSessionDuplicate(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	u := mustCreateUser(t, s, newUser("judy"))
	first := mustCreateSession(t, s, newSession("same", u.ID))

	second := newSession("same", u.ID)
	second.IP = "198.51.100.1"
	if err := s.CreateSession(ctx, second); !errors.Is(err, jwtgate.ErrConflict) {
		t.Errorf("CreateSession(%q) twice = %v, want ErrConflict", second.ID, err)
	}
	got, err := s.SessionByID(ctx, first.ID)
	if err != nil {
		t.Fatalf("SessionByID(%q) = %v, want nil", first.ID, err)
	}
	checkSession(t, "SessionByID(same)", got, first)
}

func testRevokeSession(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	u := mustCreateUser(t, s, newUser("ken"))
	sess := mustCreateSession(t, s, newSession("to-revoke", u.ID))
	other := mustCreateSession(t, s, newSession("bystander", u.ID))

	first := t0.Add(time.Hour)
	// The second revocation comes later, the third with an earlier clock;
	// either way the first time stays.
	for _, at := range []time.Time{first, first.Add(time.Hour), t0} {
		if err := s.RevokeSession(ctx, sess.ID, at); err != nil {
			t.Fatalf("RevokeSession(%q, %v) = %v, want nil", sess.ID, at, err)
		}
		got, err := s.SessionByID(ctx, sess.ID)
		if err != nil {
			t.Fatalf("SessionByID(%q) = %v, want nil", sess.ID, err)
		}
		if !samePtrTime(got.RevokedAt, &first) {
			t.Errorf("after RevokeSession(%q, %v): RevokedAt = %s, want %v", sess.ID, at, fmtPtrTime(got.RevokedAt), stored(first))
		}
		if got.Live(t0) {
			t.Errorf("after RevokeSession(%q): Live(t0) = true, want false", sess.ID)
		}
	}

	got, err := s.SessionByID(ctx, other.ID)
	if err != nil {
		t.Fatalf("SessionByID(%q) = %v, want nil", other.ID, err)
	}
	checkSession(t, "SessionByID(bystander)", got, other)
}
