package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/jwtgate/jwtgate"
)

// names lists the users of a page, for messages and comparisons.
func names(users []jwtgate.User) []string {
	out := make([]string, len(users))
	for i, u := range users {
		out[i] = u.Name
	}
	return out
}

func testSearchUsers(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	if p, err := s.SearchUsers(ctx, jwtgate.UserQuery{Limit: 10}); err != nil || p.Total != 0 || len(p.Users) != 0 || p.More {
		t.Fatalf("SearchUsers() on an empty store = %+v, %v, want nothing", p, err)
	}
	for _, n := range []string{"alice", "Alicia", "bob", "carol_1", "caro%l", `back\slash`, "ｄａｖｅ", "Zoë"} {
		mustCreateUser(t, s, newUser(n))
	}
	tests := []struct {
		name  string
		match string
		want  []string
	}{
		{name: "all", match: "", want: []string{"alice", "Alicia", "bob", "carol_1", "caro%l", `back\slash`, "ｄａｖｅ", "Zoë"}},
		{name: "substring", match: "ali", want: []string{"alice", "Alicia"}},
		{name: "case-insensitive", match: "ALI", want: []string{"alice", "Alicia"}},
		{name: "middle", match: "lic", want: []string{"alice", "Alicia"}},
		{name: "underscore is literal", match: "_", want: []string{"carol_1"}},
		{name: "percent is literal", match: "%", want: []string{"caro%l"}},
		{name: "backslash is literal", match: `\`, want: []string{`back\slash`}},
		{name: "full-width term", match: "ＤＡ", want: []string{"ｄａｖｅ"}},
		{name: "ordinary term finds full-width name", match: "dav", want: []string{"ｄａｖｅ"}},
		{name: "non-ASCII", match: "ZOË", want: []string{"Zoë"}},
		{name: "no match", match: "mallory", want: []string{}},
		{name: "SQL", match: "' OR 1=1 --", want: []string{}},
		{name: "NUL and bad UTF-8", match: "a\x00\xff", want: []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := s.SearchUsers(ctx, jwtgate.UserQuery{Match: tt.match, Limit: 100})
			if err != nil {
				t.Fatalf("SearchUsers(%q) = %v, want nil", tt.match, err)
			}
			if got := names(p.Users); !slices.Equal(got, tt.want) || p.Total != len(tt.want) || p.More {
				t.Errorf("SearchUsers(%q) = %q total %d more %v, want %q total %d", tt.match, got, p.Total, p.More, tt.want, len(tt.want))
			}
		})
	}

	t.Run("keyset pages", func(t *testing.T) {
		all, err := s.ListUsers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		q := jwtgate.UserQuery{Limit: 3}
		for pages := 0; ; pages++ {
			if pages > len(all) {
				t.Fatalf("SearchUsers pages never end: %q so far", got)
			}
			p, err := s.SearchUsers(ctx, q)
			if err != nil {
				t.Fatalf("SearchUsers(%+v) = %v", q, err)
			}
			if p.Total != len(all) {
				t.Errorf("SearchUsers(%+v).Total = %d, want %d", q, p.Total, len(all))
			}
			got = append(got, names(p.Users)...)
			if !p.More {
				break
			}
			if len(p.Users) != q.Limit {
				t.Errorf("SearchUsers(%+v) = %d users with More, want %d", q, len(p.Users), q.Limit)
			}
			q.After = p.Users[len(p.Users)-1].ID
		}
		if !slices.Equal(got, names(all)) {
			t.Errorf("pages by cursor = %q, want %q (ListUsers)", got, names(all))
		}
		// A cursor whose user was deleted still pages on.
		if err := s.DeleteUser(ctx, all[2].ID); err != nil {
			t.Fatal(err)
		}
		p, err := s.SearchUsers(ctx, jwtgate.UserQuery{After: all[2].ID, Limit: 1})
		if err != nil || len(p.Users) != 1 || p.Users[0].ID != all[3].ID || !p.More {
			t.Errorf("SearchUsers(after a deleted user) = %q more %v, %v, want %q and more", names(p.Users), p.More, err, all[3].Name)
		}
	})

	t.Run("offset", func(t *testing.T) {
		p, err := s.SearchUsers(ctx, jwtgate.UserQuery{Match: "ali", Offset: 1, Limit: 1})
		if err != nil || !slices.Equal(names(p.Users), []string{"Alicia"}) || p.Total != 2 || p.More {
			t.Errorf("SearchUsers(ali, offset 1, limit 1) = %q total %d more %v, %v, want [Alicia] total 2", names(p.Users), p.Total, p.More, err)
		}
		p, err = s.SearchUsers(ctx, jwtgate.UserQuery{Match: "ali", Offset: 5, Limit: 1})
		if err != nil || len(p.Users) != 0 || p.Total != 2 {
			t.Errorf("SearchUsers(ali, offset past the end) = %q total %d, %v, want none of 2", names(p.Users), p.Total, err)
		}
	})

	t.Run("bounds", func(t *testing.T) {
		for _, q := range []jwtgate.UserQuery{{Limit: 0}, {Limit: jwtgate.MaxUserPage + 1}, {Limit: 1, Offset: -1}, {Limit: 1, After: -1}} {
			if _, err := s.SearchUsers(ctx, q); !errors.Is(err, jwtgate.ErrInvalid) {
				t.Errorf("SearchUsers(%+v) = %v, want ErrInvalid", q, err)
			}
		}
	})
}
