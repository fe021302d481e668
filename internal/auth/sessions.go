package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/token"
)

// LiveSessions returns the user's sessions that can still be refreshed,
// newest first.
func (s *Service) LiveSessions(ctx context.Context, userID int64) ([]jwtgate.Session, error) {
	all, err := s.store.SessionsByUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("auth: sessions: %w", err)
	}
	now := s.o.Now()
	live := all[:0]
	for _, sess := range all {
		if sess.Live(now) && now.Sub(sess.LastUsedAt) <= s.o.SessionIdleTTL {
			live = append(live, sess)
		}
	}
	return live, nil
}

// RevokeSession ends one of the user's own sessions. ErrNotFound if the
// user has no live session with that id (another user's id included, so
// ids cannot be probed).
func (s *Service) RevokeSession(ctx context.Context, userID int64, sid string) error {
	now := s.o.Now()
	ids, err := s.store.RevokeSessions(ctx, jwtgate.SessionFilter{ID: sid, UserID: userID}, now, s.revocationExpiry(now))
	if err != nil {
		return fmt.Errorf("auth: revoke session: %w", err)
	}
	if len(ids) == 0 {
		return fmt.Errorf("auth: session: %w", jwtgate.ErrNotFound)
	}
	s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventSessionRevoked, UserID: userID, Detail: "sid " + sid})
	return s.revs.Sync(ctx)
}

// RevokeUserSessions ends every session of the named user (an admin or CLI
// action) and returns how many were live.
func (s *Service) RevokeUserSessions(ctx context.Context, name string) (int, error) {
	u, err := s.store.UserByName(ctx, name)
	if err != nil {
		return 0, fmt.Errorf("auth: user %q: %w", name, err)
	}
	n, err := s.revokeAll(ctx, u.ID, "")
	if err == nil {
		s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventSessionsRevoked, UserID: u.ID, Name: u.Name, Detail: sessionsText(n)})
	}
	return n, err
}

func (s *Service) revokeAll(ctx context.Context, userID int64, except string) (int, error) {
	now := s.o.Now()
	ids, err := s.store.RevokeSessions(ctx, jwtgate.SessionFilter{UserID: userID, ExceptID: except}, now, s.revocationExpiry(now))
	if err != nil {
		return 0, fmt.Errorf("auth: revoke sessions: %w", err)
	}
	if err := s.revs.Sync(ctx); err != nil {
		return len(ids), err
	}
	return len(ids), nil
}

// ChangePassword sets a new password for the token's user after checking
// the current one, and ends the user's other sessions (the one making the
// change stays). A wrong current password is ErrBadCredentials; an invalid
// new one ErrInvalid.
func (s *Service) ChangePassword(ctx context.Context, c *token.Claims, current, next string) error {
	if err := jwtgate.ValidatePassword(next, MinPasswordLen); err != nil {
		return err
	}
	if len(current) > jwtgate.MaxPasswordLen {
		return jwtgate.ErrBadCredentials
	}
	u, err := s.checkCurrent(ctx, c, current, "password change")
	if err != nil {
		return err
	}
	h, err := s.hash(ctx, next)
	if err != nil {
		return err
	}
	if err := s.store.SetPasswordHash(ctx, u.ID, h, s.o.Now()); err != nil {
		return fmt.Errorf("auth: change password: %w", err)
	}
	n, err := s.revokeAll(ctx, u.ID, c.SessionID)
	s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventPasswordChanged, UserID: u.ID, Name: u.Name, Detail: "other " + sessionsText(n) + " revoked"})
	return err
}

// checkCurrent loads the token's user and checks pw, their current
// password, before a sensitive change (named by what, for the audit).
// Guessing it from a stolen session is throttled like a login. Errors:
// ErrBadCredentials, ErrUnauthenticated (user gone), *ThrottledError.
func (s *Service) checkCurrent(ctx context.Context, c *token.Claims, pw, what string) (*jwtgate.User, error) {
	if len(pw) > jwtgate.MaxPasswordLen {
		return nil, jwtgate.ErrBadCredentials
	}
	u, err := s.store.UserByID(ctx, c.UserID)
	if errors.Is(err, jwtgate.ErrNotFound) {
		return nil, jwtgate.ErrUnauthenticated
	} else if err != nil {
		return nil, fmt.Errorf("auth: %s: %w", what, err)
	}
	cl := clientFrom(ctx)
	cl.Device = "" // a stolen session's guesses count on the account, never on a device
	at := s.newAttempt(u.Name, cl)
	if err := s.throttleCheck(ctx, at); err != nil {
		return nil, err
	}
	ok, _, err := s.check(ctx, at, u.PasswordHash, pw)
	if err != nil {
		return nil, err
	}
	if !ok {
		s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventLoginFailed, UserID: u.ID, Name: u.Name, Detail: "wrong current password on " + what})
		s.throttleFail(ctx, at, jwtgate.AuditEvent{UserID: u.ID, Name: u.Name})
		return nil, jwtgate.ErrBadCredentials
	}
	return u, nil
}

