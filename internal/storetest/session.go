package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
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
		{name: "two factors", sess: func() *jwtgate.Session {
			s := newSession("mfa", u.ID)
			s.AMR = []string{"pwd", "otp", "mfa"}
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
		if ids, err := s.RevokeSessions(ctx, jwtgate.SessionFilter{ID: id}, t0, t0); err != nil || len(ids) != 0 {
			t.Errorf("RevokeSessions(%q) = %v, %v, want none, nil", id, ids, err)
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

func testRevokeSessions(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	u := mustCreateUser(t, s, newUser("ken"))
	v := mustCreateUser(t, s, newUser("lea"))
	for _, id := range []string{"k1", "k2", "k3"} {
		mustCreateSession(t, s, newSession(id, u.ID))
	}
	mustCreateSession(t, s, newSession("l1", v.ID))
	at, until := t0.Add(time.Hour), t0.Add(2*time.Hour)

	// One session, checked to belong to its user: another user's id is a no-op.
	if ids, err := s.RevokeSessions(ctx, jwtgate.SessionFilter{ID: "l1", UserID: u.ID}, at, until); err != nil || len(ids) != 0 {
		t.Errorf("RevokeSessions(l1 as ken) = %v, %v, want none", ids, err)
	}
	if ids, err := s.RevokeSessions(ctx, jwtgate.SessionFilter{ID: "k1", UserID: u.ID}, at, until); err != nil || !slices.Equal(ids, []string{"k1"}) {
		t.Fatalf("RevokeSessions(k1) = %v, %v, want [k1]", ids, err)
	}
	// Again: already revoked, so nothing, and the first time stays.
	if ids, err := s.RevokeSessions(ctx, jwtgate.SessionFilter{ID: "k1"}, at.Add(time.Hour), until); err != nil || len(ids) != 0 {
		t.Errorf("RevokeSessions(k1) again = %v, %v, want none", ids, err)
	}
	got, _ := s.SessionByID(ctx, "k1")
	if !samePtrTime(got.RevokedAt, &at) || got.Live(t0) {
		t.Errorf("k1 after revoke: RevokedAt = %s, want %v", fmtPtrTime(got.RevokedAt), stored(at))
	}
	// All of the user's others except k3.
	ids, err := s.RevokeSessions(ctx, jwtgate.SessionFilter{UserID: u.ID, ExceptID: "k3"}, at, until)
	if err != nil || !slices.Equal(ids, []string{"k2"}) {
		t.Fatalf("RevokeSessions(ken except k3) = %v, %v, want [k2]", ids, err)
	}
	for id, live := range map[string]bool{"k1": false, "k2": false, "k3": true, "l1": true} {
		got, err := s.SessionByID(ctx, id)
		if err != nil || got.Live(t0) != live {
			t.Errorf("SessionByID(%s).Live = %v, %v; want %v", id, got.Live(t0), err, live)
		}
	}
	// The feed holds exactly the two revoked sessions, in order.
	feed, err := s.Revocations(ctx, 0, t0, 100)
	if err != nil || len(feed) != 2 || feed[0].SessionID != "k1" || feed[1].SessionID != "k2" ||
		feed[0].Seq >= feed[1].Seq || !sameTime(feed[0].ExpiresAt, until) {
		t.Errorf("Revocations(0) = %+v, %v; want k1, k2 expiring %v", feed, err, stored(until))
	}
	sessions, err := s.SessionsByUser(ctx, u.ID)
	if err != nil || len(sessions) != 3 {
		t.Errorf("SessionsByUser(ken) = %d sessions, %v; want 3", len(sessions), err)
	}
}

func testRevocationFeed(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	if last, err := s.LastRevocationSeq(ctx); err != nil || last != 0 {
		t.Errorf("LastRevocationSeq(empty) = %d, %v; want 0", last, err)
	}
	for i, exp := range []time.Duration{time.Hour, time.Minute, 2 * time.Hour} {
		if err := s.RevokeToken(ctx, fmt.Sprintf("jti-%d", i), t0.Add(exp)); err != nil {
			t.Fatalf("RevokeToken = %v", err)
		}
	}
	all, err := s.Revocations(ctx, 0, t0, 100)
	if err != nil || len(all) != 3 || all[0].TokenID != "jti-0" || all[0].SessionID != "" {
		t.Fatalf("Revocations(0) = %+v, %v", all, err)
	}
	// Entries after a cursor; expired ones are not served.
	later, err := s.Revocations(ctx, all[0].Seq, t0.Add(30*time.Minute), 100)
	if err != nil || len(later) != 1 || later[0].TokenID != "jti-2" {
		t.Errorf("Revocations(after first, +30m) = %+v, %v; want only jti-2", later, err)
	}
	if page, _ := s.Revocations(ctx, 0, t0, 2); len(page) != 2 {
		t.Errorf("Revocations(limit 2) = %d entries", len(page))
	}
	if last, err := s.LastRevocationSeq(ctx); err != nil || last != all[2].Seq {
		t.Errorf("LastRevocationSeq = %d, %v; want %d", last, err, all[2].Seq)
	}
	n, err := s.PruneRevocations(ctx, t0.Add(90*time.Minute))
	if err != nil || n != 2 {
		t.Errorf("PruneRevocations = %d, %v; want 2", n, err)
	}
	if rest, _ := s.Revocations(ctx, 0, t0, 100); len(rest) != 1 || rest[0].Seq != all[2].Seq {
		t.Errorf("after prune: %+v", rest)
	}
	if last, _ := s.LastRevocationSeq(ctx); last != all[2].Seq {
		t.Errorf("LastRevocationSeq after pruning = %d, want %d (pruning must not lower it)", last, all[2].Seq)
	}
	// A seq is never reused after pruning.
	s.RevokeToken(ctx, "jti-3", t0.Add(time.Hour))
	if rest, _ := s.Revocations(ctx, all[2].Seq, t0, 100); len(rest) != 1 || rest[0].Seq <= all[2].Seq {
		t.Errorf("new entry after prune: %+v", rest)
	}
}

func testRefreshTokens(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	u := mustCreateUser(t, s, newUser("mia"))
	mustCreateSession(t, s, newSession("sess", u.ID))
	first := &jwtgate.RefreshToken{Hash: []byte("hash-1"), SessionID: "sess", CreatedAt: t0}
	if err := s.CreateRefreshToken(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateRefreshToken(ctx, &jwtgate.RefreshToken{Hash: []byte("x"), SessionID: "nope", CreatedAt: t0}); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("CreateRefreshToken(unknown session) = %v, want ErrNotFound", err)
	}
	got, err := s.RefreshTokenByHash(ctx, []byte("hash-1"))
	if err != nil || got.SessionID != "sess" || got.SpentAt != nil || !sameTime(got.CreatedAt, t0) {
		t.Fatalf("RefreshTokenByHash = %+v, %v", got, err)
	}
	if _, err := s.RefreshTokenByHash(ctx, []byte("hash-0")); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("RefreshTokenByHash(unknown) = %v", err)
	}
	at := t0.Add(time.Minute)
	next := &jwtgate.RefreshToken{Hash: []byte("hash-2"), SessionID: "sess", CreatedAt: at}
	ok, err := s.SpendRefreshToken(ctx, []byte("hash-1"), at, next)
	if err != nil || !ok {
		t.Fatalf("SpendRefreshToken = %v, %v; want true", ok, err)
	}
	got, _ = s.RefreshTokenByHash(ctx, []byte("hash-1"))
	if !samePtrTime(got.SpentAt, &at) {
		t.Errorf("SpentAt = %s, want %v", fmtPtrTime(got.SpentAt), stored(at))
	}
	if _, err := s.RefreshTokenByHash(ctx, []byte("hash-2")); err != nil {
		t.Errorf("successor missing: %v", err)
	}
	sess, _ := s.SessionByID(ctx, "sess")
	if !sameTime(sess.LastUsedAt, at) {
		t.Errorf("LastUsedAt = %v, want %v", sess.LastUsedAt, stored(at))
	}
	// Spent already: false, nothing changes (no second successor).
	ok, err = s.SpendRefreshToken(ctx, []byte("hash-1"), at.Add(time.Minute), &jwtgate.RefreshToken{Hash: []byte("hash-3"), SessionID: "sess", CreatedAt: at})
	if err != nil || ok {
		t.Errorf("SpendRefreshToken(spent) = %v, %v; want false, nil", ok, err)
	}
	if _, err := s.RefreshTokenByHash(ctx, []byte("hash-3")); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("a refused spend inserted its successor: %v", err)
	}
	if _, err := s.SpendRefreshToken(ctx, []byte("nope"), at, next); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("SpendRefreshToken(unknown) = %v, want ErrNotFound", err)
	}
}

