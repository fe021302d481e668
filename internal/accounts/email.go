package accounts

import (
	"context"
	"errors"
	"fmt"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
)

func clientIP(ctx context.Context) string { return auth.ClientFrom(ctx).IP }

// sendVerification sends u a link proving addr (its current address, or
// the one it wants instead).
func (s *Service) sendVerification(ctx context.Context, u *jwtgate.User, addr string) error {
	tok, hash := newToken()
	now := s.o.Now()
	t := &jwtgate.OneTimeToken{Hash: hash, Purpose: jwtgate.PurposeVerifyEmail, UserID: u.ID, Email: addr, CreatedAt: now, ExpiresAt: now.Add(s.o.VerifyTTL)}
	if err := s.store.CreateOneTimeToken(ctx, t); err != nil {
		return fmt.Errorf("accounts: create verification: %w", err)
	}
	if err := s.send(ctx, kindVerify, addr, emailData{Name: u.Name, Email: addr, Link: s.link("/email/verify", "token", tok), TTL: humanTTL(s.o.VerifyTTL)}); err != nil {
		return err
	}
	s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventVerificationSent, UserID: u.ID, Name: u.Name})
	return nil
}

// ResendVerification sends userID a new verification link for its
// current address (voiding the previous link). Errors wrap ErrNoEmail,
// jwtgate.ErrNotFound (no address), jwtgate.ErrConflict (already
// verified) or jwtgate.ErrThrottled.
func (s *Service) ResendVerification(ctx context.Context, userID int64) error {
	if s.outbox == nil {
		return ErrNoEmail
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return fmt.Errorf("accounts: user %d: %w", userID, err)
	}
	e, err := s.store.UserEmail(ctx, userID)
	if err != nil {
		return fmt.Errorf("accounts: no email address: %w", err)
	}
	if e.Verified() {
		return fmt.Errorf("%w: email address already verified", jwtgate.ErrConflict)
	}
	if err := s.throttle(ctx, fmt.Sprintf("verify:%d", userID), clientIP(ctx)); err != nil {
		return err
	}
	return s.sendVerification(ctx, u, e.Address)
}

// ChangeEmail starts a change of userID's address to addr: a link goes to
// addr, and the current address stays until it is opened. Errors wrap
// ErrNoEmail, jwtgate.ErrInvalid, jwtgate.ErrConflict (taken) or
// jwtgate.ErrThrottled.
func (s *Service) ChangeEmail(ctx context.Context, userID int64, addr string) error {
	if s.outbox == nil {
		return ErrNoEmail
	}
	addr, err := jwtgate.CheckEmail(addr)
	if err != nil {
		return err
	}
	u, err := s.store.UserByID(ctx, userID)
	if err != nil {
		return fmt.Errorf("accounts: user %d: %w", userID, err)
	}
	if cur, err := s.store.UserEmailByAddress(ctx, addr); err == nil {
		if cur.UserID != userID {
			return fmt.Errorf("%w: email belongs to another account", jwtgate.ErrConflict)
		}
		if cur.Address == addr && cur.Verified() {
			return fmt.Errorf("%w: that is already your verified address", jwtgate.ErrConflict)
		}
	}
	if err := s.throttle(ctx, fmt.Sprintf("verify:%d", userID), clientIP(ctx)); err != nil {
		return err
	}
	return s.sendVerification(ctx, u, addr)
}

