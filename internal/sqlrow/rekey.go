package sqlrow

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/jwtgate/jwtgate"
)

// RekeyUsers recomputes every user's name_key with key (jwtgate.NameKey
// going up, the old lower-casing going down), in tx: the migration for a
// change of the rule that makes names unique. bind(n) is the store's n-th
// placeholder ("?" or "$n").
//
// Two users whose names had different keys may have the same one under the
// new rule: "admin" and "admin\u00ad" (a soft hyphen) before issue 17 §4.
// Such users are never merged or renamed silently: RekeyUsers then changes
// nothing and returns an error naming every such group, so that an
// operator decides which account keeps the name.
func RekeyUsers(ctx context.Context, tx *sql.Tx, key func(string) string, bind func(int) string) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, name, name_key FROM users ORDER BY id`)
	if err != nil {
		return fmt.Errorf("rekey users: %w", err)
	}
	type user struct {
		id             int64
		name, old, new string
	}
	var users []user
	byKey := map[string][]int{}
	for rows.Next() {
		var u user
		if err := rows.Scan(&u.id, &u.name, &u.old); err != nil {
			rows.Close()
			return fmt.Errorf("rekey users: %w", err)
		}
		u.new = key(u.name)
		byKey[u.new] = append(byKey[u.new], len(users))
		users = append(users, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("rekey users: %w", err)
	}

	var clashes []string
	for k, idx := range byKey {
		if len(idx) < 2 {
			continue
		}
		var names []string
		for _, i := range idx {
			names = append(names, fmt.Sprintf("id %d %q", users[i].id, users[i].name))
		}
		clashes = append(clashes, fmt.Sprintf("%s (all %q)", strings.Join(names, ", "), k))
	}
	if len(clashes) > 0 {
		slices.Sort(clashes)
		return fmt.Errorf("%w: these users' names are the same name under the rule for user names "+
			"(look-alike characters): %s; nothing was changed: delete or rename all but one of each "+
			"with the previous jwtgate version, then start again",
			jwtgate.ErrConflict, strings.Join(clashes, "; "))
	}

	// Two passes, so that no update meets a key another row still holds
	// until its own turn (UNIQUE is checked per row): first a placeholder no
	// key can be (keys never hold control characters), then the new key.
	update := `UPDATE users SET name_key = ` + bind(1) + ` WHERE id = ` + bind(2)
	for _, pass := range []func(user) string{
		func(u user) string { return "\x01rekey " + strconv.FormatInt(u.id, 10) },
		func(u user) string { return u.new },
	} {
		for _, u := range users {
			if u.new == u.old {
				continue
			}
			if _, err := tx.ExecContext(ctx, update, pass(u), u.id); err != nil {
				return fmt.Errorf("rekey user %d: %w", u.id, err)
			}
		}
	}
	return nil
}

// OldNameKey is the rule for name keys before migration 5: lower case.
// Going down, RekeyUsers uses it.
func OldNameKey(name string) string { return strings.ToLower(name) }

// NameKeyVersion is the migration that applies the look-alike rules for
// user names (issue 17 §4) to existing users.
const NameKeyVersion = 5

// NameKeyMigration is migration NameKeyVersion, in Go because the rule is
// Go code (jwtgate.NameKey): up, RekeyUsers with jwtgate.NameKey, then
// warnInvalidNames; down, RekeyUsers with OldNameKey. bind is the store's
// placeholder (see RekeyUsers).
func NameKeyMigration(bind func(int) string) *goose.Migration {
	return goose.NewGoMigration(NameKeyVersion,
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			if err := RekeyUsers(ctx, tx, jwtgate.NameKey, bind); err != nil {
				return err
			}
			return warnInvalidNames(ctx, tx, bind)
		}},
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			return RekeyUsers(ctx, tx, OldNameKey, bind)
		}})
}

// warnInvalidNames records a security.warning audit event for every user
// whose stored name the name rules now refuse (an invisible character, a
// symbol, Latin mixed with Greek...). Such a user has a key of their own,
// so nothing stops the migration, but login refuses the name: the warning,
// shown on the admin page, says who needs a new account.
func warnInvalidNames(ctx context.Context, tx *sql.Tx, bind func(int) string) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, name FROM users ORDER BY id`)
	if err != nil {
		return fmt.Errorf("check user names: %w", err)
	}
	type bad struct {
		id   int64
		name string
		why  error
	}
	var found []bad
	for rows.Next() {
		var b bad
		if err := rows.Scan(&b.id, &b.name); err != nil {
			rows.Close()
			return fmt.Errorf("check user names: %w", err)
		}
		if b.why = jwtgate.ValidateName(b.name); b.why != nil {
			found = append(found, b)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("check user names: %w", err)
	}
	insert := `INSERT INTO audit_events (at, type, user_id, name, detail) VALUES (` +
		bind(1) + `, ` + bind(2) + `, ` + bind(3) + `, ` + bind(4) + `, ` + bind(5) + `)`
	now := Millis(time.Now())
	for _, b := range found {
		detail := fmt.Sprintf("the name %q is no longer valid (%v): this user cannot log in until an admin gives them a new account",
			b.name, strings.TrimPrefix(b.why.Error(), jwtgate.ErrInvalid.Error()+": "))
		if _, err := tx.ExecContext(ctx, insert, now, jwtgate.EventSecurityWarning, b.id, strings.ToValidUTF8(b.name, "\uFFFD"), detail); err != nil {
			return fmt.Errorf("check user names: %w", err)
		}
	}
	return nil
}