// testSpendRefreshTokenConcurrent: of many concurrent spends, exactly one wins.
func testSpendRefreshTokenConcurrent(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	u := mustCreateUser(t, s, newUser("ned"))
	mustCreateSession(t, s, newSession("sess", u.ID))
	if err := s.CreateRefreshToken(ctx, &jwtgate.RefreshToken{Hash: []byte("h"), SessionID: "sess", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	const n = 10
	var wg sync.WaitGroup
	wins := make(chan int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := s.SpendRefreshToken(ctx, []byte("h"), t0, &jwtgate.RefreshToken{Hash: fmt.Appendf(nil, "next-%d", i), SessionID: "sess", CreatedAt: t0})
			if err != nil {
				t.Errorf("SpendRefreshToken #%d = %v", i, err)
			}
			if ok {
				wins <- i
			}
		}()
	}
	wg.Wait()
	close(wins)
	if len(wins) != 1 {
		t.Errorf("%d concurrent spends won, want exactly 1", len(wins))
	}
}

func testStartSession(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	u := mustCreateUser(t, s, newUser("quinn"))
	sess := newSession("started", u.ID)
	sess.AMR = []string{"swk", "user"}
	rt := &jwtgate.RefreshToken{Hash: []byte("first"), SessionID: sess.ID, CreatedAt: t0}
	// Every field set, ActorID too, so each must round-trip.
	ev := &jwtgate.AuditEvent{At: t0, Type: jwtgate.EventLoginSucceeded, UserID: u.ID, ActorID: 3, Name: u.Name,
		IP: sess.IP, UserAgent: sess.UserAgent, Detail: "sid " + sess.ID}
	if err := s.StartSession(ctx, sess, rt, ev); err != nil {
		t.Fatalf("StartSession = %v", err)
	}
	got, err := s.SessionByID(ctx, sess.ID)
	if err != nil {
		t.Fatalf("SessionByID after StartSession = %v", err)
	}
	checkSession(t, "SessionByID(started)", got, sess)
	if r, err := s.RefreshTokenByHash(ctx, []byte("first")); err != nil || r.SessionID != sess.ID {
		t.Errorf("RefreshTokenByHash after StartSession = %+v, %v", r, err)
	}
	if ev.ID == 0 {
		t.Errorf("StartSession left ev.ID = 0, want it set")
	}
	events, err := s.Audit(ctx, jwtgate.AuditFilter{})
	if err != nil || len(events) != 1 {
		t.Fatalf("Audit after StartSession = %+v, %v; want the login's event", events, err)
	}
	gotEv, wantEv := events[0], *ev
	if !sameTime(gotEv.At, wantEv.At) {
		t.Errorf("Audit after StartSession: At = %v, want %v", gotEv.At, stored(wantEv.At))
	}
	gotEv.At, wantEv.At = time.Time{}, time.Time{}
	if gotEv != wantEv {
		t.Errorf("Audit after StartSession = %+v, want %+v", gotEv, wantEv)
	}

	// Without an event: the session and token only.
	quiet := newSession("quiet", u.ID)
	if err := s.StartSession(ctx, quiet, &jwtgate.RefreshToken{Hash: []byte("quiet"), SessionID: quiet.ID, CreatedAt: t0}, nil); err != nil {
		t.Fatalf("StartSession(nil event) = %v", err)
	}
	if _, err := s.SessionByID(ctx, quiet.ID); err != nil {
		t.Errorf("SessionByID after StartSession(nil event) = %v", err)
	}
	if _, err := s.RefreshTokenByHash(ctx, []byte("quiet")); err != nil {
		t.Errorf("RefreshTokenByHash after StartSession(nil event) = %v", err)
	}
	if events, err := s.Audit(ctx, jwtgate.AuditFilter{}); err != nil || len(events) != 1 {
		t.Errorf("Audit after StartSession(nil event) = %d events, %v; want still 1", len(events), err)
	}

	// A refused StartSession stores nothing: not the session, not the
	// token, not the event.
	for _, tt := range []struct {
		name    string
		sess    *jwtgate.Session
		hash    string
		want    error
		tokenOf string // the session the token belongs to afterwards; "" for none
	}{
		{name: "unknown user", sess: newSession("orphan", u.ID+99), hash: "orphan", want: jwtgate.ErrNotFound},
		{name: "duplicate session id", sess: newSession("started", u.ID), hash: "second", want: jwtgate.ErrConflict},
		{name: "duplicate refresh token", sess: newSession("third", u.ID), hash: "first", want: jwtgate.ErrConflict, tokenOf: "started"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ev := &jwtgate.AuditEvent{At: t0, Type: jwtgate.EventLoginSucceeded, UserID: tt.sess.UserID, Detail: "sid " + tt.sess.ID}
			rt := &jwtgate.RefreshToken{Hash: []byte(tt.hash), SessionID: tt.sess.ID, CreatedAt: t0}
			if err := s.StartSession(ctx, tt.sess, rt, ev); !errors.Is(err, tt.want) {
				t.Errorf("StartSession(%s) = %v, want %v", tt.name, err, tt.want)
			}
			r, err := s.RefreshTokenByHash(ctx, []byte(tt.hash))
			switch {
			case tt.tokenOf == "" && !errors.Is(err, jwtgate.ErrNotFound):
				t.Errorf("RefreshTokenByHash(%s) = %+v, %v; want ErrNotFound", tt.hash, r, err)
			case tt.tokenOf != "" && (err != nil || r.SessionID != tt.tokenOf):
				t.Errorf("RefreshTokenByHash(%s) = %+v, %v; want the token of session %s", tt.hash, r, err, tt.tokenOf)
			}
			if tt.sess.ID != sess.ID {
				if _, err := s.SessionByID(ctx, tt.sess.ID); !errors.Is(err, jwtgate.ErrNotFound) {
					t.Errorf("SessionByID(%s) = %v, want ErrNotFound", tt.sess.ID, err)
				}
			}
			if events, err := s.Audit(ctx, jwtgate.AuditFilter{}); err != nil || len(events) != 1 {
				t.Errorf("Audit after StartSession(%s) = %+v, %v; want only the first login's event", tt.name, events, err)
			}
		})
	}
}

