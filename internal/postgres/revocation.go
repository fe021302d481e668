package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
)

// The feed's order.
//
// Followers read the feed with a cursor: "entries with seq > the last seq
// I saw". That is only sound if no entry with a lower seq can appear after
// one with a higher seq was read. A sequence does not promise it: it hands
// out numbers at insert time, and transactions commit in their own order,
// so a reader may see seq 11 committed while seq 10 is still in flight,
// move its cursor to 11, and never see 10: a revocation that never takes
// effect on that follower.
//
// So every insert into revocations happens under an advisory lock standing
// for the table (lockTable), taken before the seq is drawn and released
// when the transaction ends, after its rows are visible (PostgreSQL makes a
// commit visible before it releases the transaction's locks). Seqs are
// thereby drawn in commit order: whoever sees seq n committed also sees
// every seq below it that will ever commit. Revocations are rare (a
// logout, a password change), so serializing their inserts costs nothing
// measurable; readers take no lock.
//
// The alternative, readers stopping below the oldest transaction still in
// progress, would let any long transaction on the database (a report, a
// stuck migration) hold every logout back.

// RevokeSessions revokes every live session f selects and appends one feed
// entry per session, in one transaction, so the feed never misses a
// revoked session nor announces one that was not. It returns the ids
// revoked. An id that is not storable text matches no session.
func (db *DB) RevokeSessions(ctx context.Context, f jwtgate.SessionFilter, at, until time.Time) ([]string, error) {
	if f.ID != "" && !storable(f.ID) {
		return nil, nil
	}
	// An ExceptID that is not storable text equals no session id: NULL,
	// with IS DISTINCT FROM, excepts nothing.
	var except *string
	if storable(f.ExceptID) {
		except = &f.ExceptID
	}
	var ids []string
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		// "Live" here means not revoked; an expired session is revoked too,
		// which is harmless and keeps the query simple.
		var rows pgx.Rows
		var err error
		if f.ID != "" {
			rows, err = tx.Query(ctx, `
				UPDATE sessions SET revoked_at = $1
				WHERE id = $2 AND ($3::bigint = 0 OR user_id = $3) AND revoked_at IS NULL
				RETURNING id`, sqlrow.Millis(at), f.ID, f.UserID)
		} else {
			rows, err = tx.Query(ctx, `
				UPDATE sessions SET revoked_at = $1
				WHERE user_id = $2 AND id IS DISTINCT FROM $3 AND revoked_at IS NULL
				RETURNING id`, sqlrow.Millis(at), f.UserID, except)
		}
		if err != nil {
			return err
		}
		if ids, err = collect(rows, pgx.RowTo[string]); err != nil || len(ids) == 0 {
			return err
		}
		// The lock is taken after the UPDATE, so it is held only while
		// appending; nothing after it waits on a row lock, so two revokers
		// cannot deadlock.
		return appendFeed(ctx, tx, feedSessions, ids, until)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: revoke sessions: %w", err)
	}
	return ids, nil
}

// RevokeToken appends a feed entry for one access token. It returns an
// error wrapping jwtgate.ErrInvalid if jti is not storable text.
func (db *DB) RevokeToken(ctx context.Context, jti string, until time.Time) error {
	if !storable(jti) {
		return fmt.Errorf("postgres: revoke token %q: %w: jti cannot be stored (invalid UTF-8 or NUL)", jti, jwtgate.ErrInvalid)
	}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		return appendFeed(ctx, tx, feedTokens, []string{jti}, until)
	})
	if err != nil {
		return fmt.Errorf("postgres: revoke token: %w", err)
	}
	return nil
}

// Inserts of feed entries, one per id, in the order given.
const (
	feedSessions = `INSERT INTO revocations (session_id, expires_at) SELECT id, $2 FROM unnest($1::text[]) WITH ORDINALITY AS t (id, n) ORDER BY n`
	feedTokens   = `INSERT INTO revocations (token_id, expires_at) SELECT id, $2 FROM unnest($1::text[]) WITH ORDINALITY AS t (id, n) ORDER BY n`
)

// appendFeed appends entries for ids with the insert feedSessions or
// feedTokens, within tx, under the feed's lock (see "The feed's order"
// above). tx must commit or roll back promptly: other revokers wait.
func appendFeed(ctx context.Context, tx pgx.Tx, insert string, ids []string, until time.Time) error {
	if err := lockTable(ctx, tx, "revocations"); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, insert, ids, sqlrow.Millis(until))
	return err
}

// Revocations returns up to limit entries with Seq > since that expire
// after now, in Seq order. A negative limit means no limit, as in SQLite.
func (db *DB) Revocations(ctx context.Context, since int64, now time.Time, limit int) ([]jwtgate.Revocation, error) {
	var lim *int // NULL: LIMIT ALL
	if limit >= 0 {
		lim = &limit
	}
	rows, err := db.pool.Query(ctx, `
		SELECT seq, coalesce(session_id, ''), coalesce(token_id, ''), expires_at FROM revocations
		WHERE seq > $1 AND expires_at > $2 ORDER BY seq LIMIT $3`, since, sqlrow.Millis(now), lim)
	if err != nil {
		return nil, fmt.Errorf("postgres: revocations: %w", err)
	}
	out, err := collect(rows, func(row pgx.CollectableRow) (jwtgate.Revocation, error) {
		var r jwtgate.Revocation
		var exp int64
		err := row.Scan(&r.Seq, &r.SessionID, &r.TokenID, &exp)
		r.ExpiresAt = sqlrow.Time(exp)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: revocations: %w", err)
	}
	return out, nil
}

// PruneRevocations deletes entries that expired before t and reports how
// many. Deleting needs no lock: it cannot make a follower skip an entry.
func (db *DB) PruneRevocations(ctx context.Context, t time.Time) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM revocations WHERE expires_at < $1`, sqlrow.Millis(t))
	if err != nil {
		return 0, fmt.Errorf("postgres: prune revocations: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// LastRevocationSeq returns the identity sequence's last value (0 before
// the first entry), which pruning does not lower.
func (db *DB) LastRevocationSeq(ctx context.Context) (int64, error) {
	var seq int64
	err := db.pool.QueryRow(ctx, `SELECT COALESCE(pg_sequence_last_value(pg_get_serial_sequence('revocations', 'seq')), 0)`).Scan(&seq)
	if err != nil {
		return 0, fmt.Errorf("postgres: last revocation seq: %w", err)
	}
	return seq, nil
}