// SetDisabled disables (ending every session at once) or enables the named
// user.
func (s *Service) SetDisabled(ctx context.Context, name string, disabled bool) error {
	u, err := s.store.UserByName(ctx, name)
	if err != nil {
		return fmt.Errorf("auth: user %q: %w", name, err)
	}
	if err := s.store.SetDisabled(ctx, u.ID, disabled, s.o.Now()); err != nil {
		return fmt.Errorf("auth: user %q: %w", name, err)
	}
	typ := jwtgate.EventUserEnabled
	if disabled {
		typ = jwtgate.EventUserDisabled
		_, err = s.revokeAll(ctx, u.ID, "")
	}
	s.audit(ctx, jwtgate.AuditEvent{Type: typ, UserID: u.ID, Name: u.Name})
	return err
}

// DeleteUser revokes the named user's sessions, so their access tokens die
// everywhere, then deletes the user.
func (s *Service) DeleteUser(ctx context.Context, name string) error {
	u, err := s.store.UserByName(ctx, name)
	if err != nil {
		return fmt.Errorf("auth: user %q: %w", name, err)
	}
	if _, err := s.revokeAll(ctx, u.ID, ""); err != nil {
		return err
	}
	if err := s.store.DeleteUser(ctx, u.ID); err != nil {
		return fmt.Errorf("auth: delete user %q: %w", name, err)
	}
	s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventUserDeleted, UserID: u.ID, Name: u.Name})
	return nil
}

// RotateKey rotates the signing key (see Keyring.Rotate) and audits it.
func (s *Service) RotateKey(ctx context.Context, kr *Keyring) (*jwtgate.Key, error) {
	k, err := kr.Rotate(ctx)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventKeyRotated, Detail: fmt.Sprintf("new %s key %s signs from %s", k.Alg, k.ID, k.ActivatesAt.Format(time.RFC3339))})
	return k, nil
}

// Maintain keeps the instance fresh until ctx ends: every interval it pulls
// new revocations and keys from the store (how changes made on other
// instances arrive) and, when rotateEvery is set, rotates the signing key
// once the newest is that old; every minute it prunes expired feed entries
// and keys.
func (s *Service) Maintain(ctx context.Context, kr *Keyring, interval, rotateEvery time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	lastChores := time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, err := timed(s, "sync_revocations", func() (struct{}, error) { return struct{}{}, s.revs.Sync(ctx) }); err != nil && ctx.Err() == nil {
			s.o.Logger.Warn("revocation sync failed", "err", err)
		}
		if kr == nil {
			continue
		}
		if _, err := timed(s, "sync_keys", func() (struct{}, error) { return struct{}{}, kr.Sync(ctx) }); err != nil && ctx.Err() == nil {
			s.o.Logger.Warn("key sync failed", "err", err)
		}
		// Checked every tick: RotateIfOlder decides on the keys just
		// synced and generates a key only when one is due.
		if rotateEvery > 0 {
			rotated, err := kr.RotateIfOlder(ctx, rotateEvery)
			if err != nil && ctx.Err() == nil {
				s.o.Logger.Warn("scheduled key rotation failed", "err", err)
			} else if rotated {
				s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventKeyRotated, Detail: "scheduled rotation"})
			}
		}
		if time.Since(lastChores) < time.Minute {
			continue
		}
		lastChores = time.Now()
		now := s.o.Now()
		if _, err := s.store.PruneRevocations(ctx, now.Add(-time.Minute)); err != nil && ctx.Err() == nil {
			s.o.Logger.Warn("revocation prune failed", "err", err)
		}
		if err := kr.Prune(ctx); err != nil && ctx.Err() == nil {
			s.o.Logger.Warn("key prune failed", "err", err)
		}
	}
}

// UserSessions returns the named user's live sessions (admin, CLI).
func (s *Service) UserSessions(ctx context.Context, name string) ([]jwtgate.Session, error) {
	u, err := s.store.UserByName(ctx, name)
	if err != nil {
		return nil, fmt.Errorf("auth: user %q: %w", name, err)
	}
	return s.LiveSessions(ctx, u.ID)
}
