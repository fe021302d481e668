// Package sqlrow is the row encoding the SQLite and PostgreSQL stores
// share: times as unix milliseconds, roles as one comma-joined column, the
// scans of user, session and key rows, the SQL of the user search, and the
// migration that recomputes users' name keys.
//
// Both schemas use the same column types on purpose (INTEGER/BIGINT
// milliseconds rather than each database's native time, TEXT roles rather
// than a PostgreSQL array), so that a dump of one reads as the other and a
// time sorts and compares as a number in both. With one encoding the code
// that turns rows into domain types is one piece of code, not two copies
// that drift. The scans take anything with Scan(dest ...any) error:
// database/sql's rows and pgx's.
package sqlrow

import (
	"fmt"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate"
)

// Scanner is the Scan shared by *sql.Row, *sql.Rows, pgx.Row and pgx.Rows.
type Scanner interface {
	Scan(dest ...any) error
}

// Millis encodes t as unix milliseconds. Sub-millisecond precision is
// dropped; the zero time and year 9999 both fit in 64 bits.
func Millis(t time.Time) int64 { return t.UnixMilli() }

// Time decodes Millis' output, in UTC.
func Time(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// NullMillis encodes an optional time: nil is SQL NULL. Both database/sql
// and pgx bind a nil *int64 as NULL.
func NullMillis(t *time.Time) *int64 {
	if t == nil {
		return nil
	}
	ms := t.UnixMilli()
	return &ms
}

// NullTime decodes NullMillis' output (scanned into a *int64).
func NullTime(ms *int64) *time.Time {
	if ms == nil {
		return nil
	}
	t := Time(*ms)
	return &t
}

// JoinRoles encodes roles as one comma-separated column. A user has a few
// roles and they are always read with the user, so a join table would buy
// nothing. Role names are validated elsewhere (jwtgate.ValidateRoles); this
// only refuses what the encoding cannot hold, an empty role or one with a
// comma, which would otherwise come back as something else. The error
// wraps jwtgate.ErrInvalid.
func JoinRoles(roles []string) (string, error) {
	for _, r := range roles {
		if r == "" || strings.Contains(r, ",") {
			return "", fmt.Errorf("%w: role %q cannot be stored", jwtgate.ErrInvalid, r)
		}
	}
	return strings.Join(roles, ","), nil
}

// SplitRoles decodes JoinRoles' output; no roles is nil, not []string{""}.
func SplitRoles(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// UserColumns is the column list ScanUser reads, in its order.
const UserColumns = `id, name, password_hash, roles, disabled, created_at, updated_at`

// ScanUser reads the columns of UserColumns. disabled may be a boolean or
// the 0/1 INTEGER SQLite keeps.
func ScanUser(s Scanner) (*jwtgate.User, error) {
	var (
		u                jwtgate.User
		roles            string
		created, updated int64
	)
	if err := s.Scan(&u.ID, &u.Name, &u.PasswordHash, &roles, &u.Disabled, &created, &updated); err != nil {
		return nil, err
	}
	u.Roles = SplitRoles(roles)
	u.CreatedAt = Time(created)
	u.UpdatedAt = Time(updated)
	return &u, nil
}

// SessionColumns is the column list ScanSession reads, in its order.
const SessionColumns = `id, user_id, created_at, expires_at, last_used_at, revoked_at, ip, user_agent, amr`

// AMR is the stored form of a session's amr values: space-separated (RFC
// 8176 values have no spaces). A session with none is stored as "pwd", as
// the migration stores sessions from before amr.
func AMR(amr []string) string {
	if len(amr) == 0 {
		return "pwd"
	}
	return strings.Join(amr, " ")
}

// ScanSession reads the columns of SessionColumns.
func ScanSession(sc Scanner) (*jwtgate.Session, error) {
	var (
		s                          jwtgate.Session
		created, expires, lastUsed int64
		revoked                    *int64
		amr                        string
	)
	if err := sc.Scan(&s.ID, &s.UserID, &created, &expires, &lastUsed, &revoked, &s.IP, &s.UserAgent, &amr); err != nil {
		return nil, err
	}
	s.AMR = strings.Fields(amr)
	s.CreatedAt = Time(created)
	s.ExpiresAt = Time(expires)
	s.LastUsedAt = Time(lastUsed)
	s.RevokedAt = NullTime(revoked)
	return &s, nil
}

// KeyColumns is the column list ScanKey reads, in its order.
const KeyColumns = `kid, alg, private_key, public_key, created_at, activates_at, retires_at`

// KeyOrder lists keys newest first; kid breaks ties so the order is stable
// (PostgreSQL's kid column is COLLATE "C", byte order as in SQLite).
const KeyOrder = `ORDER BY created_at DESC, kid`

// ScanKey reads the columns of KeyColumns.
func ScanKey(s Scanner) (*jwtgate.Key, error) {
	var (
		k                  jwtgate.Key
		created, activates int64
		retires            *int64
	)
	if err := s.Scan(&k.ID, &k.Alg, &k.Private, &k.Public, &created, &activates, &retires); err != nil {
		return nil, err
	}
	k.CreatedAt = Time(created)
	k.ActivatesAt = Time(activates)
	k.RetiresAt = NullTime(retires)
	return &k, nil
}
