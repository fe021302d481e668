package storetest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
)

// testHash stands in for a password hash. Tests check it never appears in
// an error: errors are logged, hashes must not be.
const testHash = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$c2VjcmV0aGFzaHZhbHVl"

// newUser returns a user to create, with times at t0.
func newUser(name string, roles ...string) *jwtgate.User {
	return &jwtgate.User{Name: name, PasswordHash: testHash, Roles: roles, CreatedAt: t0, UpdatedAt: t0}
}

// mustCreateUser creates a user or stops the test.
func mustCreateUser(t *testing.T, s jwtgate.Store, u *jwtgate.User) *jwtgate.User {
	t.Helper()
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatalf("CreateUser(%q) = %v, want nil", u.Name, err)
	}
	return u
}

func testCreateUser(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)

	alice := newUser("Alice", jwtgate.RoleAdmin)
	alice.Disabled = true
	alice.UpdatedAt = t0.Add(time.Second)
	if err := s.CreateUser(ctx, alice); err != nil {
		t.Fatalf("CreateUser(Alice) = %v, want nil", err)
	}
	if alice.ID == 0 {
		t.Fatalf("CreateUser(Alice) left ID 0, want it set")
	}
	bob := mustCreateUser(t, s, newUser("bob"))
	if bob.ID == alice.ID {
		t.Errorf("CreateUser(bob).ID = %d, the same as Alice's", bob.ID)
	}

	// Look-up by name ignores case, and returns the name as created.
	for _, name := range []string{"Alice", "alice", "ALICE", "aLiCe"} {
		got, err := s.UserByName(ctx, name)
		if err != nil {
			t.Errorf("UserByName(%q) = %v, want nil", name, err)
			continue
		}
		checkUser(t, fmt.Sprintf("UserByName(%q)", name), got, alice)
	}
	got, err := s.UserByID(ctx, alice.ID)
	if err != nil {
		t.Fatalf("UserByID(%d) = %v, want nil", alice.ID, err)
	}
	checkUser(t, fmt.Sprintf("UserByID(%d)", alice.ID), got, alice)
}

func testCreateUserConflict(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	carol := mustCreateUser(t, s, newUser("Carol"))

	for _, name := range []string{"Carol", "carol", "CAROL", "cArOl"} {
		u := newUser(name)
		err := s.CreateUser(ctx, u)
		if !errors.Is(err, jwtgate.ErrConflict) {
			t.Errorf("CreateUser(%q) = %v, want ErrConflict", name, err)
			continue
		}
		if strings.Contains(err.Error(), testHash) {
			t.Errorf("CreateUser(%q) error %q holds the password hash", name, err)
		}
		if u.ID != 0 {
			t.Errorf("CreateUser(%q) = ErrConflict set ID %d, want 0", name, u.ID)
		}
	}
	users, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatalf("ListUsers() = %v, want nil", err)
	}
	if len(users) != 1 {
		t.Fatalf("ListUsers() returned %d users, want 1 (Carol)", len(users))
	}
	checkUser(t, "ListUsers()[0]", &users[0], carol)
}

// testUserNames stores names that would break a store that built SQL from
// strings, used LIKE, or mangled Unicode, and checks each comes back
// exactly and is found by another case.
func testUserNames(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	tests := []struct {
		name  string
		other string // the same name in another case
	}{
		{name: `'; DROP TABLE users;--`, other: `'; drop table USERS;--`},
		{name: `" OR 1=1`, other: `" or 1=1`},
		{name: `Robert'); DROP TABLE students;--`, other: `robert'); drop table students;--`},
		{name: `back\slash`, other: `BACK\SLASH`},
		{name: `100%_sure`, other: `100%_SURE`},
		{name: "Zoë", other: "ZOË"},
		{name: "Ærøskøbing", other: "ærøskøbing"},
		{name: "Ωμέγα", other: "ωμέγα"},
		{name: "日本語", other: "日本語"},
		{name: "beaver 🦫", other: "BEAVER 🦫"},
	}
	for _, tt := range tests {
		u := mustCreateUser(t, s, newUser(tt.name))
		got, err := s.UserByName(ctx, tt.name)
		if err != nil {
			t.Errorf("UserByName(%q) = %v, want nil", tt.name, err)
			continue
		}
		checkUser(t, fmt.Sprintf("UserByName(%q)", tt.name), got, u)
		got, err = s.UserByName(ctx, tt.other)
		if err != nil {
			t.Errorf("UserByName(%q) = %v, want user %q", tt.other, err, tt.name)
			continue
		}
		checkUser(t, fmt.Sprintf("UserByName(%q)", tt.other), got, u)
	}

	// Wildcards and injections in a look-up match nothing.
	for _, name := range []string{"%", "_", "100%", `' OR '1'='1`, `" OR 1=1 --`} {
		if got, err := s.UserByName(ctx, name); !errors.Is(err, jwtgate.ErrNotFound) {
			t.Errorf("UserByName(%q) = %v, %v, want ErrNotFound", name, got, err)
		}
	}
	users, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatalf("ListUsers() = %v, want nil", err)
	}
	if len(users) != len(tests) {
		t.Errorf("ListUsers() returned %d users, want %d", len(users), len(tests))
	}
}

