package jwtgate

import (
	"errors"
	"net/mail"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCheckEmail: whatever a request sends as an address, CheckEmail
// either refuses it with ErrInvalid or returns one plain address that can
// go into a mail header as it is: no control characters, at most
// MaxEmailLen bytes, net/mail reads it back unchanged, and checking it
// again changes nothing.
func FuzzCheckEmail(f *testing.F) {
	for _, seed := range []string{
		"alice@example.test", "Alice@Example.TEST", "a+b@example.test", "jürgen@example.test",
		"a@example.test\r\nBcc: x@example.test", "Alice <alice@example.test>", "a@b, c@d", "\"a b\"@example.test",
		"a@[127.0.0.1]", "@example.test", "a@", "", "a\x00@example.test", "a@example.test (c)",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := CheckEmail(in)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("CheckEmail(%q) = %v, want ErrInvalid", in, err)
			}
			return
		}
		if len(got) > MaxEmailLen || !utf8.ValidString(got) || strings.ContainsFunc(got, isControl) {
			t.Fatalf("CheckEmail(%q) = %q: too long, invalid UTF-8 or control characters", in, got)
		}
		a, err := mail.ParseAddress(got)
		if err != nil || a.Address != got || a.Name != "" {
			t.Fatalf("CheckEmail(%q) = %q, which net/mail reads as %v, %v", in, got, a, err)
		}
		if again, err := CheckEmail(got); err != nil || again != got {
			t.Fatalf("CheckEmail(%q) = %q, %v; not stable", got, again, err)
		}
		if EmailKey(got) != EmailKey(in) {
			t.Fatalf("EmailKey(%q) != EmailKey(%q): checking changed more than case", got, in)
		}
	})
}
