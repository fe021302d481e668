package mail

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/seal"
)

// Sender delivers one message. *SMTP is the real one.
type Sender interface {
	Send(ctx context.Context, m *Message) error
}

// Defaults for OutboxOptions left zero.
const (
	DefaultBatch      = 20
	DefaultPoll       = 5 * time.Second
	DefaultLease      = 2 * time.Minute // longer than a send's 30 s timeout
	DefaultFirstRetry = 30 * time.Second
	DefaultMaxRetry   = time.Hour
	// DefaultGiveUpAfter: the links jwtgate sends are dead within a day, so
	// a message still undelivered then is not worth sending.
	DefaultGiveUpAfter = 24 * time.Hour
)

// OutboxOptions configure an Outbox. Zero values take the defaults above.
type OutboxOptions struct {
	Sealer      *seal.Sealer // seals bodies at rest; nil stores them plain
	Batch       int
	Poll        time.Duration // how often the sender looks for due emails
	Lease       time.Duration
	FirstRetry  time.Duration // backoff after the first failure; doubles up to MaxRetry
	MaxRetry    time.Duration
	GiveUpAfter time.Duration
	Now         func() time.Time
	Logger      *slog.Logger
	// Sent, if set, is told of every outcome (for metrics): "sent", "retry"
	// or "gave_up", with the email's purpose.
	Sent func(purpose, outcome string)
}

// Outbox stores messages and delivers them in the background. Enqueue is
// safe to call from any goroutine; Run runs the sender loop.
type Outbox struct {
	store  jwtgate.OutboxStore
	sender Sender
	o      OutboxOptions
	wake   chan struct{}
}

