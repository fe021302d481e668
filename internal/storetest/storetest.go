// Package storetest is the contract every jwtgate.Store must meet, written
// once and run against each implementation (internal/sqlite now,
// internal/postgres later), so the stores cannot drift apart.
//
// An implementation's test calls Run with a function that opens a fresh,
// empty store:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) jwtgate.Store {
//			db, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "jwtgate.db"))
//			if err != nil {
//				t.Fatal(err)
//			}
//			return db
//		})
//	}
package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
)

// Run runs the contract suite. open must return a new, empty store on every
// call; Run closes it when the subtest that asked for it ends. Subtests run
// in parallel, each with its own store(s), so open is called concurrently.
func Run(t *testing.T, open func(t *testing.T) jwtgate.Store) {
	newStore := func(t *testing.T) jwtgate.Store {
		t.Helper()
		s := open(t)
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Errorf("Close() = %v, want nil", err)
			}
		})
		return s
	}
	tests := []struct {
		name string
		run  func(t *testing.T, newStore func(*testing.T) jwtgate.Store)
	}{
		{name: "Ping", run: testPing},

		{name: "CreateUser", run: testCreateUser},
		{name: "CreateUserConflict", run: testCreateUserConflict},
		{name: "CreateUserNames", run: testUserNames},
		{name: "CreateUserRoles", run: testUserRoles},
		{name: "UserNotFound", run: testUserNotFound},
		{name: "CreateFirstUser", run: testCreateFirstUser},
		{name: "CreateFirstUserNotEmpty", run: testCreateFirstUserNotEmpty},
		{name: "CreateFirstUserConcurrent", run: testCreateFirstUserConcurrent},
		{name: "ListUsers", run: testListUsers},
		{name: "SearchUsers", run: testSearchUsers},
		{name: "HasUsers", run: testHasUsers},
		{name: "SetRoles", run: testSetRoles},
		{name: "SetPasswordHash", run: testSetPasswordHash},
		{name: "SetDisabled", run: testSetDisabled},
		{name: "DeleteUser", run: testDeleteUser},
		{name: "UserEmail", run: testUserEmail},
		{name: "CreateAccount", run: testCreateAccount},
		{name: "CreateAccountAtomic", run: testCreateAccountAtomic},
		{name: "CreateAccountInvitationConcurrent", run: testCreateAccountInvitationConcurrent},

		{name: "Session", run: testSession},
		{name: "SessionNotFound", run: testSessionNotFound},
		{name: "SessionUnknownUser", run: testSessionUnknownUser},
		{name: "SessionDuplicate", run: testSessionDuplicate},
		{name: "RevokeSessions", run: testRevokeSessions},
		{name: "RevocationFeed", run: testRevocationFeed},
		{name: "RefreshTokens", run: testRefreshTokens},
		{name: "StartSession", run: testStartSession},
		{name: "EvictSessions", run: testEvictSessions},
		{name: "SpendRefreshTokenConcurrent", run: testSpendRefreshTokenConcurrent},

		{name: "EnsureKey", run: testEnsureKey},
		{name: "EnsureKeyConcurrent", run: testEnsureKeyConcurrent},
		{name: "Keys", run: testKeys},
		{name: "RotateKey", run: testRotateKey},
		{name: "AddKey", run: testAddKey},
		{name: "EnsureSecret", run: testEnsureSecret},

		{name: "Audit", run: testAudit},

		{name: "Outbox", run: testOutbox},
		{name: "ClaimEmailsConcurrent", run: testClaimEmailsConcurrent},

		{name: "OneTimeTokenSpend", run: testOneTimeTokenSpend},
		{name: "OneTimeTokenNewestOnly", run: testOneTimeTokenNewestOnly},
		{name: "OneTimeTokenManage", run: testOneTimeTokenManage},
		{name: "OneTimeTokenSpendConcurrent", run: testOneTimeTokenSpendConcurrent},

		{name: "TOTP", run: testTOTP},
		{name: "TOTPStepConcurrent", run: testTOTPStepConcurrent},
		{name: "RecoveryCodes", run: testRecoveryCodes},
		{name: "WebAuthnCredentials", run: testWebAuthnCredentials},

		{name: "Clients", run: testClients},
		{name: "AuthRequests", run: testAuthRequests},
		{name: "Consents", run: testConsents},
		{name: "ClientGrants", run: testClientGrants},

		{name: "Times", run: testTimes},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, newStore)
		})
	}
}

