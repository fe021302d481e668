package sqlrow

import (
	"strings"

	"github.com/jwtgate/jwtgate"
)

// Search is the SQL of one SearchUsers call, the same for both stores but
// for placeholders: a count of the matches and one page of them.
type Search struct {
	Count     string
	CountArgs []any
	Page      string
	PageArgs  []any
}

// SearchUsers builds the statements for q (validated by the caller), with
// bind(n) the store's n-th placeholder. The page asks for one row more
// than q.Limit, so that the store can tell whether more follow.
//
// The match is a LIKE on name_key, so it finds any part of a name the way
// names are compared (jwtgate.SearchKey), and the order is the primary
// key's: the page after a cursor is an index seek, whatever its depth.
// A substring LIKE cannot use an index, so a search scans the keys once
// (and once more to count); that is done in the database, on one column,
// never by loading every user.
func SearchUsers(q jwtgate.UserQuery, bind func(int) string) Search {
	var s Search
	where := "TRUE"
	if q.Match != "" {
		where = `name_key LIKE ` + bind(1) + ` ESCAPE '\'`
		s.CountArgs = []any{Contains(jwtgate.SearchKey(q.Match))}
	}
	s.Count = `SELECT count(*) FROM users WHERE ` + where
	n := len(s.CountArgs)
	s.Page = `SELECT ` + UserColumns + ` FROM users WHERE ` + where + ` AND id > ` + bind(n+1) +
		` ORDER BY id LIMIT ` + bind(n+2) + ` OFFSET ` + bind(n+3)
	s.PageArgs = append(append([]any{}, s.CountArgs...), q.After, q.Limit+1, q.Offset)
	return s
}

// Contains is an SQL LIKE pattern, with '\' as the escape character, that
// matches any text containing s literally: '%', '_' and '\' escaped.
func Contains(s string) string {
	return "%" + strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s) + "%"
}

// Page cuts the rows SearchUsers' page statement returned to q.Limit and
// reports whether more followed.
func Page(users []jwtgate.User, total int, q jwtgate.UserQuery) jwtgate.UserPage {
	p := jwtgate.UserPage{Users: users, Total: total}
	if len(users) > q.Limit {
		p.Users, p.More = users[:q.Limit], true
	}
	return p
}
