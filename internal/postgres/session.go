package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlrow"
)

// CreateSession inserts s. It returns an error wrapping jwtgate.ErrNotFound
// if s.UserID names no user (the user was deleted meanwhile), one wrapping
// jwtgate.ErrConflict if a session with s.ID exists, and one wrapping
// jwtgate.ErrInvalid if s.ID is not storable text. IP and UserAgent are
// stored with invalid UTF-8 and NUL replaced (see clean).
func (db *DB) CreateSession(ctx context.Context, s *jwtgate.Session) error {
	lastUsed := s.LastUsedAt
	if lastUsed.IsZero() {
		lastUsed = s.CreatedAt
	}
	_, err := db.pool.Exec(ctx, `
		INSERT INTO sessions (id, user_id, created_at, expires_at, last_used_at, revoked_at, ip, user_agent, amr)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		s.ID, s.UserID, sqlrow.Millis(s.CreatedAt), sqlrow.Millis(s.ExpiresAt), sqlrow.Millis(lastUsed), sqlrow.NullMillis(s.RevokedAt),
		clean(s.IP), clean(s.UserAgent), clean(sqlrow.AMR(s.AMR)))
	switch {
	case isForeignKeyViolation(err):
		return fmt.Errorf("postgres: create session for user %d: %w", s.UserID, jwtgate.ErrNotFound)
	case isUniqueViolation(err):
		return fmt.Errorf("postgres: create session %s: %w", s.ID, jwtgate.ErrConflict)
	case isUnstorable(err):
		return fmt.Errorf("postgres: create session %q: %w: id cannot be stored (invalid UTF-8, NUL or too long)", s.ID, jwtgate.ErrInvalid)
	case err != nil:
		return fmt.Errorf("postgres: create session %s: %w", s.ID, err)
	}
	return nil
}

// withSession begins StartSession's statements: the session's insert, whose
// returned row the other inserts select from. A statement is a transaction
// of its own, and its data-modifying WITH clauses all run to completion, so
// everything it inserts commits together, in one round trip, or not at all.
const withSession = `
	WITH s AS (
		INSERT INTO sessions (id, user_id, created_at, expires_at, last_used_at, revoked_at, ip, user_agent, amr)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		RETURNING id
	)`

// startSession inserts a session and its first refresh token.
const startSession = withSession + `
	INSERT INTO refresh_tokens (hash, session_id, created_at, spent_at)
	SELECT $10, id, $11, $12 FROM s`

// startSessionAudited is startSession that also inserts the login's audit
// event and returns its id.
const startSessionAudited = withSession + `, rt AS (
		INSERT INTO refresh_tokens (hash, session_id, created_at, spent_at)
		SELECT $10, id, $11, $12 FROM s
	)
	INSERT INTO audit_events (at, type, user_id, actor_id, name, ip, user_agent, detail)
	SELECT $13, $14, $15, $16, $17, $18, $19, $20 FROM s
	RETURNING id`

// StartSession inserts s, its first refresh token and, unless ev is nil,
// the audit event of the login (setting ev.ID) in one statement, so one
// transaction and one commit. It returns the same errors as CreateSession,
// and on any error nothing is stored. The event's free text is cleaned as
// AppendAudit's is.
func (db *DB) StartSession(ctx context.Context, s *jwtgate.Session, rt *jwtgate.RefreshToken, ev *jwtgate.AuditEvent) error {
	lastUsed := s.LastUsedAt
	if lastUsed.IsZero() {
		lastUsed = s.CreatedAt
	}
	args := []any{s.ID, s.UserID, sqlrow.Millis(s.CreatedAt), sqlrow.Millis(s.ExpiresAt), sqlrow.Millis(lastUsed), sqlrow.NullMillis(s.RevokedAt),
		clean(s.IP), clean(s.UserAgent), clean(sqlrow.AMR(s.AMR)), rt.Hash, sqlrow.Millis(rt.CreatedAt), sqlrow.NullMillis(rt.SpentAt)}
	var err error
	if ev == nil {
		_, err = db.pool.Exec(ctx, startSession, args...)
	} else {
		err = db.pool.QueryRow(ctx, startSessionAudited, append(args, auditArgs(ev)...)...).Scan(&ev.ID)
	}
	switch {
	case isForeignKeyViolation(err):
		return fmt.Errorf("postgres: start session for user %d: %w", s.UserID, jwtgate.ErrNotFound)
	case isUniqueViolation(err):
		return fmt.Errorf("postgres: start session %s: %w", s.ID, jwtgate.ErrConflict)
	case isUnstorable(err):
		return fmt.Errorf("postgres: start session %q: %w: id cannot be stored (invalid UTF-8, NUL or too long)", s.ID, jwtgate.ErrInvalid)
	case err != nil:
		return fmt.Errorf("postgres: start session %s: %w", s.ID, err)
	}
	return nil
}

// SessionByID finds a session. It returns an error wrapping
// jwtgate.ErrNotFound if there is none.
func (db *DB) SessionByID(ctx context.Context, id string) (*jwtgate.Session, error) {
	if !storable(id) {
		return nil, fmt.Errorf("postgres: session %q: %w", id, jwtgate.ErrNotFound)
	}
	s, err := sqlrow.ScanSession(db.pool.QueryRow(ctx, `SELECT `+sqlrow.SessionColumns+` FROM sessions WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: session %s: %w", id, jwtgate.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("postgres: session %s: %w", id, err)
	}
	return s, nil
}