func testPing(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	s := newStore(t)
	if err := s.Ping(t.Context()); err != nil {
		t.Errorf("Ping() = %v, want nil", err)
	}
}

// t0 is the time fixtures are made at. It has nanoseconds and a zone other
// than UTC, so every comparison also checks that a store keeps milliseconds
// and hands times back in UTC.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535_897_932, time.FixedZone("UTC+1", 60*60))

// stored is t as a store returns it: to the millisecond, in UTC.
func stored(t time.Time) time.Time { return t.Truncate(time.Millisecond).UTC() }

// sameTime reports whether got is want as a store should return it.
func sameTime(got, want time.Time) bool {
	return got.Equal(stored(want)) && got.Location() == time.UTC
}

// samePtrTime is sameTime for optional times.
func samePtrTime(got, want *time.Time) bool {
	if got == nil || want == nil {
		return got == want
	}
	return sameTime(*got, *want)
}

func fmtPtrTime(p *time.Time) string {
	if p == nil {
		return "nil"
	}
	return p.String()
}

// sameRoles is slices.Equal that also tells nil from empty: a user with
// no roles comes back with nil Roles.
func sameRoles(got, want []string) bool {
	if (got == nil) != (len(want) == 0) {
		return false
	}
	return slices.Equal(got, want)
}

// checkUser reports each field in which got differs from want as stored;
// call is the call that produced got, for the messages.
func checkUser(t *testing.T, call string, got, want *jwtgate.User) {
	t.Helper()
	if got.ID != want.ID {
		t.Errorf("%s.ID = %d, want %d", call, got.ID, want.ID)
	}
	if got.Name != want.Name {
		t.Errorf("%s.Name = %q, want %q", call, got.Name, want.Name)
	}
	if got.PasswordHash != want.PasswordHash {
		t.Errorf("%s.PasswordHash = %q, want %q", call, got.PasswordHash, want.PasswordHash)
	}
	if !sameRoles(got.Roles, want.Roles) {
		t.Errorf("%s.Roles = %#v, want %#v", call, got.Roles, want.Roles)
	}
	if got.Disabled != want.Disabled {
		t.Errorf("%s.Disabled = %t, want %t", call, got.Disabled, want.Disabled)
	}
	if !sameTime(got.CreatedAt, want.CreatedAt) {
		t.Errorf("%s.CreatedAt = %v, want %v", call, got.CreatedAt, stored(want.CreatedAt))
	}
	if !sameTime(got.UpdatedAt, want.UpdatedAt) {
		t.Errorf("%s.UpdatedAt = %v, want %v", call, got.UpdatedAt, stored(want.UpdatedAt))
	}
}

// checkSession is checkUser for sessions.
func checkSession(t *testing.T, call string, got, want *jwtgate.Session) {
	t.Helper()
	if got.ID != want.ID {
		t.Errorf("%s.ID = %q, want %q", call, got.ID, want.ID)
	}
	if got.UserID != want.UserID {
		t.Errorf("%s.UserID = %d, want %d", call, got.UserID, want.UserID)
	}
	if !sameTime(got.CreatedAt, want.CreatedAt) {
		t.Errorf("%s.CreatedAt = %v, want %v", call, got.CreatedAt, stored(want.CreatedAt))
	}
	if !sameTime(got.ExpiresAt, want.ExpiresAt) {
		t.Errorf("%s.ExpiresAt = %v, want %v", call, got.ExpiresAt, stored(want.ExpiresAt))
	}
	if !samePtrTime(got.RevokedAt, want.RevokedAt) {
		t.Errorf("%s.RevokedAt = %s, want %s", call, fmtPtrTime(got.RevokedAt), fmtPtrTime(want.RevokedAt))
	}
	if got.IP != want.IP {
		t.Errorf("%s.IP = %q, want %q", call, got.IP, want.IP)
	}
	if got.UserAgent != want.UserAgent {
		t.Errorf("%s.UserAgent = %q, want %q", call, got.UserAgent, want.UserAgent)
	}
	wantAMR := want.AMR
	if len(wantAMR) == 0 {
		wantAMR = []string{"pwd"} // sessions without amr are password logins
	}
	if !slices.Equal(got.AMR, wantAMR) {
		t.Errorf("%s.AMR = %q, want %q", call, got.AMR, wantAMR)
	}
}

