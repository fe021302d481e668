package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
)

// maxAuditPage caps one read of the audit log.
const maxAuditPage = 1000

// AppendAudit stores e and sets e.ID. Its free-text fields are stored with
// invalid UTF-8 and NUL replaced (see clean): an audit event must not be
// lost over a client's odd User-Agent header.
func (db *DB) AppendAudit(ctx context.Context, e *jwtgate.AuditEvent) error {
	err := db.pool.QueryRow(ctx, `
		INSERT INTO audit_events (at, type, user_id, actor_id, name, ip, user_agent, detail)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
		auditArgs(e)...).Scan(&e.ID)
	if err != nil {
		return fmt.Errorf("postgres: append audit event %s: %w", e.Type, err)
	}
	return nil
}

// auditArgs is e as the values of the columns at, type, user_id, actor_id,
// name, ip, user_agent, detail, in that order, with the free text cleaned.
func auditArgs(e *jwtgate.AuditEvent) []any {
	return []any{sqlrow.Millis(e.At), clean(e.Type), e.UserID, e.ActorID, clean(e.Name), clean(e.IP), clean(e.UserAgent), clean(e.Detail)}
}

// Audit returns events matching f, newest first, at most maxAuditPage.
//
// The WHERE clause holds only the conditions f sets, rather than the
// SQLite store's "(? = 0 OR id < ?)" for each: pgx prepares and caches
// statements, and a cached generic plan for the catch-all form cannot use
// an index for any of them. There are eight shapes at most.
func (db *DB) Audit(ctx context.Context, f jwtgate.AuditFilter) ([]jwtgate.AuditEvent, error) {
	limit := f.Limit
	if limit <= 0 || limit > maxAuditPage {
		limit = maxAuditPage
	}
	if !storable(f.Type) { // no event has that type
		return nil, nil
	}
	var where []string
	args := []any{limit}
	cond := func(sql string, arg any) {
		args = append(args, arg)
		where = append(where, sql+" $"+strconv.Itoa(len(args)))
	}
	if f.BeforeID != 0 {
		cond("id <", f.BeforeID)
	}
	if f.UserID != 0 {
		cond("user_id =", f.UserID)
	}
	if f.Type != "" {
		cond("type =", f.Type)
	}
	q := `SELECT id, at, type, user_id, actor_id, name, ip, user_agent, detail FROM audit_events`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	q += ` ORDER BY id DESC LIMIT $1`
	rows, err := db.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: audit: %w", err)
	}
	out, err := collect(rows, func(row pgx.CollectableRow) (jwtgate.AuditEvent, error) {
		var e jwtgate.AuditEvent
		var at int64
		err := row.Scan(&e.ID, &at, &e.Type, &e.UserID, &e.ActorID, &e.Name, &e.IP, &e.UserAgent, &e.Detail)
		e.At = sqlrow.Time(at)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: audit: %w", err)
	}
	return out, nil
}
