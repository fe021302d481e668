package accounts

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
)

// forgotJob is one password-reset request waiting for the worker.
type forgotJob struct {
	ident  string
	client auth.Client
}

// ForgotPassword accepts a request to reset the password of the account
// named ident (an email address or a user name). It answers the same,
// and as fast, whether or not the account exists: the look-up and the
// email happen later, in Run. Errors wrap ErrNoEmail, jwtgate.ErrInvalid
// (ident is not a possible name or address) or jwtgate.ErrThrottled
// (counted per ident and per client address, whether or not it exists).
func (s *Service) ForgotPassword(ctx context.Context, ident string) error {
	if s.outbox == nil {
		return ErrNoEmail
	}
	ident = strings.TrimSpace(ident)
	if ident == "" || !utf8.ValidString(ident) || len(ident) > jwtgate.MaxEmailLen {
		return fmt.Errorf("%w: email or name is empty, too long or not UTF-8", jwtgate.ErrInvalid)
	}
	if err := s.throttle(ctx, "reset:"+strings.ToLower(ident), clientIP(ctx)); err != nil {
		return err
	}
	select {
	case s.forgot <- forgotJob{ident: ident, client: auth.ClientFrom(ctx)}:
	default: // a flood: dropping keeps the answer's time flat
		s.o.Logger.Warn("password-reset queue full; request dropped")
	}
	return nil
}

// Run processes password-reset requests until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case j := <-s.forgot:
			jctx := auth.WithClient(ctx, j.client)
			if err := s.sendReset(jctx, j.ident); err != nil {
				s.o.Logger.Error("password reset", "err", err)
			}
		}
	}
}

// findAccount finds the user behind ident and its address.
func (s *Service) findAccount(ctx context.Context, ident string) (*jwtgate.User, *jwtgate.UserEmail, error) {
	if strings.Contains(ident, "@") {
		if e, err := s.store.UserEmailByAddress(ctx, ident); err == nil {
			u, err := s.store.UserByID(ctx, e.UserID)
			return u, e, err
		} else if !errors.Is(err, jwtgate.ErrNotFound) {
			return nil, nil, err
		}
	}
	u, err := s.store.UserByName(ctx, ident)
	if err != nil {
		return nil, nil, err
	}
	e, err := s.store.UserEmail(ctx, u.ID)
	return u, e, err
}

// sendReset emails a reset link to the account behind ident, if there is
// one with an address and it is enabled.
func (s *Service) sendReset(ctx context.Context, ident string) error {
	u, e, err := s.findAccount(ctx, ident)
	if errors.Is(err, jwtgate.ErrNotFound) || (err == nil && u.Disabled) {
		s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventPasswordResetRequested, Detail: "no such account with an address"})
		return nil
	}
	if err != nil {
		return fmt.Errorf("accounts: reset: %w", err)
	}
	tok, hash := newToken()
	now := s.o.Now()
	t := &jwtgate.OneTimeToken{Hash: hash, Purpose: jwtgate.PurposeResetPassword, UserID: u.ID, Email: e.Address, CreatedAt: now, ExpiresAt: now.Add(s.o.ResetTTL)}
	if err := s.store.CreateOneTimeToken(ctx, t); err != nil {
		return fmt.Errorf("accounts: create reset token: %w", err)
	}
	if err := s.send(ctx, kindReset, e.Address, emailData{Name: u.Name, Email: e.Address, Link: s.link("/password/reset", "token", tok), TTL: humanTTL(s.o.ResetTTL)}); err != nil {
		return err
	}
	s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventPasswordResetRequested, UserID: u.ID, Name: u.Name})
	return nil
}

// ResetPassword uses a reset link: it sets the new password, ends every
// session of the user on every instance, voids the user's other reset
// links (the store does, with any new password), marks the address the link reached as verified, and tells the
// user by email. A password the policy refuses leaves the link usable.
// Errors wrap ErrInvalidToken or jwtgate.ErrInvalid.
func (s *Service) ResetPassword(ctx context.Context, tok, newPassword string) error {
	if !validToken(tok) {
		return ErrInvalidToken
	}
	hash := hashToken(tok)
	t, err := s.store.OneTimeToken(ctx, jwtgate.PurposeResetPassword, hash, s.o.Now())
	if errors.Is(err, jwtgate.ErrNotFound) {
		return ErrInvalidToken
	} else if err != nil {
		return fmt.Errorf("accounts: reset: %w", err)
	}
	u, err := s.store.UserByID(ctx, t.UserID)
	if err != nil {
		return fmt.Errorf("accounts: reset: %w", err)
	}
	if err := checkNewPassword(newPassword, u.Name, t.Email); err != nil {
		return err
	}
	if _, err := s.store.SpendOneTimeToken(ctx, jwtgate.PurposeResetPassword, hash, s.o.Now()); errors.Is(err, jwtgate.ErrNotFound) {
		return ErrInvalidToken // spent by a concurrent request
	} else if err != nil {
		return fmt.Errorf("accounts: reset: %w", err)
	}
	if err := s.auth.SetPassword(ctx, u.Name, newPassword); err != nil {
		return fmt.Errorf("accounts: reset: %w", err)
	}
	now := s.o.Now()
	if cur, err := s.store.UserEmail(ctx, u.ID); err == nil && !cur.Verified() && jwtgate.EmailKey(cur.Address) == jwtgate.EmailKey(t.Email) {
		cur.VerifiedAt = &now
		if err := s.store.SetUserEmail(ctx, *cur); err != nil {
			s.o.Logger.Error("address not marked verified", "user_id", u.ID, "err", err)
		}
	}
	s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventPasswordResetCompleted, UserID: u.ID, Name: u.Name})
	if err := s.send(ctx, kindPasswordChanged, t.Email, emailData{Name: u.Name, Email: t.Email}); err != nil {
		s.o.Logger.Error("password-change notice not queued", "user_id", u.ID, "err", err)
	}
	return nil
}