// checkKey is checkUser for keys.
func checkKey(t *testing.T, call string, got, want *jwtgate.Key) {
	t.Helper()
	if got.ID != want.ID {
		t.Errorf("%s.ID = %q, want %q", call, got.ID, want.ID)
	}
	if got.Alg != want.Alg {
		t.Errorf("%s.Alg = %q, want %q", call, got.Alg, want.Alg)
	}
	if !slices.Equal(got.Private, want.Private) {
		t.Errorf("%s.Private = %x, want %x", call, got.Private, want.Private)
	}
	if !slices.Equal(got.Public, want.Public) {
		t.Errorf("%s.Public = %x, want %x", call, got.Public, want.Public)
	}
	if !sameTime(got.CreatedAt, want.CreatedAt) {
		t.Errorf("%s.CreatedAt = %v, want %v", call, got.CreatedAt, stored(want.CreatedAt))
	}
	if !sameTime(got.ActivatesAt, want.ActivatesAt) {
		t.Errorf("%s.ActivatesAt = %v, want %v", call, got.ActivatesAt, stored(want.ActivatesAt))
	}
	if !samePtrTime(got.RetiresAt, want.RetiresAt) {
		t.Errorf("%s.RetiresAt = %s, want %s", call, fmtPtrTime(got.RetiresAt), fmtPtrTime(want.RetiresAt))
	}
}

// concurrently calls f(0) … f(n-1) in n goroutines released together, to
// make the calls overlap as much as a test can, and waits for them.
func concurrently(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			f(i)
		})
	}
	close(start)
	wg.Wait()
}

// testTimes stores each time in every time field of every record and reads
// it back: milliseconds kept, UTC returned, both sides of 1970, and the
// zero time (a caller's bug, but it must come back as zero, not as 1970).
func testTimes(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	tests := []struct {
		name string
		at   time.Time
	}{
		{name: "nanoseconds and zone", at: t0},
		{name: "UTC", at: time.Date(2030, 1, 2, 3, 4, 5, 6_000_000, time.UTC)},
		{name: "negative offset", at: time.Date(2024, 2, 29, 23, 59, 59, 999_999_999, time.FixedZone("UTC-7", -7*60*60))},
		{name: "unix epoch", at: time.Unix(0, 0)},
		{name: "before 1970", at: time.Date(1969, 12, 31, 23, 59, 59, 999_500_000, time.UTC)},
		{name: "year 9999", at: time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC)},
		{name: "zero", at: time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			s := newStore(t)
			at := tt.at

			u := &jwtgate.User{Name: "times", PasswordHash: "h", CreatedAt: at, UpdatedAt: at}
			if err := s.CreateUser(ctx, u); err != nil {
				t.Fatalf("CreateUser(times) = %v, want nil", err)
			}
			gotU, err := s.UserByID(ctx, u.ID)
			if err != nil {
				t.Fatalf("UserByID(%d) = %v, want nil", u.ID, err)
			}
			checkUser(t, "UserByID", gotU, u)
			if at.IsZero() && !gotU.CreatedAt.IsZero() {
				t.Errorf("UserByID.CreatedAt.IsZero() = false, want true")
			}

			sess := &jwtgate.Session{ID: "times", UserID: u.ID, CreatedAt: at, ExpiresAt: at, RevokedAt: &at}
			if err := s.CreateSession(ctx, sess); err != nil {
				t.Fatalf("CreateSession(times) = %v, want nil", err)
			}
			gotS, err := s.SessionByID(ctx, sess.ID)
			if err != nil {
				t.Fatalf("SessionByID(times) = %v, want nil", err)
			}
			checkSession(t, "SessionByID", gotS, sess)

			k := &jwtgate.Key{ID: "times", Alg: "EdDSA", Private: []byte{1}, Public: []byte{2},
				CreatedAt: at, ActivatesAt: at, RetiresAt: &at}
			gotK, err := s.EnsureKey(ctx, k)
			if err != nil {
				t.Fatalf("EnsureKey(times) = %v, want nil", err)
			}
			checkKey(t, "EnsureKey", gotK, k)
		})
	}
}
