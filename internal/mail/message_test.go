package mail

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckAddress(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{name: "plain", in: "alice@example.test", want: "alice@example.test", ok: true},
		{name: "domain lower-cased, local part kept", in: "Alice@Example.TEST", want: "Alice@example.test", ok: true},
		{name: "plus tag kept", in: "a+b@example.test", want: "a+b@example.test", ok: true},
		{name: "unicode local part", in: "jürgen@example.test", want: "jürgen@example.test", ok: true},
		{name: "empty", in: ""},
		{name: "no at", in: "alice"},
		{name: "display name", in: "Alice <alice@example.test>"},
		{name: "two addresses", in: "a@example.test, b@example.test"},
		{name: "CRLF header injection", in: "a@example.test\r\nBcc: evil@example.test"},
		{name: "LF", in: "a@example.test\nX: y"},
		{name: "NUL", in: "a\x00@example.test"},
		{name: "invalid UTF-8", in: "a\xff@example.test"},
		{name: "too long", in: strings.Repeat("a", 250) + "@example.test"},
		{name: "comment", in: "a@example.test (comment)"},
		{name: "surrounding space", in: " a@example.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckAddress(tt.in)
			if tt.ok && (err != nil || got != tt.want) {
				t.Errorf("CheckAddress(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
			if !tt.ok && !errors.Is(err, ErrInvalid) {
				t.Errorf("CheckAddress(%q) = %q, %v; want ErrInvalid", tt.in, got, err)
			}
		})
	}
}

func TestMessageCheck(t *testing.T) {
	ok := Message{To: "a@example.test", Subject: "Verify your email", Text: "Hello"}
	tests := []struct {
		name string
		edit func(*Message)
		ok   bool
	}{
		{name: "valid", edit: func(*Message) {}, ok: true},
		{name: "with html", edit: func(m *Message) { m.HTML = "<p>Hello</p>" }, ok: true},
		{name: "subject CRLF", edit: func(m *Message) { m.Subject = "Hi\r\nBcc: evil@example.test" }},
		{name: "empty subject", edit: func(m *Message) { m.Subject = "" }},
		{name: "empty text", edit: func(m *Message) { m.Text = "" }},
		{name: "bad recipient", edit: func(m *Message) { m.To = "nope" }},
		{name: "invalid UTF-8 html", edit: func(m *Message) { m.HTML = "\xff" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ok
			tt.edit(&m)
			err := m.check()
			if tt.ok != (err == nil) {
				t.Errorf("check(%+v) = %v, want ok=%v", m, err, tt.ok)
			}
		})
	}
}
