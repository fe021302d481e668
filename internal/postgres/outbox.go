package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
)

// EnqueueEmail stores e, due at e.NextAttempt, and sets e.ID. The
// recipient and purpose are validated by the sender's package; an address
// PostgreSQL cannot store (NUL, invalid UTF-8) is refused as ErrInvalid.
func (db *DB) EnqueueEmail(ctx context.Context, e *jwtgate.OutboxEmail) error {
	if !storable(e.To) || !storable(e.Purpose) {
		return fmt.Errorf("postgres: enqueue email: %w: recipient or purpose cannot be stored (invalid UTF-8 or NUL)", jwtgate.ErrInvalid)
	}
	err := db.pool.QueryRow(ctx, `
		INSERT INTO outbox (recipient, purpose, body, created_at, next_attempt)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		e.To, e.Purpose, e.Body, sqlrow.Millis(e.CreatedAt), sqlrow.Millis(e.NextAttempt)).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("postgres: enqueue email: %w", err)
	}
	return nil
}

// ClaimEmails returns up to limit due emails and leases them until
// leaseUntil. FOR UPDATE SKIP LOCKED lets senders on several instances
// claim disjoint batches at once instead of queueing behind each other.
func (db *DB) ClaimEmails(ctx context.Context, now, leaseUntil time.Time, limit int) ([]jwtgate.OutboxEmail, error) {
	rows, err := db.pool.Query(ctx, `
		UPDATE outbox SET next_attempt = $1
		WHERE id IN (
			SELECT id FROM outbox
			WHERE sent_at IS NULL AND NOT gave_up AND next_attempt <= $2
			ORDER BY next_attempt, id LIMIT $3
			FOR UPDATE SKIP LOCKED)
		RETURNING id, recipient, purpose, body, created_at, next_attempt, attempts, last_error`,
		sqlrow.Millis(leaseUntil), sqlrow.Millis(now), limit)
	if err != nil {
		return nil, fmt.Errorf("postgres: claim emails: %w", err)
	}
	out, err := collect(rows, func(row pgx.CollectableRow) (jwtgate.OutboxEmail, error) {
		var e jwtgate.OutboxEmail
		var created, next int64
		err := row.Scan(&e.ID, &e.To, &e.Purpose, &e.Body, &created, &next, &e.Attempts, &e.LastError)
		e.CreatedAt, e.NextAttempt = sqlrow.Time(created), sqlrow.Time(next)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: claim emails: %w", err)
	}
	// RETURNING gives rows in no promised order.
	slices.SortFunc(out, func(a, b jwtgate.OutboxEmail) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// EmailSent marks email id delivered and drops its body.
func (db *DB) EmailSent(ctx context.Context, id int64, at time.Time) error {
	return db.updateEmail(ctx, "email sent", id,
		`UPDATE outbox SET sent_at = $1, body = NULL WHERE id = $2`, sqlrow.Millis(at), id)
}

// EmailFailed records a failed attempt; a zero retryAt gives up.
func (db *DB) EmailFailed(ctx context.Context, id int64, retryAt time.Time, lastErr string) error {
	lastErr = clean(lastErr)
	if retryAt.IsZero() {
		return db.updateEmail(ctx, "email failed", id, `
			UPDATE outbox SET attempts = attempts + 1, last_error = $1, gave_up = true, body = NULL
			WHERE id = $2`, lastErr, id)
	}
	return db.updateEmail(ctx, "email failed", id, `
		UPDATE outbox SET attempts = attempts + 1, last_error = $1, next_attempt = $2
		WHERE id = $3`, lastErr, sqlrow.Millis(retryAt), id)
}

func (db *DB) updateEmail(ctx context.Context, what string, id int64, query string, args ...any) error {
	tag, err := db.pool.Exec(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("postgres: %s %d: %w", what, id, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: %s %d: %w", what, id, jwtgate.ErrNotFound)
	}
	return nil
}

// PendingEmails counts emails neither sent nor given up on.
func (db *DB) PendingEmails(ctx context.Context) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE sent_at IS NULL AND NOT gave_up`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: pending emails: %w", err)
	}
	return n, nil
}

// DeleteEmailsBefore removes sent and abandoned emails created before t.
func (db *DB) DeleteEmailsBefore(ctx context.Context, t time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `
		DELETE FROM outbox WHERE created_at < $1 AND (sent_at IS NOT NULL OR gave_up)`, sqlrow.Millis(t))
	if err != nil {
		return 0, fmt.Errorf("postgres: delete emails: %w", err)
	}
	return int(tag.RowsAffected()), nil
}