func testUserRoles(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	tests := []struct {
		name  string
		roles []string
	}{
		{name: "none", roles: nil},
		{name: "one", roles: []string{jwtgate.RoleAdmin}},
		{name: "several", roles: []string{"admin", "ops", "read-only", "team_7"}},
	}
	for _, tt := range tests {
		u := mustCreateUser(t, s, newUser(tt.name, tt.roles...))
		got, err := s.UserByID(ctx, u.ID)
		if err != nil {
			t.Errorf("UserByID(%d) = %v, want nil", u.ID, err)
			continue
		}
		checkUser(t, fmt.Sprintf("UserByID(%d)", u.ID), got, u)
		got, err = s.UserByName(ctx, tt.name)
		if err != nil {
			t.Errorf("UserByName(%q) = %v, want nil", tt.name, err)
			continue
		}
		checkUser(t, fmt.Sprintf("UserByName(%q)", tt.name), got, u)
	}
	users, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatalf("ListUsers() = %v, want nil", err)
	}
	for i := range users {
		if want := tests[i].roles; !sameRoles(users[i].Roles, want) {
			t.Errorf("ListUsers()[%d].Roles = %#v, want %#v", i, users[i].Roles, want)
		}
	}
}

func testUserNotFound(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	u := mustCreateUser(t, s, newUser("present"))

	for _, name := range []string{"absent", "", "present "} {
		if got, err := s.UserByName(ctx, name); !errors.Is(err, jwtgate.ErrNotFound) {
			t.Errorf("UserByName(%q) = %v, %v, want ErrNotFound", name, got, err)
		}
	}
	for _, id := range []int64{0, -1, u.ID + 1000} {
		if got, err := s.UserByID(ctx, id); !errors.Is(err, jwtgate.ErrNotFound) {
			t.Errorf("UserByID(%d) = %v, %v, want ErrNotFound", id, got, err)
		}
	}
}

func testCreateFirstUser(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)

	root := newUser("root", jwtgate.RoleAdmin)
	ok, err := s.CreateFirstUser(ctx, root)
	if err != nil || !ok {
		t.Fatalf("CreateFirstUser(root) on an empty store = %t, %v, want true, nil", ok, err)
	}
	if root.ID == 0 {
		t.Fatalf("CreateFirstUser(root) left ID 0, want it set")
	}
	got, err := s.UserByName(ctx, "root")
	if err != nil {
		t.Fatalf("UserByName(root) = %v, want nil", err)
	}
	checkUser(t, "UserByName(root)", got, root)

	// Once there is a user, nothing is created, whatever the name: a second
	// instance starting with the same admin name is not a conflict.
	for _, name := range []string{"other", "root", "ROOT"} {
		u := newUser(name)
		ok, err := s.CreateFirstUser(ctx, u)
		if err != nil || ok {
			t.Errorf("CreateFirstUser(%q) on a store with users = %t, %v, want false, nil", name, ok, err)
		}
		if u.ID != 0 {
			t.Errorf("CreateFirstUser(%q) = false set ID %d, want 0", name, u.ID)
		}
	}
	if got, err := s.UserByName(ctx, "other"); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("UserByName(other) = %v, %v, want ErrNotFound", got, err)
	}
}

func testCreateFirstUserNotEmpty(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	mustCreateUser(t, s, newUser("existing"))
	ok, err := s.CreateFirstUser(ctx, newUser("root"))
	if err != nil || ok {
		t.Errorf("CreateFirstUser(root) after CreateUser = %t, %v, want false, nil", ok, err)
	}
}