// VerifyEmail uses a verification link: the address it was sent to
// becomes the user's verified address, replacing any other (whose owner
// is told). Errors wrap ErrInvalidToken or jwtgate.ErrConflict (the
// address was taken since the link was sent).
func (s *Service) VerifyEmail(ctx context.Context, tok string) (*jwtgate.User, error) {
	if !validToken(tok) {
		return nil, ErrInvalidToken
	}
	t, err := s.store.SpendOneTimeToken(ctx, jwtgate.PurposeVerifyEmail, hashToken(tok), s.o.Now())
	if errors.Is(err, jwtgate.ErrNotFound) {
		return nil, ErrInvalidToken
	} else if err != nil {
		return nil, fmt.Errorf("accounts: verify email: %w", err)
	}
	u, err := s.store.UserByID(ctx, t.UserID)
	if err != nil {
		return nil, fmt.Errorf("accounts: verify email: %w", err)
	}
	old, err := s.store.UserEmail(ctx, u.ID)
	if err != nil && !errors.Is(err, jwtgate.ErrNotFound) {
		return nil, fmt.Errorf("accounts: verify email: %w", err)
	}
	now := s.o.Now()
	if err := s.store.SetUserEmail(ctx, jwtgate.UserEmail{UserID: u.ID, Address: t.Email, VerifiedAt: &now}); err != nil {
		return nil, fmt.Errorf("accounts: verify email: %w", err)
	}
	if old != nil && jwtgate.EmailKey(old.Address) != jwtgate.EmailKey(t.Email) {
		s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventEmailChanged, UserID: u.ID, Name: u.Name})
		if err := s.send(ctx, kindEmailChanged, old.Address, emailData{Name: u.Name, Email: t.Email}); err != nil {
			s.o.Logger.Error("email-change notice not queued", "user_id", u.ID, "err", err)
		}
	} else {
		s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventEmailVerified, UserID: u.ID, Name: u.Name})
	}
	return u, nil
}

// LoginAllowed says whether u may log in as far as its address goes:
// with RequireVerified, a user whose address is unverified may not
// (ErrEmailUnverified). Users without an address (made by an admin) may.
func (s *Service) LoginAllowed(ctx context.Context, u *jwtgate.User) error {
	if !s.o.RequireVerified {
		return nil
	}
	e, err := s.store.UserEmail(ctx, u.ID)
	if errors.Is(err, jwtgate.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("accounts: email of user %d: %w", u.ID, err)
	}
	if !e.Verified() {
		return ErrEmailUnverified
	}
	return nil
}

// Email returns userID's address; jwtgate.ErrNotFound if it has none.
func (s *Service) Email(ctx context.Context, userID int64) (*jwtgate.UserEmail, error) {
	e, err := s.store.UserEmail(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("accounts: email of user %d: %w", userID, err)
	}
	return e, nil
}

// Emails returns the addresses of the users in ids that have one.
func (s *Service) Emails(ctx context.Context, ids []int64) (map[int64]jwtgate.UserEmail, error) {
	m, err := s.store.UserEmails(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("accounts: emails: %w", err)
	}
	return m, nil
}

// SetEmail is an admin setting the address of the user named name:
// addr "" removes it; verified says the admin vouches for it (else the
// user must verify it, and with email a link is sent). Errors wrap
// jwtgate.ErrInvalid, jwtgate.ErrNotFound or jwtgate.ErrConflict.
func (s *Service) SetEmail(ctx context.Context, actorID int64, name, addr string, verified bool) (*jwtgate.UserEmail, error) {
	u, err := s.store.UserByName(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("accounts: user %q: %w", name, err)
	}
	if addr == "" {
		if err := s.store.DeleteUserEmail(ctx, u.ID); err != nil && !errors.Is(err, jwtgate.ErrNotFound) {
			return nil, fmt.Errorf("accounts: remove email: %w", err)
		}
		s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventEmailChanged, UserID: u.ID, ActorID: actorID, Name: u.Name, Detail: "removed by an admin"})
		return nil, nil
	}
	addr, err = jwtgate.CheckEmail(addr)
	if err != nil {
		return nil, err
	}
	e := jwtgate.UserEmail{UserID: u.ID, Address: addr}
	if verified {
		now := s.o.Now()
		e.VerifiedAt = &now
	}
	if err := s.store.SetUserEmail(ctx, e); err != nil {
		return nil, fmt.Errorf("accounts: set email: %w", err)
	}
	s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventEmailChanged, UserID: u.ID, ActorID: actorID, Name: u.Name, Detail: "set by an admin"})
	if !verified && s.outbox != nil {
		if err := s.sendVerification(ctx, u, addr); err != nil {
			s.o.Logger.Error("verification email not queued", "user_id", u.ID, "err", err)
		}
	}
	return &e, nil
}