// SessionsByUser returns the user's sessions, newest first (by id among
// sessions created in the same millisecond).
func (db *DB) SessionsByUser(ctx context.Context, userID int64) ([]jwtgate.Session, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+sqlrow.SessionColumns+` FROM sessions
		WHERE user_id = $1 ORDER BY created_at DESC, id`, userID)
	if err != nil {
		return nil, fmt.Errorf("postgres: sessions of user %d: %w", userID, err)
	}
	out, err := collect(rows, func(row pgx.CollectableRow) (jwtgate.Session, error) {
		s, err := sqlrow.ScanSession(row)
		if err != nil {
			return jwtgate.Session{}, err
		}
		return *s, nil
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: sessions of user %d: %w", userID, err)
	}
	return out, nil
}

// CreateRefreshToken inserts rt. It returns an error wrapping
// jwtgate.ErrNotFound if its session does not exist, and one wrapping
// jwtgate.ErrConflict if a token with its hash does.
func (db *DB) CreateRefreshToken(ctx context.Context, rt *jwtgate.RefreshToken) error {
	if !storable(rt.SessionID) { // so no such session
		return fmt.Errorf("postgres: create refresh token for session %q: %w", rt.SessionID, jwtgate.ErrNotFound)
	}
	_, err := db.pool.Exec(ctx, `
		INSERT INTO refresh_tokens (hash, session_id, created_at, spent_at) VALUES ($1, $2, $3, $4)`,
		rt.Hash, rt.SessionID, sqlrow.Millis(rt.CreatedAt), sqlrow.NullMillis(rt.SpentAt))
	return refreshTokenError(err, rt.SessionID)
}

// refreshTokenError maps the error of inserting a refresh token for the
// session sessionID.
func refreshTokenError(err error, sessionID string) error {
	switch {
	case isForeignKeyViolation(err):
		return fmt.Errorf("postgres: create refresh token for session %s: %w", sessionID, jwtgate.ErrNotFound)
	case isUniqueViolation(err):
		return fmt.Errorf("postgres: create refresh token for session %s: %w", sessionID, jwtgate.ErrConflict)
	case err != nil:
		return fmt.Errorf("postgres: create refresh token for session %s: %w", sessionID, err)
	}
	return nil
}

// RefreshTokenByHash finds a refresh token by its hash. It returns an error
// wrapping jwtgate.ErrNotFound if there is none.
func (db *DB) RefreshTokenByHash(ctx context.Context, hash []byte) (*jwtgate.RefreshToken, error) {
	rt := jwtgate.RefreshToken{Hash: hash}
	var created int64
	var spent *int64
	err := db.pool.QueryRow(ctx, `SELECT session_id, created_at, spent_at FROM refresh_tokens WHERE hash = $1`, hash).
		Scan(&rt.SessionID, &created, &spent)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: refresh token: %w", jwtgate.ErrNotFound)
	} else if err != nil {
		return nil, fmt.Errorf("postgres: refresh token: %w", err)
	}
	rt.CreatedAt = sqlrow.Time(created)
	rt.SpentAt = sqlrow.NullTime(spent)
	return &rt, nil
}

