package jwtgate

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckEmail(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{name: "plain", in: "alice@example.test", want: "alice@example.test", ok: true},
		{name: "domain lower-cased, local part kept", in: "Alice@Example.TEST", want: "Alice@example.test", ok: true},
		{name: "plus tag kept", in: "a+b@example.test", want: "a+b@example.test", ok: true},
		{name: "unicode local part", in: "jürgen@example.test", want: "jürgen@example.test", ok: true},
		{name: "longest", in: strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 56) + ".test", ok: true},
		{name: "empty", in: ""},
		{name: "no at", in: "alice"},
		{name: "display name", in: "Alice <alice@example.test>"},
		{name: "two addresses", in: "a@example.test, b@example.test"},
		{name: "CRLF header injection", in: "a@example.test\r\nBcc: evil@example.test"},
		{name: "LF", in: "a@example.test\nX: y"},
		{name: "NUL", in: "a\x00@example.test"},
		{name: "C1 control", in: "a\u0085@example.test"},
		{name: "invalid UTF-8", in: "a\xff@example.test"},
		{name: "too long", in: strings.Repeat("a", 250) + "@example.test"},
		{name: "comment", in: "a@example.test (comment)"},
		{name: "surrounding space", in: " a@example.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckEmail(tt.in)
			if tt.ok && (err != nil || (tt.want != "" && got != tt.want)) {
				t.Errorf("CheckEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			if !tt.ok && !errors.Is(err, ErrInvalid) {
				t.Errorf("CheckEmail(%q) = %q, %v; want ErrInvalid", tt.in, got, err)
			}
		})
	}
}

func TestEmailKey(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		same bool
	}{
		{"Alice@example.test", "alice@EXAMPLE.test", true},
		{"alice@example.test", "al.ice@example.test", false},
		{"alice@example.test", "alice+x@example.test", false},
	} {
		if got := EmailKey(tt.a) == EmailKey(tt.b); got != tt.same {
			t.Errorf("EmailKey(%q) == EmailKey(%q) is %v, want %v", tt.a, tt.b, got, tt.same)
		}
	}
}
