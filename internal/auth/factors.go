package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/mfa"
	"github.com/jwtgate/jwtgate/token"
)

// The rules around a user's own second factors, for the /user/totp and
// /user/recovery-codes routes; the checks themselves live in internal/mfa.

// User returns the token's user; ErrUnauthenticated if it is gone.
func (s *Service) User(ctx context.Context, c *token.Claims) (*jwtgate.User, error) {
	u, err := s.store.UserByID(ctx, c.UserID)
	if errors.Is(err, jwtgate.ErrNotFound) {
		return nil, jwtgate.ErrUnauthenticated
	} else if err != nil {
		return nil, fmt.Errorf("auth: user %d: %w", c.UserID, err)
	}
	return u, nil
}

// StartTOTP begins TOTP enrolment for the token's user. A user who has a
// second factor already (a passkey) needs a fresh one (StepUp with code).
// Errors wrap ErrStepUp, jwtgate.ErrConflict (TOTP already on) and
// StepUp's.
func (s *Service) StartTOTP(ctx context.Context, c *token.Claims, code string) (*mfa.Enrolment, error) {
	// Refused before the step-up, so a code sent along is not spent on it.
	if f, err := s.mfa.Factors(ctx, c.UserID); err != nil {
		return nil, err
	} else if f.TOTP {
		return nil, fmt.Errorf("auth: start totp: %w", jwtgate.ErrConflict)
	}
	if err := s.StepUp(ctx, c, code); err != nil {
		return nil, err
	}
	u, err := s.User(ctx, c)
	if err != nil {
		return nil, err
	}
	return s.mfa.StartTOTP(ctx, u)
}

// DisableTOTP turns TOTP off for the token's user after their password
// and a code (TOTP or recovery): both, so neither a stolen session nor a
// stolen phone alone can remove the factor.
func (s *Service) DisableTOTP(ctx context.Context, c *token.Claims, pw, code string) error {
	u, err := s.checkCurrent(ctx, c, pw, "disabling totp")
	if err != nil {
		return err
	}
	return s.mfa.DisableTOTP(ctx, u, code, clientFrom(ctx).IP)
}

// ResetFactors removes every second factor of the named user (an admin's
// act, audited) and ends the user's sessions, so whoever holds one must
// sign in again, with the password alone. It reports whether the user had
// any factor. ErrNotFound if there is no such user.
func (s *Service) ResetFactors(ctx context.Context, name string) (bool, error) {
	u, err := s.store.UserByName(ctx, name)
	if err != nil {
		return false, fmt.Errorf("auth: reset factors: %w", err)
	}
	var actor int64
	if a := RequestFrom(ctx).Actor; a != nil {
		actor = a.UserID
	}
	had, err := s.mfa.Reset(ctx, actor, u)
	if err != nil {
		return false, err
	}
	if _, err := s.revokeAll(ctx, u.ID, ""); err != nil {
		return had, err
	}
	return had, nil
}

// UserFactors summarises the second factors of the users in ids (users
// without any are absent), for the admin's list.
func (s *Service) UserFactors(ctx context.Context, ids []int64) (map[int64]jwtgate.Factors, error) {
	m, err := s.store.UserFactors(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("auth: user factors: %w", err)
	}
	return m, nil
}