// testCreateFirstUserConcurrent is several instances starting at once on
// one database: exactly one creates its admin.
func testCreateFirstUserConcurrent(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	const n = 8
	users := make([]*jwtgate.User, n)
	created := make([]bool, n)
	errs := make([]error, n)
	concurrently(n, func(i int) {
		users[i] = newUser(fmt.Sprintf("admin%d", i), jwtgate.RoleAdmin)
		created[i], errs[i] = s.CreateFirstUser(ctx, users[i])
	})
	var winner *jwtgate.User
	for i := range n {
		if errs[i] != nil {
			t.Errorf("CreateFirstUser(%q) = %v, want nil", users[i].Name, errs[i])
		}
		if created[i] {
			if winner != nil {
				t.Errorf("CreateFirstUser(%q) and CreateFirstUser(%q) both = true, want one", winner.Name, users[i].Name)
			}
			winner = users[i]
		}
	}
	if winner == nil {
		t.Fatalf("CreateFirstUser from %d goroutines: none = true, want one", n)
	}
	all, err := s.ListUsers(ctx)
	if err != nil {
		t.Fatalf("ListUsers() = %v, want nil", err)
	}
	if len(all) != 1 {
		t.Fatalf("ListUsers() returned %d users, want 1", len(all))
	}
	checkUser(t, "ListUsers()[0]", &all[0], winner)
}

func testListUsers(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	users, err := s.ListUsers(ctx)
	if err != nil || len(users) != 0 {
		t.Fatalf("ListUsers() on an empty store = %d users, %v, want 0, nil", len(users), err)
	}

	// Created in an order that is not alphabetical: the list is by id.
	var want []*jwtgate.User
	for _, name := range []string{"mallory", "alice", "zed", "bob"} {
		want = append(want, mustCreateUser(t, s, newUser(name)))
	}
	users, err = s.ListUsers(ctx)
	if err != nil {
		t.Fatalf("ListUsers() = %v, want nil", err)
	}
	if len(users) != len(want) {
		t.Fatalf("ListUsers() returned %d users, want %d", len(users), len(want))
	}
	for i := range users {
		checkUser(t, fmt.Sprintf("ListUsers()[%d]", i), &users[i], want[i])
		if i > 0 && users[i].ID <= users[i-1].ID {
			t.Errorf("ListUsers()[%d].ID = %d after %d, want ascending", i, users[i].ID, users[i-1].ID)
		}
	}
}

func testSetPasswordHash(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	u := mustCreateUser(t, s, newUser("dave"))
	other := mustCreateUser(t, s, newUser("erin"))

	at := t0.Add(time.Hour)
	const newHash = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
	if err := s.SetPasswordHash(ctx, u.ID, newHash, at); err != nil {
		t.Fatalf("SetPasswordHash(%d) = %v, want nil", u.ID, err)
	}
	want := *u
	want.PasswordHash = newHash
	want.UpdatedAt = at
	got, err := s.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatalf("UserByID(%d) = %v, want nil", u.ID, err)
	}
	checkUser(t, fmt.Sprintf("UserByID(%d)", u.ID), got, &want)

	// Only that user changed.
	got, err = s.UserByID(ctx, other.ID)
	if err != nil {
		t.Fatalf("UserByID(%d) = %v, want nil", other.ID, err)
	}
	checkUser(t, fmt.Sprintf("UserByID(%d)", other.ID), got, other)

	unknown := other.ID + 1000
	err = s.SetPasswordHash(ctx, unknown, newHash, at)
	if !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("SetPasswordHash(%d) = %v, want ErrNotFound", unknown, err)
	} else if strings.Contains(err.Error(), newHash) {
		t.Errorf("SetPasswordHash(%d) error %q holds the password hash", unknown, err)
	}
}

func testSetDisabled(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	u := mustCreateUser(t, s, newUser("frank"))

	// Setting the value it already has is not "not found".
	steps := []struct {
		disabled bool
		at       time.Time
	}{
		{disabled: true, at: t0.Add(1 * time.Minute)},
		{disabled: true, at: t0.Add(2 * time.Minute)},
		{disabled: false, at: t0.Add(3 * time.Minute)},
		{disabled: false, at: t0.Add(4 * time.Minute)},
	}
	want := *u
	for _, st := range steps {
		if err := s.SetDisabled(ctx, u.ID, st.disabled, st.at); err != nil {
			t.Fatalf("SetDisabled(%d, %t) = %v, want nil", u.ID, st.disabled, err)
		}
		want.Disabled = st.disabled
		want.UpdatedAt = st.at
		got, err := s.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatalf("UserByID(%d) = %v, want nil", u.ID, err)
		}
		checkUser(t, fmt.Sprintf("after SetDisabled(%t): UserByID(%d)", st.disabled, u.ID), got, &want)
	}

	unknown := u.ID + 1000
	if err := s.SetDisabled(ctx, unknown, true, t0); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("SetDisabled(%d) = %v, want ErrNotFound", unknown, err)
	}
}

