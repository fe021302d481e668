package password

import "testing"

func TestCommon(t *testing.T) {
	for _, tt := range []struct {
		pw   string
		want bool
	}{
		{"password", true},
		{"PassWord1", true},
		{"12345678", true},
		{"qwertyuiop", true},
		{"correct horse battery staple", false},
		{"a-long-password", false},
		{"", false},
		{"# The most common passwords of at least 8 characters, from the public", false},
	} {
		if got := Common(tt.pw); got != tt.want {
			t.Errorf("Common(%q) = %v, want %v", tt.pw, got, tt.want)
		}
	}
}