// NewOutbox returns an outbox over store that delivers through sender.
func NewOutbox(store jwtgate.OutboxStore, sender Sender, o OutboxOptions) *Outbox {
	if o.Batch <= 0 {
		o.Batch = DefaultBatch
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.FirstRetry <= 0 {
		o.FirstRetry = DefaultFirstRetry
	}
	if o.MaxRetry <= 0 {
		o.MaxRetry = DefaultMaxRetry
	}
	if o.GiveUpAfter <= 0 {
		o.GiveUpAfter = DefaultGiveUpAfter
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Sent == nil {
		o.Sent = func(string, string) {}
	}
	return &Outbox{store: store, sender: sender, o: o, wake: make(chan struct{}, 1)}
}

// aad binds a sealed body to its recipient and purpose, so a body cannot
// be moved to another row and sent to someone else.
func aad(to, purpose string) []byte { return []byte("email\x00" + purpose + "\x00" + to) }

// Enqueue checks m and stores it for delivery; purpose names what it is
// for ("verify", "reset", ...). It returns once the message is durable and
// wakes the sender. Errors wrap ErrInvalid for a message that cannot be
// sent (a bad address, a header-breaking subject).
func (ob *Outbox) Enqueue(ctx context.Context, purpose string, m Message) error {
	e, err := ob.Prepare(purpose, m)
	if err != nil {
		return err
	}
	if err := ob.store.EnqueueEmail(ctx, e); err != nil {
		return fmt.Errorf("mail: enqueue %s email: %w", purpose, err)
	}
	ob.Wake()
	return nil
}

// Prepare checks and seals m as Enqueue does, without storing it: for a
// caller that stores the email in the same transaction as the change it
// announces (a signup and its verification link), then calls Wake.
func (ob *Outbox) Prepare(purpose string, m Message) (*jwtgate.OutboxEmail, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	body, err := m.encode()
	if err != nil {
		return nil, fmt.Errorf("mail: encode %s email: %w", purpose, err)
	}
	now := ob.o.Now()
	return &jwtgate.OutboxEmail{
		To: m.To, Purpose: purpose, CreatedAt: now, NextAttempt: now,
		Body: ob.o.Sealer.Seal(body, aad(m.To, purpose)),
	}, nil
}

// Wake makes the sender look for due emails now rather than at its next
// poll.
func (ob *Outbox) Wake() {
	select {
	case ob.wake <- struct{}{}:
	default:
	}
}

// Run delivers due emails until ctx ends: at once when Enqueue wakes it,
// and every Poll otherwise (for retries and for emails other instances
// stored). It returns ctx's error.
func (ob *Outbox) Run(ctx context.Context) error {
	t := time.NewTicker(ob.o.Poll)
	defer t.Stop()
	for {
		if _, err := ob.Flush(ctx); err != nil && ctx.Err() == nil {
			ob.o.Logger.Warn("email outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		case <-ob.wake:
		}
	}
}

// Flush makes one pass: it claims due emails batch by batch and tries
// each once. It reports how many it delivered.
func (ob *Outbox) Flush(ctx context.Context) (int, error) {
	sent := 0
	for {
		now := ob.o.Now()
		batch, err := ob.store.ClaimEmails(ctx, now, now.Add(ob.o.Lease), ob.o.Batch)
		if err != nil {
			return sent, err
		}
		for i := range batch {
			ok, err := ob.deliver(ctx, &batch[i])
			if err != nil {
				return sent, err
			}
			if ok {
				sent++
			}
		}
		if len(batch) < ob.o.Batch {
			return sent, nil
		}
	}
}

// deliver tries one claimed email and records the outcome. It returns an
// error only when the outcome could not be stored.
func (ob *Outbox) deliver(ctx context.Context, e *jwtgate.OutboxEmail) (bool, error) {
	log := ob.o.Logger.With("email_id", e.ID, "purpose", e.Purpose)
	m, err := ob.open(e)
	if err == nil {
		sendCtx, cancel := context.WithTimeout(ctx, ob.o.Lease/2)
		err = ob.sender.Send(sendCtx, m)
		cancel()
		if err == nil {
			if err := ob.store.EmailSent(ctx, e.ID, ob.o.Now()); err != nil {
				return false, fmt.Errorf("mail: record email %d sent: %w", e.ID, err)
			}
			ob.o.Sent(e.Purpose, "sent")
			log.Info("email sent", "attempts", e.Attempts+1)
			return true, nil
		}
	}
	if ctx.Err() != nil { // shutting down: the lease runs out and it comes due again
		return false, nil
	}
	now := ob.o.Now()
	retry := now.Add(ob.backoff(e.Attempts))
	if retry.Sub(e.CreatedAt) > ob.o.GiveUpAfter {
		retry = time.Time{}
	}
	if err2 := ob.store.EmailFailed(ctx, e.ID, retry, err.Error()); err2 != nil {
		return false, fmt.Errorf("mail: record email %d failed: %w", e.ID, err2)
	}
	if retry.IsZero() {
		ob.o.Sent(e.Purpose, "gave_up")
		log.Error("email given up", "attempts", e.Attempts+1, "err", err)
	} else {
		ob.o.Sent(e.Purpose, "retry")
		log.Warn("email not sent, will retry", "attempts", e.Attempts+1, "retry_at", retry, "err", err)
	}
	return false, nil
}

func (ob *Outbox) open(e *jwtgate.OutboxEmail) (*Message, error) {
	body, err := ob.o.Sealer.Open(e.Body, aad(e.To, e.Purpose))
	if err != nil {
		return nil, fmt.Errorf("mail: open stored email: %w", err)
	}
	m, err := decode(body)
	if err != nil {
		return nil, err
	}
	return m, nil
}

// backoff is the wait after the attempts-th failure (0-based): FirstRetry,
// doubling, capped at MaxRetry.
func (ob *Outbox) backoff(attempts int) time.Duration {
	d := ob.o.FirstRetry
	for range attempts {
		d *= 2
		if d >= ob.o.MaxRetry {
			return ob.o.MaxRetry
		}
	}
	return d
}