// testEvictSessions: EvictSessions keeps a user's most recently used live
// sessions and revokes the rest, feeding their revocations; revoked and
// expired sessions neither count nor change, and other users are untouched.
func testEvictSessions(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	u := mustCreateUser(t, s, newUser("ivan"))
	other := mustCreateUser(t, s, newUser("judy"))
	at := t0.Add(time.Hour)
	until := at.Add(15 * time.Minute)
	revokedAt := t0.Add(time.Minute)
	// Created in this order (CreatedAt t0+i min), used at LastUsedAt:
	// "first" was created first but used last, so it is kept longest.
	for i, c := range []struct {
		id       string
		lastUsed time.Duration
		expired  bool
		revoked  bool
		user     int64
	}{
		{id: "first", lastUsed: 50 * time.Minute},
		{id: "second", lastUsed: 2 * time.Minute},
		{id: "third", lastUsed: 40 * time.Minute},
		{id: "fourth", lastUsed: 4 * time.Minute},
		{id: "fifth", lastUsed: 30 * time.Minute},
		{id: "expired", lastUsed: 59 * time.Minute, expired: true},
		{id: "revoked", lastUsed: 58 * time.Minute, revoked: true},
		{id: "judys", lastUsed: time.Minute, user: other.ID},
	} {
		sess := newSession(c.id, u.ID)
		if c.user != 0 {
			sess.UserID = c.user
		}
		sess.CreatedAt = t0.Add(time.Duration(i) * time.Minute)
		sess.LastUsedAt = t0.Add(c.lastUsed)
		if c.expired {
			sess.ExpiresAt = at
		}
		if c.revoked {
			sess.RevokedAt = &revokedAt
		}
		mustCreateSession(t, s, sess)
	}
	for _, step := range []struct {
		max, keep int
		want      []string // revoked by this call, in any order
	}{
		{max: 5, keep: 5, want: nil},
		{max: 5, keep: 1, want: nil}, // 5 live: not over max
		{max: 4, keep: 3, want: []string{"fourth", "second"}},
		{max: 3, keep: 3, want: nil},
		{max: 2, keep: 1, want: []string{"fifth", "third"}},
		{max: 0, keep: 0, want: []string{"first"}},
	} {
		ids, err := s.EvictSessions(ctx, u.ID, step.max, step.keep, at, until)
		slices.Sort(ids)
		if err != nil || !slices.Equal(ids, step.want) {
			t.Errorf("EvictSessions(ivan, max %d, keep %d) = %v, %v; want %v, nil", step.max, step.keep, ids, err, step.want)
		}
	}
	feed, err := s.Revocations(ctx, 0, at, 100)
	var fed []string
	for _, r := range feed {
		fed = append(fed, r.SessionID)
		if !sameTime(r.ExpiresAt, until) {
			t.Errorf("feed entry for %s expires %v, want %v", r.SessionID, r.ExpiresAt, stored(until))
		}
	}
	slices.Sort(fed)
	if want := []string{"fifth", "first", "fourth", "second", "third"}; err != nil || !slices.Equal(fed, want) {
		t.Errorf("Revocations after evictions = %v, %v; want %v", fed, err, want)
	}
	for id, wantRevoked := range map[string]*time.Time{"first": &at, "expired": nil, "revoked": &revokedAt, "judys": nil} {
		got, err := s.SessionByID(ctx, id)
		if err != nil {
			t.Fatalf("SessionByID(%s) = %v", id, err)
		}
		if (got.RevokedAt == nil) != (wantRevoked == nil) || (wantRevoked != nil && !sameTime(*got.RevokedAt, *wantRevoked)) {
			t.Errorf("SessionByID(%s).RevokedAt = %s, want %v", id, fmtPtrTime(got.RevokedAt), wantRevoked)
		}
	}
}