// spendRefreshToken is SpendRefreshToken's one statement. A statement is a
// transaction of its own, and data-modifying WITH clauses all run, to
// completion, whether or not the final SELECT reads them, so the spend,
// the successor and the session's touch commit together or not at all, in
// one round trip instead of five (BEGIN, three statements, COMMIT).
//
// Exactly one concurrent spender wins because of how READ COMMITTED runs
// an UPDATE: a second UPDATE of the same row waits for the first to commit,
// then re-checks its WHERE against the row as the first left it, finds
// spent_at set, and updates nothing, so its successor is not inserted
// either.
//
// The last column tells "already spent" from "no such token". It reads the
// statement's snapshot, which holds the token if it existed when the
// statement began, spent by someone else since or not.
const spendRefreshToken = `
	WITH spent AS (
		UPDATE refresh_tokens SET spent_at = $1
		WHERE hash = $2 AND spent_at IS NULL
		RETURNING session_id
	), successor AS (
		INSERT INTO refresh_tokens (hash, session_id, created_at, spent_at)
		SELECT $3::bytea, $4::text, $5::bigint, $6::bigint FROM spent
	), touched AS (
		UPDATE sessions SET last_used_at = $1
		WHERE id = (SELECT session_id FROM spent)
	)
	SELECT EXISTS (SELECT 1 FROM spent), EXISTS (SELECT 1 FROM refresh_tokens WHERE hash = $2)`

// SpendRefreshToken marks the token spent at `at`, inserts its successor
// next and sets the session's LastUsedAt, atomically, unless the token was
// spent already, in which case it reports false and changes nothing. Of
// any number of concurrent callers exactly one gets true. It returns an
// error wrapping jwtgate.ErrNotFound if there is no such token, or if
// next's session does not exist.
func (db *DB) SpendRefreshToken(ctx context.Context, hash []byte, at time.Time, next *jwtgate.RefreshToken) (bool, error) {
	if !storable(next.SessionID) { // so no such session
		return false, fmt.Errorf("postgres: spend refresh token: create successor for session %q: %w", next.SessionID, jwtgate.ErrNotFound)
	}
	var won, exists bool
	err := db.pool.QueryRow(ctx, spendRefreshToken,
		sqlrow.Millis(at), hash, next.Hash, next.SessionID, sqlrow.Millis(next.CreatedAt), sqlrow.NullMillis(next.SpentAt)).
		Scan(&won, &exists)
	if isForeignKeyViolation(err) || isUniqueViolation(err) {
		return false, refreshTokenError(err, next.SessionID)
	} else if err != nil {
		return false, fmt.Errorf("postgres: spend refresh token: %w", err)
	}
	if !exists {
		return false, fmt.Errorf("postgres: spend refresh token: %w", jwtgate.ErrNotFound)
	}
	return won, nil
}

// EvictSessions revokes the user's live sessions beyond the keep most
// recently used when there are more than max, in one statement. The UPDATE
// rechecks revoked_at on rows another evictor revoked first, so concurrent
// evictions each return, and feed, only the sessions they revoked
// themselves.
func (db *DB) EvictSessions(ctx context.Context, userID int64, max, keep int, at, until time.Time) ([]string, error) {
	var ids []string
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `
			UPDATE sessions SET revoked_at = $1
			WHERE revoked_at IS NULL AND id IN (
				SELECT id FROM (
					SELECT id, row_number() OVER (ORDER BY last_used_at DESC, created_at DESC, id DESC) AS rn,
					       count(*) OVER () AS n
					FROM sessions WHERE user_id = $2 AND revoked_at IS NULL AND expires_at > $1) AS live
				WHERE n > $3 AND rn > $4)
			RETURNING id`, sqlrow.Millis(at), userID, max, keep)
		if err != nil {
			return err
		}
		if ids, err = collect(rows, pgx.RowTo[string]); err != nil || len(ids) == 0 {
			return err
		}
		return appendFeed(ctx, tx, feedSessions, ids, until)
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: evict sessions of user %d: %w", userID, err)
	}
	return ids, nil
}
