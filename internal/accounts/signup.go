package accounts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/password"
)

func common(pw string) bool { return password.Common(pw) }
func lower(s string) string { return strings.ToLower(s) }

// SignupInput is what a person signing up sends.
type SignupInput struct {
	Name       string
	Password   string
	Email      string // required when the server requires verified addresses
	Invitation string // the invitation token, in invite mode
}

// SignupResult says what Signup did.
type SignupResult struct {
	User             *jwtgate.User
	Email            *jwtgate.UserEmail // nil if none was given
	VerificationSent bool
}

// Signup creates an account under the signup mode: open, or invite with
// a valid invitation (whose address it takes, verified, and whose roles it
// grants). Errors wrap ErrSignupClosed, ErrInvalidToken, jwtgate.ErrInvalid
// (naming the field), jwtgate.ErrConflict (name or address taken) or
// jwtgate.ErrThrottled (too many signups from the client's address).
func (s *Service) Signup(ctx context.Context, in SignupInput) (*SignupResult, error) {
	if s.o.Signup == SignupClosed {
		return nil, ErrSignupClosed
	}
	if err := jwtgate.ValidateName(in.Name); err != nil {
		return nil, err
	}
	var inv *jwtgate.OneTimeToken
	if s.o.Signup == SignupInvite {
		if !validToken(in.Invitation) {
			return nil, ErrInvalidToken
		}
		t, err := s.store.OneTimeToken(ctx, jwtgate.PurposeInvite, hashToken(in.Invitation), s.o.Now())
		if errors.Is(err, jwtgate.ErrNotFound) {
			return nil, ErrInvalidToken
		} else if err != nil {
			return nil, fmt.Errorf("accounts: invitation: %w", err)
		}
		inv = t
		in.Email = t.Email // an invitation is for its address
	}
	if in.Email != "" {
		addr, err := jwtgate.CheckEmail(in.Email)
		if err != nil {
			return nil, err
		}
		in.Email = addr
	} else if s.o.RequireVerified {
		return nil, fmt.Errorf("%w: email is required", jwtgate.ErrInvalid)
	}
	if err := checkNewPassword(in.Password, in.Name, in.Email); err != nil {
		return nil, err
	}
	if inv == nil {
		if err := s.throttle(ctx, "", clientIP(ctx)); err != nil {
			return nil, err
		}
	}
	if in.Email != "" {
		if _, err := s.store.UserEmailByAddress(ctx, in.Email); err == nil {
			return nil, fmt.Errorf("%w: email belongs to another account", jwtgate.ErrConflict)
		}
	}
	var roles []string
	if inv != nil && inv.Data != "" {
		if err := json.Unmarshal([]byte(inv.Data), &roles); err != nil {
			return nil, fmt.Errorf("accounts: invitation %d roles: %w", inv.ID, err)
		}
	}
	u, err := s.auth.NewUser(ctx, in.Name, in.Password, roles)
	if err != nil {
		return nil, err
	}
	// Everything the signup writes goes in one transaction: the account,
	// its address, the invitation it spends, the verification link and
	// its email, and the audit events. A crash or a lost race leaves no
	// account half made.
	now := s.o.Now()
	a := &jwtgate.NewAccount{User: u, At: now, Events: []*jwtgate.AuditEvent{s.event(ctx, auth.UserCreatedEvent(u))}}
	if inv != nil {
		a.Invitation = inv.Hash
	}
	if in.Email != "" {
		a.Email = &jwtgate.UserEmail{Address: in.Email}
		if inv != nil { // the invitation reached this address: it is proven
			a.Email.VerifiedAt = &now
		} else if s.outbox != nil {
			tok, hash := newToken()
			link := s.link("/email/verify", "token", tok)
			m, err := s.prepare(kindVerify, in.Email, emailData{Name: u.Name, Email: in.Email, Link: link, TTL: humanTTL(s.o.VerifyTTL)})
			if err != nil {
				return nil, fmt.Errorf("accounts: verification email: %w", err)
			}
			a.Verification = &jwtgate.OneTimeToken{Hash: hash, Purpose: jwtgate.PurposeVerifyEmail, Email: in.Email, CreatedAt: now, ExpiresAt: now.Add(s.o.VerifyTTL)}
			a.Mail = m
			a.Events = append(a.Events, s.event(ctx, jwtgate.AuditEvent{Type: jwtgate.EventVerificationSent, Name: u.Name}))
		}
	}
	ev := jwtgate.AuditEvent{Type: jwtgate.EventSignedUp, Name: u.Name, Detail: string(s.o.Signup)}
	if inv != nil {
		ev.Type, ev.ActorID, ev.Detail = jwtgate.EventInvitationAccepted, inv.CreatedBy, fmt.Sprintf("invitation %d", inv.ID)
	}
	a.Events = append(a.Events, s.event(ctx, ev))
	if err := s.store.CreateAccount(ctx, a); err != nil {
		if inv != nil && errors.Is(err, jwtgate.ErrNotFound) { // spent by a concurrent signup
			return nil, ErrInvalidToken
		}
		return nil, err
	}
	for _, e := range a.Events {
		s.logEvent(ctx, e)
	}
	res := &SignupResult{User: u, Email: a.Email, VerificationSent: a.Mail != nil}
	if a.Mail != nil {
		s.outbox.Wake()
	}
	return res, nil
}

