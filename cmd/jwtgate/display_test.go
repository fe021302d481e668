package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/sqlite"
)

func TestDisplayName(t *testing.T) {
	for _, tt := range []struct {
		name, in, want string
	}{
		{name: "plain", in: "alice", want: "alice"},
		{name: "non-Latin printable", in: "Jürgen-李", want: "Jürgen-李"},
		{name: "space", in: "bob smith", want: `"bob smith"`},
		{name: "quote", in: `o"neil`, want: `"o\"neil"`},
		{name: "empty", in: "", want: `""`},
		{name: "bidi override", in: "\u202eadmin", want: `"\u202eadmin"`},
		{name: "zero-width space", in: "a\u200bdmin", want: `"a\u200bdmin"`},
		{name: "byte order mark", in: "admin\ufeff", want: `"admin\ufeff"`},
		{name: "soft hyphen", in: "admin\u00ad", want: `"admin\u00ad"`},
		{name: "escape sequence", in: "x\x1b[2Jy", want: `"x\x1b[2Jy"`},
		{name: "line separator", in: "a\u2028b", want: `"a\u2028b"`},
		{name: "no-break space", in: "a\u00a0b", want: `"a\u00a0b"`},
		{name: "invalid UTF-8", in: "a\xffb", want: `"a\xffb"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := displayName(tt.in); got != tt.want {
				t.Errorf("displayName(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// TestDisplay covers the token inspector's display of header and claim
// strings, which are attacker input.
func TestDisplay(t *testing.T) {
	for _, tt := range []struct {
		name, in, want string
	}{
		{name: "plain", in: "EdDSA", want: "EdDSA"},
		{name: "inner space", in: "Alice Smith", want: "Alice Smith"},
		{name: "surrounding space", in: " x", want: `" x"`},
		{name: "empty", in: "", want: `""`},
		{name: "bidi override", in: "\u202eadmin", want: `"\u202eadmin"`},
		{name: "invalid UTF-8", in: "a\xffb", want: `"a\xffb"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := display(tt.in); got != tt.want {
				t.Errorf("display(%q) = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// TestListsEscapeNames stores users whose names hold bidi, zero-width and
// control characters (straight into the store, as an older version or
// another tool might have) and checks that `user list` and `audit` show
// them escaped, never raw: a terminal would hide them or act on them.
func TestListsEscapeNames(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "x.db")
	db := "sqlite:" + path
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	odd := []struct{ raw, shown string }{
		{raw: "\u202enimda", shown: `"\u202enimda"`},
		{raw: "a\u200bdmin", shown: `"a\u200bdmin"`},
		{raw: "root\x1b[8m", shown: `"root\x1b[8m"`},
	}
	now := time.Now()
	for _, o := range odd {
		u := &jwtgate.User{Name: o.raw, PasswordHash: "x", CreatedAt: now}
		if err := store.CreateUser(ctx, u); err != nil {
			t.Fatalf("CreateUser(%q) = %v", o.raw, err)
		}
		if err := store.AppendAudit(ctx, &jwtgate.AuditEvent{At: now, Type: jwtgate.EventUserCreated, UserID: u.ID, Name: u.Name, Detail: "roles \u202eadmin"}); err != nil {
			t.Fatal(err)
		}
	}
	store.Close()

	for _, tt := range []struct {
		name   string
		args   []string
		isJSON bool
	}{
		{name: "user list", args: []string{"user", "list", "--db", db}},
		{name: "user list json", args: []string{"user", "list", "--json", "--db", db}, isJSON: true},
		{name: "audit", args: []string{"audit", "--db", db}},
		{name: "audit json", args: []string{"audit", "--json", "--db", db}, isJSON: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, "", nil, tt.args...)
			if r.err != nil {
				t.Fatalf("run(%q) = %v", tt.args, r.err)
			}
			if i := strings.IndexFunc(r.stdout, func(r rune) bool { return r != '\n' && !printable(string(r)) }); i >= 0 {
				t.Errorf("run(%q) printed a raw non-printable character at byte %d:\n%q", tt.args, i, r.stdout)
			}
			if tt.isJSON {
				// Escaped, the JSON still holds the names as stored.
				var got []struct {
					Name string `json:"name"`
				}
				if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
					t.Fatalf("run(%q) printed invalid JSON: %v\n%s", tt.args, err, r.stdout)
				}
				for _, o := range odd {
					if !slices.ContainsFunc(got, func(u struct {
						Name string `json:"name"`
					}) bool {
						return u.Name == o.raw
					}) {
						t.Errorf("run(%q): no entry named %q after decoding:\n%s", tt.args, o.raw, r.stdout)
					}
				}
				return
			}
			for _, o := range odd {
				if !strings.Contains(r.stdout, o.shown) {
					t.Errorf("run(%q) does not show %q as %s:\n%s", tt.args, o.raw, o.shown, r.stdout)
				}
			}
		})
	}
}

func TestEscapeJSON(t *testing.T) {
	for _, tt := range []struct {
		name, in, want string
	}{
		{name: "plain", in: `{"name":"alice"}`, want: `{"name":"alice"}`},
		{name: "printable non-ASCII kept", in: `{"name":"Jürgen 李"}`, want: `{"name":"Jürgen 李"}`},
		{name: "newlines of indentation kept", in: "[\n  1\n]\n", want: "[\n  1\n]\n"},
		{name: "bidi override", in: "{\"n\":\"\u202eadmin\"}", want: `{"n":"\u202eadmin"}`},
		{name: "zero-width and BOM", in: "\"a\u200bb\ufeff\"", want: `"a\u200bb\ufeff"`},
		{name: "outside the BMP", in: "\"\U000E0041\"", want: `"\udb40\udc41"`}, // TAG LATIN CAPITAL LETTER A, a format character
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := string(escapeJSON([]byte(tt.in)))
			if got != tt.want {
				t.Errorf("escapeJSON(%q) = %q, want %q", tt.in, got, tt.want)
			}
			var a, b any
			if json.Unmarshal([]byte(tt.in), &a) == nil {
				if err := json.Unmarshal([]byte(got), &b); err != nil || !reflect.DeepEqual(a, b) {
					t.Errorf("escapeJSON(%q) decodes to %v (%v), want %v as before", tt.in, b, err, a)
				}
			}
		})
	}
}
