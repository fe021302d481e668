package server

import (
	"bytes"
	"encoding/json"
	"strconv"
	"testing"
)

// identity and userResponse are the bodies of GET /auth/verify and
// GET /user as encoding/json would write them.
type identity struct {
	Name  string   `json:"name"`
	Sub   string   `json:"sub"`
	ID    int64    `json:"id"`
	Roles []string `json:"roles"`
}

type userResponse struct {
	Name  string   `json:"name"`
	Sub   string   `json:"sub"`
	ID    int64    `json:"id"`
	Roles []string `json:"roles"`
	Exp   int64    `json:"exp"`
}

// encodingJSON is what encoding/json writes for the identity bodies, the
// reference appendIdentityJSON must match byte for byte.
func encodingJSON(t testing.TB, name string, id int64, roles []string, exp int64, withExp bool) []byte {
	if roles == nil {
		roles = []string{}
	}
	sub := strconv.FormatInt(id, 10)
	var v any = identity{Name: name, Sub: sub, ID: id, Roles: roles}
	if withExp {
		v = userResponse{Name: name, Sub: sub, ID: id, Roles: roles, Exp: exp}
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestIdentityJSONMatchesEncodingJSON(t *testing.T) {
	tests := []struct {
		name  string
		id    int64
		roles []string
		exp   int64
	}{
		{"admin", 1, []string{"admin"}, 1795617485},
		{"alice", 0, nil, 0},
		{"bob", -7, []string{}, -1},
		{`quote " and \ backslash`, 9223372036854775807, []string{"a", "b,c"}, 1},
		{"<script>&amp;</script>", 2, []string{"<admin>"}, 2},
		{"Zoë 日本 \u2028 \u2029", 3, []string{"rôle"}, 3},
		{"tab\there\nnewline\x00nul\x7f", 4, nil, 4},
		{"bad utf-8 \xff\xfe", 5, []string{"\xc3"}, 5},
		{"", 6, []string{""}, 6},
	}
	for _, tt := range tests {
		for _, withExp := range []bool{true, false} {
			want := encodingJSON(t, tt.name, tt.id, tt.roles, tt.exp, withExp)
			got := appendIdentityJSON(nil, tt.name, tt.id, tt.roles, tt.exp, withExp)
			if !bytes.Equal(got, want) {
				t.Errorf("%q (exp %v):\n got %s\nwant %s", tt.name, withExp, got, want)
			}
		}
	}
}

func FuzzIdentityJSON(f *testing.F) {
	f.Add("admin", int64(1), "admin", int64(1795617485))
	f.Add("<&>\"\\", int64(-1), "r\x00\xff", int64(0))
	f.Add("Zoë\u2028", int64(1<<62), "", int64(-5))
	f.Fuzz(func(t *testing.T, name string, id int64, role string, exp int64) {
		for _, roles := range [][]string{nil, {role}, {role, name}} {
			for _, withExp := range []bool{true, false} {
				want := encodingJSON(t, name, id, roles, exp, withExp)
				if got := appendIdentityJSON(nil, name, id, roles, exp, withExp); !bytes.Equal(got, want) {
					t.Fatalf("got %s want %s", got, want)
				}
			}
		}
	})
}
