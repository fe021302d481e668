package sqlite

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
)

// EnqueueEmail stores e, due at e.NextAttempt, and sets e.ID.
func (db *DB) EnqueueEmail(ctx context.Context, e *jwtgate.OutboxEmail) error {
	tx, err := db.w.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: enqueue email: %w", err)
	}
	defer tx.Rollback()
	err = tx.QueryRowContext(ctx, `
		INSERT INTO outbox (recipient, purpose, body, created_at, next_attempt)
		VALUES (?, ?, ?, ?, ?) RETURNING id`,
		e.To, e.Purpose, e.Body, sqlrow.Millis(e.CreatedAt), sqlrow.Millis(e.NextAttempt)).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("sqlite: enqueue email: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: enqueue email: %w", err)
	}
	return nil
}

// ClaimEmails returns up to limit due emails and leases them until
// leaseUntil, in one write transaction: SQLite's single writer makes the
// read and the lease atomic against other processes on the file.
func (db *DB) ClaimEmails(ctx context.Context, now, leaseUntil time.Time, limit int) ([]jwtgate.OutboxEmail, error) {
	tx, err := db.w.BeginTx(ctx)
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim emails: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `
		UPDATE outbox SET next_attempt = ?
		WHERE id IN (
			SELECT id FROM outbox
			WHERE sent_at IS NULL AND gave_up = 0 AND next_attempt <= ?
			ORDER BY next_attempt, id LIMIT ?)
		RETURNING id, recipient, purpose, body, created_at, next_attempt, attempts, last_error`,
		sqlrow.Millis(leaseUntil), sqlrow.Millis(now), limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: claim emails: %w", err)
	}
	var out []jwtgate.OutboxEmail
	for rows.Next() {
		var e jwtgate.OutboxEmail
		var created, next int64
		if err := rows.Scan(&e.ID, &e.To, &e.Purpose, &e.Body, &created, &next, &e.Attempts, &e.LastError); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sqlite: claim emails: %w", err)
		}
		e.CreatedAt, e.NextAttempt = sqlrow.Time(created), sqlrow.Time(next)
		out = append(out, e)
	}
	if err := rows.Close(); err != nil {
		return nil, fmt.Errorf("sqlite: claim emails: %w", err)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: claim emails: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: claim emails: %w", err)
	}
	// RETURNING gives rows in no promised order.
	slices.SortFunc(out, func(a, b jwtgate.OutboxEmail) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}

// EmailSent marks email id delivered and drops its body.
func (db *DB) EmailSent(ctx context.Context, id int64, at time.Time) error {
	return db.updateEmail(ctx, "email sent", id,
		`UPDATE outbox SET sent_at = ?, body = NULL WHERE id = ?`, sqlrow.Millis(at), id)
}

// EmailFailed records a failed attempt; a zero retryAt gives up.
func (db *DB) EmailFailed(ctx context.Context, id int64, retryAt time.Time, lastErr string) error {
	if retryAt.IsZero() {
		return db.updateEmail(ctx, "email failed", id, `
			UPDATE outbox SET attempts = attempts + 1, last_error = ?, gave_up = 1, body = NULL
			WHERE id = ?`, lastErr, id)
	}
	return db.updateEmail(ctx, "email failed", id, `
		UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt = ?
		WHERE id = ?`, lastErr, sqlrow.Millis(retryAt), id)
}

func (db *DB) updateEmail(ctx context.Context, what string, id int64, query string, args ...any) error {
	res, err := db.w.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("sqlite: %s %d: %w", what, id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("sqlite: %s %d: %w", what, id, err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: %s %d: %w", what, id, jwtgate.ErrNotFound)
	}
	return nil
}

// PendingEmails counts emails neither sent nor given up on.
func (db *DB) PendingEmails(ctx context.Context) (int, error) {
	var n int
	err := db.db.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE sent_at IS NULL AND gave_up = 0`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sqlite: pending emails: %w", err)
	}
	return n, nil
}

// DeleteEmailsBefore removes sent and abandoned emails created before t.
func (db *DB) DeleteEmailsBefore(ctx context.Context, t time.Time) (int, error) {
	res, err := db.w.ExecContext(ctx, `
		DELETE FROM outbox WHERE created_at < ? AND (sent_at IS NOT NULL OR gave_up = 1)`, sqlrow.Millis(t))
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete emails: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("sqlite: delete emails: %w", err)
	}
	return int(n), nil
}
