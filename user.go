package jwtgate

import (
	"context"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"
)

// RoleAdmin is the role that may use /admin/ routes.
const RoleAdmin = "admin"

// User is an account that can log in.
type User struct {
	ID           int64
	Name         string // as the user typed it; shown in tokens and pages
	PasswordHash string // PHC string (argon2id) or an imported bcrypt hash
	Roles        []string
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// HasRole reports whether u has role r.
func (u *User) HasRole(r string) bool { return slices.Contains(u.Roles, r) }

// Limits on names and roles. Generous for people, tight enough that a name is
// never a vector for oversized rows or log lines.
const (
	MaxNameLen     = 64   // characters
	MaxPasswordLen = 1024 // bytes; argon2 takes any length, this bounds request cost
	MaxRoles       = 16
	MaxRoleLen     = 32
)

// ValidatePassword checks a new password: at least minLen characters, at most
// MaxPasswordLen bytes, valid UTF-8.
func ValidatePassword(pw string, minLen int) error {
	switch {
	case !utf8.ValidString(pw):
		return fmt.Errorf("%w: password is not valid UTF-8", ErrInvalid)
	case utf8.RuneCountInString(pw) < minLen:
		return fmt.Errorf("%w: password is shorter than %d characters", ErrInvalid, minLen)
	case len(pw) > MaxPasswordLen:
		return fmt.Errorf("%w: password is longer than %d bytes", ErrInvalid, MaxPasswordLen)
	}
	return nil
}

// ValidateRoles checks role names: lowercase letters, digits, '-' and '_',
// at most MaxRoles of them, no duplicates.
func ValidateRoles(roles []string) error {
	if len(roles) > MaxRoles {
		return fmt.Errorf("%w: more than %d roles", ErrInvalid, MaxRoles)
	}
	for i, r := range roles {
		if r == "" || len(r) > MaxRoleLen {
			return fmt.Errorf("%w: role %q must be 1 to %d characters", ErrInvalid, r, MaxRoleLen)
		}
		for _, c := range r {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return fmt.Errorf("%w: role %q may hold only a-z, 0-9, '-' and '_'", ErrInvalid, r)
			}
		}
		if slices.Contains(roles[:i], r) {
			return fmt.Errorf("%w: role %q given twice", ErrInvalid, r)
		}
	}
	return nil
}

// MaxUserPage is the most users one SearchUsers call returns.
const MaxUserPage = 1000

// UserQuery asks SearchUsers for one page of users, in id order.
type UserQuery struct {
	// Match keeps the users whose name key contains SearchKey(Match);
	// "" keeps all.
	Match string
	// After is the keyset cursor: only users with a larger id, so the
	// next page starts after the last user of this one (its id), at the
	// cost of an index seek however deep the page.
	After int64
	// Offset skips this many matching users (after After): paging by
	// position, for clients that jump to a page number. It costs a scan
	// of the skipped rows; After does not.
	Offset int
	// Limit is the page size, 1 to MaxUserPage.
	Limit int
}

// UserPage is one page of SearchUsers.
type UserPage struct {
	Users []User
	// Total counts every user the Match keeps, regardless of After,
	// Offset and Limit.
	Total int
	// More reports whether users follow this page; the next page's After
	// is then the last user's ID.
	More bool
}

// Validate checks the page bounds. The error wraps ErrInvalid.
func (q UserQuery) Validate() error {
	switch {
	case q.Limit < 1 || q.Limit > MaxUserPage:
		return fmt.Errorf("%w: limit must be 1 to %d", ErrInvalid, MaxUserPage)
	case q.Offset < 0:
		return fmt.Errorf("%w: offset must not be negative", ErrInvalid)
	case q.After < 0:
		return fmt.Errorf("%w: cursor must not be negative", ErrInvalid)
	}
	return nil
}

// UserStore keeps users. Implementations are safe for concurrent use.
type UserStore interface {
	// CreateUser inserts u and sets u.ID. ErrConflict if the name (by NameKey) is taken.
	CreateUser(ctx context.Context, u *User) error
	// CreateFirstUser inserts u only if there are no users at all, atomically,
	// so that several instances starting at once create one admin. It reports
	// whether u was created.
	CreateFirstUser(ctx context.Context, u *User) (bool, error)
	// HasUsers reports whether any user exists (cheaply, without listing them).
	HasUsers(ctx context.Context) (bool, error)
	// UserByName finds a user by name, compared by NameKey. ErrNotFound if none.
	UserByName(ctx context.Context, name string) (*User, error)
	// UserByID finds a user by id. ErrNotFound if none.
	UserByID(ctx context.Context, id int64) (*User, error)
	// ListUsers returns all users ordered by id.
	ListUsers(ctx context.Context) ([]User, error)
	// SearchUsers returns one page of the users whose name key contains
	// q.Match's, ordered by id, and how many match in all.
	SearchUsers(ctx context.Context, q UserQuery) (UserPage, error)
	// SetPasswordHash replaces the stored hash and, atomically, voids the
	// user's unused password-reset links. ErrNotFound if no such user.
	SetPasswordHash(ctx context.Context, id int64, hash string, at time.Time) error
	// SetRoles replaces a user's roles. ErrNotFound if no such user.
	SetRoles(ctx context.Context, id int64, roles []string, at time.Time) error
	// SetDisabled enables or disables a user. ErrNotFound if no such user.
	SetDisabled(ctx context.Context, id int64, disabled bool, at time.Time) error
	// DeleteUser removes a user and, by cascade, its sessions. ErrNotFound if none.
	DeleteUser(ctx context.Context, id int64) error
}
