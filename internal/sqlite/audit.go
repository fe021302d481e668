package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
)

// maxAuditPage caps one read of the audit log.
const maxAuditPage = 1000

// AppendAudit stores e and sets e.ID.
func (db *DB) AppendAudit(ctx context.Context, e *jwtgate.AuditEvent) error {
	// A transaction, so the insert and its RETURNING row are done before
	// the write slot is released (a bare query's statement ends at Scan).
	tx, err := db.w.BeginTx(ctx)
	if err != nil {
		return fmt.Errorf("sqlite: append audit event %s: %w", e.Type, err)
	}
	defer tx.Rollback()
	if err := insertAudit(ctx, tx, e); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: append audit event %s: %w", e.Type, err)
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx share for a write that returns a row.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func insertAudit(ctx context.Context, q querier, e *jwtgate.AuditEvent) error {
	err := q.QueryRowContext(ctx, `
		INSERT INTO audit_events (at, type, user_id, actor_id, name, ip, user_agent, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		sqlrow.Millis(e.At), e.Type, e.UserID, e.ActorID, e.Name, e.IP, e.UserAgent, e.Detail).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("sqlite: append audit event %s: %w", e.Type, err)
	}
	return nil
}

// Audit returns events matching f, newest first.
func (db *DB) Audit(ctx context.Context, f jwtgate.AuditFilter) ([]jwtgate.AuditEvent, error) {
	limit := f.Limit
	if limit <= 0 || limit > maxAuditPage {
		limit = maxAuditPage
	}
	rows, err := db.db.QueryContext(ctx, `
		SELECT id, at, type, user_id, actor_id, name, ip, user_agent, detail FROM audit_events
		WHERE (? = 0 OR id < ?) AND (? = 0 OR user_id = ?) AND (? = '' OR type = ?)
		ORDER BY id DESC LIMIT ?`,
		f.BeforeID, f.BeforeID, f.UserID, f.UserID, f.Type, f.Type, limit)
	if err != nil {
		return nil, fmt.Errorf("sqlite: audit: %w", err)
	}
	defer rows.Close()
	var out []jwtgate.AuditEvent
	for rows.Next() {
		var e jwtgate.AuditEvent
		var at int64
		if err := rows.Scan(&e.ID, &at, &e.Type, &e.UserID, &e.ActorID, &e.Name, &e.IP, &e.UserAgent, &e.Detail); err != nil {
			return nil, fmt.Errorf("sqlite: audit: %w", err)
		}
		e.At = sqlrow.Time(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: audit: %w", err)
	}
	return out, nil
}
