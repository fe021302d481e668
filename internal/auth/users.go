package auth

import (
	"context"
	"fmt"
	"slices"

	"github.com/jwtgate/jwtgate"
)

// CreateUser validates and stores a new user with a hashed password. The
// name is stored as jwtgate.PrepareName returns it (full-width letters
// mapped, NFC), so pages and X-Auth-User show what uniqueness compared.
// Errors wrap ErrInvalid (naming the field), ErrConflict (the name, by
// jwtgate.NameKey, is taken: also by a look-alike) or ErrBusy.
func (s *Service) CreateUser(ctx context.Context, name, pw string, roles []string) (*jwtgate.User, error) {
	u, err := s.NewUser(ctx, name, pw, roles)
	if err != nil {
		return nil, err
	}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, fmt.Errorf("auth: create user: %w", err)
	}
	s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventUserCreated, UserID: u.ID, Name: u.Name, Detail: rolesText(roles)})
	return u, nil
}

// NewUser validates a new user and hashes its password, as CreateUser
// does, but stores nothing: for a caller that stores the user in one
// transaction with what comes with it (a signup's address and
// verification email), with UserCreatedEvent. Errors as CreateUser's,
// but never ErrConflict.
func (s *Service) NewUser(ctx context.Context, name, pw string, roles []string) (*jwtgate.User, error) {
	name, err := jwtgate.PrepareName(name)
	if err != nil {
		return nil, err
	}
	if err := jwtgate.ValidatePassword(pw, MinPasswordLen); err != nil {
		return nil, err
	}
	if err := jwtgate.ValidateRoles(roles); err != nil {
		return nil, err
	}
	h, err := s.hash(ctx, pw)
	if err != nil {
		return nil, err
	}
	now := s.o.Now()
	return &jwtgate.User{Name: name, PasswordHash: h, Roles: roles, CreatedAt: now, UpdatedAt: now}, nil
}

// UserCreatedEvent is the audit event CreateUser records, for a user made
// with NewUser and stored by the caller.
func UserCreatedEvent(u *jwtgate.User) jwtgate.AuditEvent {
	return jwtgate.AuditEvent{Type: jwtgate.EventUserCreated, Name: u.Name, Detail: rolesText(u.Roles)}
}

// SetPassword replaces the password of the named user (an admin reset or
// the CLI) and ends all the user's sessions: a reset usually follows a
// suspected compromise, so whoever held the old password must not keep a
// session.
func (s *Service) SetPassword(ctx context.Context, name, pw string) error {
	if err := jwtgate.ValidatePassword(pw, MinPasswordLen); err != nil {
		return err
	}
	u, err := s.store.UserByName(ctx, name)
	if err != nil {
		return fmt.Errorf("auth: user %q: %w", name, err)
	}
	h, err := s.hash(ctx, pw)
	if err != nil {
		return err
	}
	if err := s.store.SetPasswordHash(ctx, u.ID, h, s.o.Now()); err != nil {
		return fmt.Errorf("auth: set password: %w", err)
	}
	n, err := s.revokeAll(ctx, u.ID, "")
	s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventPasswordReset, UserID: u.ID, Name: u.Name, Detail: sessionsText(n) + " revoked"})
	return err
}

// DemoPassword is the tutorial's demo account password, used by serve --demo.
const DemoPassword = "1234"

// Bootstrap creates the first user, "admin" with role admin, if the store
// has no users. pw is the password to give it; empty means a random one,
// which is returned so the caller can show it once. demo allows the
// tutorial's short demo password. created is false when users existed.
func (s *Service) Bootstrap(ctx context.Context, pw string, demo bool) (created bool, used string, err error) {
	// The usual case, users exist: answer without hashing (startup time).
	// CreateFirstUser below stays the atomic check.
	if has, err := s.store.HasUsers(ctx); err == nil && has {
		return false, "", nil
	}
	if pw == "" {
		pw = randomPassword()
	}
	if !demo {
		if err := jwtgate.ValidatePassword(pw, MinPasswordLen); err != nil {
			return false, "", fmt.Errorf("admin password: %w", err)
		}
	}
	h, err := s.hash(ctx, pw)
	if err != nil {
		return false, "", err
	}
	now := s.o.Now()
	u := &jwtgate.User{Name: "admin", PasswordHash: h, Roles: []string{jwtgate.RoleAdmin}, CreatedAt: now, UpdatedAt: now}
	created, err = s.store.CreateFirstUser(ctx, u)
	if err != nil {
		return false, "", fmt.Errorf("auth: bootstrap admin: %w", err)
	}
	if created {
		s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventUserCreated, UserID: u.ID, Name: u.Name, Detail: "first admin"})
	}
	return created, pw, nil
}

// SearchUsers returns one page of users (see jwtgate.UserQuery). Errors
// wrap ErrInvalid when q's bounds are out of range.
func (s *Service) SearchUsers(ctx context.Context, q jwtgate.UserQuery) (jwtgate.UserPage, error) {
	p, err := s.store.SearchUsers(ctx, q)
	if err != nil {
		return jwtgate.UserPage{}, fmt.Errorf("auth: search users: %w", err)
	}
	return p, nil
}

// SetRoles replaces the named user's roles. When the user loses a role,
// every one of their sessions is revoked, on every instance through the
// revocation feed: their access tokens still carry the old roles, and a
// demoted admin must not keep admin powers until those expire. Gaining
// roles revokes nothing; the next refresh or login carries them.
func (s *Service) SetRoles(ctx context.Context, name string, roles []string) error {
	if err := jwtgate.ValidateRoles(roles); err != nil {
		return err
	}
	u, err := s.store.UserByName(ctx, name)
	if err != nil {
		return fmt.Errorf("auth: user %q: %w", name, err)
	}
	if err := s.store.SetRoles(ctx, u.ID, roles, s.o.Now()); err != nil {
		return fmt.Errorf("auth: set roles of %q: %w", name, err)
	}
	detail := rolesText(roles)
	if lost := slices.ContainsFunc(u.Roles, func(r string) bool { return !slices.Contains(roles, r) }); lost {
		n, err := s.revokeAll(ctx, u.ID, "")
		s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventRolesChanged, UserID: u.ID, Name: u.Name, Detail: detail + "; " + sessionsText(n) + " revoked"})
		return err
	}
	s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventRolesChanged, UserID: u.ID, Name: u.Name, Detail: detail})
	return nil
}
