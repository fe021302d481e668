package jwtgate

import (
	"context"
	"time"
)

// NewAccount is everything one self-service signup writes: the user and,
// when there are any, its address, the invitation it spends, the token that
// verifies the address, the email carrying that token and the audit events.
// A store writes it all in one transaction, so a crash or a lost race never
// leaves an account half made: a user without the address it signed up
// with, an invitation accepted twice, or a verification link that never
// reaches the outbox.
type NewAccount struct {
	User *User // inserted; the store sets User.ID
	// Email is the user's address (UserID is set by the store); nil if none.
	Email *UserEmail
	// Invitation is the hash of the invitation token (purpose invite) the
	// signup spends at At; nil if none.
	Invitation []byte
	// Verification is the token verifying Email (UserID set by the store);
	// nil if none.
	Verification *OneTimeToken
	// Mail is the email carrying Verification, queued in the outbox; nil
	// if none.
	Mail *OutboxEmail
	// Events are appended with their UserID set to the new user's when
	// zero.
	Events []*AuditEvent
	At     time.Time
}

// Stored sets the ids a store gave the account's rows, once its
// transaction committed (a failed attempt leaves a as it was, so a retry
// starts clean). Events with no user get the new user's.
func (a *NewAccount) Stored(userID, verificationID, mailID int64, eventIDs []int64) {
	a.User.ID = userID
	if a.Email != nil {
		a.Email.UserID = userID
	}
	if a.Verification != nil {
		a.Verification.UserID, a.Verification.ID = userID, verificationID
	}
	if a.Mail != nil {
		a.Mail.ID = mailID
	}
	for i, ev := range a.Events {
		ev.ID = eventIDs[i]
		if ev.UserID == 0 {
			ev.UserID = userID
		}
	}
}

// AccountStore creates accounts in one step. Implementations are safe for
// concurrent use, also by several processes sharing the store.
type AccountStore interface {
	// CreateAccount stores a, all of it or nothing. Errors wrap
	// ErrConflict (the name or the address is taken) or ErrNotFound (the
	// invitation is unknown, spent or expired at a.At: of two concurrent
	// signups with one invitation, exactly one succeeds).
	CreateAccount(ctx context.Context, a *NewAccount) error
}
