package jwtgate

import (
	"context"
	"time"
)

// OutboxEmail is one message in the outbox. Emails are stored before anything is
// sent, so a request that emails someone is acknowledged only once its
// message is durable: a crash or a down SMTP server delays it, never loses it.
type OutboxEmail struct {
	ID      int64
	To      string // one recipient address
	Purpose string // what it is for ("verify", "reset", ...): for logs and metrics; never a link
	// Body is the whole message as the sender encodes it, sealed at rest:
	// it may hold a single-use link. It is dropped once the email is sent or
	// given up on, so the store keeps no live link longer than it must.
	Body      []byte
	CreatedAt time.Time
	// NextAttempt is when the email is due. A sender that claims it moves
	// this forward (a lease), so instances sharing a store do not send it twice.
	NextAttempt time.Time
	Attempts    int
	SentAt      *time.Time
	GaveUp      bool   // delivery abandoned after too many failures
	LastError   string // the last delivery error, for operators
}

// OutboxStore keeps emails until they are delivered. Implementations are
// safe for concurrent use, also by several processes sharing the store.
type OutboxStore interface {
	// EnqueueEmail stores e, due at e.NextAttempt, and sets e.ID.
	EnqueueEmail(ctx context.Context, e *OutboxEmail) error
	// ClaimEmails returns up to limit pending emails due at or before now,
	// oldest first, and in the same transaction moves their NextAttempt to
	// leaseUntil: another sender does not see them until then, and if this
	// one dies they come due again.
	ClaimEmails(ctx context.Context, now, leaseUntil time.Time, limit int) ([]OutboxEmail, error)
	// EmailSent marks email id delivered at at and drops its body.
	EmailSent(ctx context.Context, id int64, at time.Time) error
	// EmailFailed records a failed attempt: Attempts+1 and lastErr. A
	// non-zero retryAt makes the email due again then; a zero one gives up
	// on it and drops its body.
	EmailFailed(ctx context.Context, id int64, retryAt time.Time, lastErr string) error
	// PendingEmails counts emails neither sent nor given up on.
	PendingEmails(ctx context.Context) (int, error)
	// DeleteEmailsBefore removes sent and abandoned emails created before t
	// and reports how many.
	DeleteEmailsBefore(ctx context.Context, t time.Time) (int, error)
}
