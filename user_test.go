package jwtgate

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string // "" for valid; else a word the message must hold
	}{
		{name: "plain", in: "alice"},
		{name: "with digits and punctuation", in: "alice.smith-2"},
		{name: "inner space", in: "Alice Smith"},
		{name: "non-ASCII letters", in: "Jürgen"},
		{name: "longest", in: strings.Repeat("é", MaxNameLen)},
		{name: "empty", in: "", wantErr: "empty"},
		{name: "too long", in: strings.Repeat("a", MaxNameLen+1), wantErr: "longer"},
		{name: "too long in characters, not bytes", in: strings.Repeat("é", MaxNameLen+1), wantErr: "longer"},
		{name: "leading space", in: " alice", wantErr: "spaces"},
		{name: "trailing space", in: "alice ", wantErr: "spaces"},
		{name: "trailing tab", in: "alice\t", wantErr: "spaces"},
		{name: "newline inside", in: "ali\nce", wantErr: "control"},
		{name: "escape inside", in: "ali\x1bce", wantErr: "control"},
		{name: "NUL inside", in: "ali\x00ce", wantErr: "control"},
		{name: "DEL inside", in: "ali\x7fce", wantErr: "control"},
		{name: "C1 control inside", in: "ali\u0085ce", wantErr: "control"},
		{name: "invalid UTF-8", in: "ali\xffce", wantErr: "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateName(tt.in)
			checkValidation(t, fmt.Sprintf("ValidateName(%q)", tt.in), err, tt.wantErr)
		})
	}
}

func TestValidatePassword(t *testing.T) {
	tests := []struct {
		name    string
		pw      string
		minLen  int
		wantErr string
	}{
		{name: "long enough", pw: "correct horse", minLen: 8},
		{name: "exactly the minimum", pw: "12345678", minLen: 8},
		{name: "minimum counts characters, not bytes", pw: "éééééééé", minLen: 8},
		{name: "longest", pw: strings.Repeat("a", MaxPasswordLen), minLen: 8},
		{name: "one short", pw: "1234567", minLen: 8, wantErr: "shorter than 8"},
		{name: "bytes do not count as characters", pw: "ééé", minLen: 4, wantErr: "shorter"},
		{name: "empty", pw: "", minLen: 1, wantErr: "shorter"},
		{name: "too long", pw: strings.Repeat("a", MaxPasswordLen+1), minLen: 8, wantErr: "longer"},
		{name: "too long in bytes", pw: strings.Repeat("é", MaxPasswordLen/2+1), minLen: 8, wantErr: "longer"},
		{name: "invalid UTF-8", pw: "password\xff", minLen: 8, wantErr: "UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidatePassword(tt.pw, tt.minLen)
			checkValidation(t, fmt.Sprintf("ValidatePassword(%d bytes, %d)", len(tt.pw), tt.minLen), err, tt.wantErr)
			if err != nil && tt.pw != "" && strings.Contains(err.Error(), tt.pw) {
				t.Errorf("ValidatePassword error %q shows the password", err)
			}
		})
	}
}

func TestValidateRoles(t *testing.T) {
	many := make([]string, MaxRoles+1)
	for i := range many {
		many[i] = fmt.Sprintf("r%d", i)
	}
	tests := []struct {
		name    string
		roles   []string
		wantErr string
	}{
		{name: "none", roles: nil},
		{name: "admin", roles: []string{RoleAdmin}},
		{name: "allowed characters", roles: []string{"ops-team_2", "dev"}},
		{name: "most", roles: many[:MaxRoles]},
		{name: "longest", roles: []string{strings.Repeat("a", MaxRoleLen)}},
		{name: "too many", roles: many, wantErr: "more than"},
		{name: "empty role", roles: []string{""}, wantErr: "characters"},
		{name: "too long", roles: []string{strings.Repeat("a", MaxRoleLen+1)}, wantErr: "characters"},
		{name: "upper case", roles: []string{"Admin"}, wantErr: "a-z"},
		{name: "space", roles: []string{"ops team"}, wantErr: "a-z"},
		{name: "comma", roles: []string{"ops,dev"}, wantErr: "a-z"},
		{name: "non-ASCII", roles: []string{"аdmin"}, wantErr: "a-z"}, // Cyrillic а
		{name: "duplicate", roles: []string{"ops", "dev", "ops"}, wantErr: "twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkValidation(t, fmt.Sprintf("ValidateRoles(%q)", tt.roles), ValidateRoles(tt.roles), tt.wantErr)
		})
	}
}

// checkValidation checks a validator's error: nil when wantErr is "", else
// ErrInvalid with a message holding wantErr.
func checkValidation(t *testing.T, call string, err error, wantErr string) {
	t.Helper()
	switch {
	case wantErr == "" && err != nil:
		t.Errorf("%s = %v, want nil", call, err)
	case wantErr != "" && err == nil:
		t.Errorf("%s = nil, want an error about %q", call, wantErr)
	case wantErr != "" && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), wantErr)):
		t.Errorf("%s = %v, want ErrInvalid about %q", call, err, wantErr)
	}
}

func TestNameKey(t *testing.T) {
	tests := []struct {
		a, b string
		same bool
	}{
		{a: "admin", b: "admin", same: true},
		{a: "Admin", b: "admin", same: true},
		{a: "ADMIN", b: "aDmIn", same: true},
		{a: "Jürgen", b: "JÜRGEN", same: true},
		{a: "admin", b: "admin2", same: false},
		{a: "admin", b: "аdmin", same: false}, // Cyrillic а is another letter
	}
	for _, tt := range tests {
		if got := NameKey(tt.a) == NameKey(tt.b); got != tt.same {
			t.Errorf("NameKey(%q) == NameKey(%q) is %v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
}

func TestHasRole(t *testing.T) {
	u := &User{Roles: []string{"ops", RoleAdmin}}
	tests := []struct {
		role string
		want bool
	}{
		{role: RoleAdmin, want: true},
		{role: "ops", want: true},
		{role: "dev", want: false},
		{role: "Admin", want: false},
		{role: "", want: false},
	}
	for _, tt := range tests {
		if got := u.HasRole(tt.role); got != tt.want {
			t.Errorf("User{Roles: %q}.HasRole(%q) = %v, want %v", u.Roles, tt.role, got, tt.want)
		}
	}
	if (&User{}).HasRole(RoleAdmin) {
		t.Errorf("User{}.HasRole(admin) = true, want false")
	}
}