func testDeleteUser(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	alice := mustCreateUser(t, s, newUser("alice"))
	bob := mustCreateUser(t, s, newUser("bob"))
	aliceSessions := []string{"alice-1", "alice-2"}
	for _, id := range aliceSessions {
		mustCreateSession(t, s, newSession(id, alice.ID))
	}
	bobSession := mustCreateSession(t, s, newSession("bob-1", bob.ID))

	if err := s.DeleteUser(ctx, alice.ID); err != nil {
		t.Fatalf("DeleteUser(%d) = %v, want nil", alice.ID, err)
	}
	if got, err := s.UserByID(ctx, alice.ID); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("after DeleteUser: UserByID(%d) = %v, %v, want ErrNotFound", alice.ID, got, err)
	}
	if got, err := s.UserByName(ctx, "alice"); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("after DeleteUser: UserByName(alice) = %v, %v, want ErrNotFound", got, err)
	}
	// The user's sessions go with it.
	for _, id := range aliceSessions {
		if got, err := s.SessionByID(ctx, id); !errors.Is(err, jwtgate.ErrNotFound) {
			t.Errorf("after DeleteUser: SessionByID(%q) = %v, %v, want ErrNotFound", id, got, err)
		}
	}
	// Nobody else's.
	if got, err := s.UserByID(ctx, bob.ID); err != nil {
		t.Errorf("after DeleteUser(alice): UserByID(bob) = %v, want nil", err)
	} else {
		checkUser(t, "UserByID(bob)", got, bob)
	}
	if got, err := s.SessionByID(ctx, bobSession.ID); err != nil {
		t.Errorf("after DeleteUser(alice): SessionByID(%q) = %v, want nil", bobSession.ID, err)
	} else {
		checkSession(t, "SessionByID(bob-1)", got, bobSession)
	}

	for _, id := range []int64{alice.ID, bob.ID + 1000} {
		if err := s.DeleteUser(ctx, id); !errors.Is(err, jwtgate.ErrNotFound) {
			t.Errorf("DeleteUser(%d) of no user = %v, want ErrNotFound", id, err)
		}
	}

	// The name is free again, and the new user does not get the old id: a
	// token still carrying that id must not become someone else's.
	again := newUser("Alice")
	if err := s.CreateUser(ctx, again); err != nil {
		t.Fatalf("CreateUser(Alice) after DeleteUser(alice) = %v, want nil", err)
	}
	if again.ID == alice.ID {
		t.Errorf("CreateUser(Alice) after DeleteUser(alice).ID = %d, the deleted user's id; want a new one", again.ID)
	}
}

func testHasUsers(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	s := newStore(t)
	if has, err := s.HasUsers(t.Context()); err != nil || has {
		t.Fatalf("HasUsers(empty) = %v, %v; want false", has, err)
	}
	u := mustCreateUser(t, s, newUser("olga"))
	if has, err := s.HasUsers(t.Context()); err != nil || !has {
		t.Fatalf("HasUsers(one) = %v, %v; want true", has, err)
	}
	if err := s.DeleteUser(t.Context(), u.ID); err != nil {
		t.Fatal(err)
	}
	if has, _ := s.HasUsers(t.Context()); has {
		t.Error("HasUsers after deleting the only user = true")
	}
}

func testSetRoles(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	s := newStore(t)
	u := mustCreateUser(t, s, newUser("pia", "dev"))
	for _, roles := range [][]string{{"admin", "ops"}, nil, {"x"}} {
		if err := s.SetRoles(t.Context(), u.ID, roles, t0.Add(time.Hour)); err != nil {
			t.Fatalf("SetRoles(%v) = %v", roles, err)
		}
		got, _ := s.UserByID(t.Context(), u.ID)
		if !slices.Equal(got.Roles, roles) || !sameTime(got.UpdatedAt, t0.Add(time.Hour)) {
			t.Errorf("after SetRoles(%v): roles %v, updated %v", roles, got.Roles, got.UpdatedAt)
		}
	}
	if err := s.SetRoles(t.Context(), u.ID+99, nil, t0); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("SetRoles(unknown) = %v, want ErrNotFound", err)
	}
}