// Invitation is an open invitation as an admin sees it.
type Invitation struct {
	ID        int64
	Email     string
	Roles     []string
	CreatedBy int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Invite creates an invitation for addr with roles, valid for ttl (0 means
// the default), and emails it when email is configured. It returns the
// invitation and its link, which the caller may hand over itself when there
// is no email. A newer invitation for the same address voids the older.
// Errors wrap jwtgate.ErrInvalid or jwtgate.ErrConflict (the address
// belongs to an account).
func (s *Service) Invite(ctx context.Context, actorID int64, addr string, roles []string, ttl time.Duration) (*Invitation, string, error) {
	addr, err := jwtgate.CheckEmail(addr)
	if err != nil {
		return nil, "", err
	}
	if err := jwtgate.ValidateRoles(roles); err != nil {
		return nil, "", err
	}
	if ttl <= 0 {
		ttl = s.o.InviteTTL
	}
	if ttl > 30*24*time.Hour {
		return nil, "", fmt.Errorf("%w: invitation lifetime longer than 30 days", jwtgate.ErrInvalid)
	}
	if _, err := s.store.UserEmailByAddress(ctx, addr); err == nil {
		return nil, "", fmt.Errorf("%w: %s belongs to an account already", jwtgate.ErrConflict, addr)
	}
	data, _ := json.Marshal(roles)
	if roles == nil {
		data = nil
	}
	tok, hash := newToken()
	now := s.o.Now()
	t := &jwtgate.OneTimeToken{Hash: hash, Purpose: jwtgate.PurposeInvite, Email: addr, Data: string(data), CreatedBy: actorID, CreatedAt: now, ExpiresAt: now.Add(ttl)}
	if err := s.store.CreateOneTimeToken(ctx, t); err != nil {
		return nil, "", fmt.Errorf("accounts: create invitation: %w", err)
	}
	link := s.link("/signup", "invitation", tok)
	if s.outbox != nil {
		if err := s.send(ctx, kindInvite, addr, emailData{Email: addr, Link: link, TTL: humanTTL(ttl)}); err != nil {
			return nil, "", err
		}
	}
	s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventInvited, ActorID: actorID, Detail: fmt.Sprintf("invitation %d for %s, roles %s", t.ID, addr, strings.Join(roles, ","))})
	return toInvitation(t), link, nil
}

// Invitations lists the open invitations, newest first.
func (s *Service) Invitations(ctx context.Context) ([]Invitation, error) {
	ts, err := s.store.PendingOneTimeTokens(ctx, jwtgate.PurposeInvite, s.o.Now())
	if err != nil {
		return nil, fmt.Errorf("accounts: invitations: %w", err)
	}
	out := make([]Invitation, len(ts))
	for i := range ts {
		out[i] = *toInvitation(&ts[i])
	}
	return out, nil
}

// RevokeInvitation voids the open invitation id; jwtgate.ErrNotFound if
// there is none.
func (s *Service) RevokeInvitation(ctx context.Context, actorID, id int64) error {
	if err := s.store.RevokeOneTimeToken(ctx, id); err != nil {
		return fmt.Errorf("accounts: revoke invitation %d: %w", id, err)
	}
	s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventInvitationRevoked, ActorID: actorID, Detail: fmt.Sprintf("invitation %d", id)})
	return nil
}

// CheckInvitation returns the invitation behind tok without using it, for
// the signup page to show whom it is for; ErrInvalidToken if it is not open.
func (s *Service) CheckInvitation(ctx context.Context, tok string) (*Invitation, error) {
	if !validToken(tok) {
		return nil, ErrInvalidToken
	}
	t, err := s.store.OneTimeToken(ctx, jwtgate.PurposeInvite, hashToken(tok), s.o.Now())
	if errors.Is(err, jwtgate.ErrNotFound) {
		return nil, ErrInvalidToken
	} else if err != nil {
		return nil, fmt.Errorf("accounts: invitation: %w", err)
	}
	return toInvitation(t), nil
}

func toInvitation(t *jwtgate.OneTimeToken) *Invitation {
	inv := &Invitation{ID: t.ID, Email: t.Email, CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt}
	if t.Data != "" {
		_ = json.Unmarshal([]byte(t.Data), &inv.Roles)
	}
	return inv
}
