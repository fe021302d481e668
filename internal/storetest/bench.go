package storetest

import (
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate"
)

// BenchUsers is how many users BenchSearchUsers expects the store to hold:
// "user1" to "user100000", seeded by the store's benchmark in bulk.
const BenchUsers = 100_000

// BenchSearchUsers measures the admin user list over BenchUsers users, as
// the store answers it (SearchUsers) against what the HTTP handler did
// before (every user loaded, filtered and paged in Go), in the same run so
// that the ratio holds on a busy machine:
//
//   - first-page: no search term, the first 100 users (the admin page's
//     opening view);
//   - search: a term that few names contain ("9999": 19 users), so the
//     whole table is searched, and the first page of matches;
//   - deep-page: the page after the 90,000th user, by cursor (store) or
//     offset (in memory).
func BenchSearchUsers(b *testing.B, s jwtgate.Store) {
	ctx := b.Context()
	cases := []struct {
		name  string
		query jwtgate.UserQuery
		want  int // users on the page
	}{
		{"first-page", jwtgate.UserQuery{Limit: 100}, 100},
		{"search", jwtgate.UserQuery{Match: "9999", Limit: 100}, 19},
		{"deep-page", jwtgate.UserQuery{After: 90_000, Limit: 100}, 100},
	}
	for _, c := range cases {
		b.Run(c.name+"/store", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				p, err := s.SearchUsers(ctx, c.query)
				if err != nil || len(p.Users) != c.want {
					b.Fatalf("SearchUsers(%+v) = %d users, %v, want %d", c.query, len(p.Users), err, c.want)
				}
			}
		})
		b.Run(c.name+"/in-memory", func(b *testing.B) {
			b.ReportAllocs()
			// The cursor as an offset: ids are 1..BenchUsers.
			offset := int(c.query.After)
			for b.Loop() {
				all, err := s.ListUsers(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if page, _ := pageInMemory(all, c.query.Match, offset, c.query.Limit); len(page) != c.want {
					b.Fatalf("in memory: %d users, want %d", len(page), c.want)
				}
			}
		})
	}
}

// pageInMemory is the search and paging the admin handler did before the
// store did them: a case-insensitive substring of the name, then offset
// and limit, and the total.
func pageInMemory(users []jwtgate.User, match string, offset, limit int) ([]jwtgate.User, int) {
	needle := strings.ToLower(match)
	var out []jwtgate.User
	total := 0
	for i := range users {
		if needle != "" && !strings.Contains(strings.ToLower(users[i].Name), needle) {
			continue
		}
		if total >= offset && len(out) < limit {
			out = append(out, users[i])
		}
		total++
	}
	return out, total
}
