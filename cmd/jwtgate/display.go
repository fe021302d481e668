package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// What the CLI prints may come from anyone: user names, user agents, token
// claims. A terminal acts on control characters and hides or reorders text
// around format characters (bidi overrides, zero-width spaces), so the
// operator would see something other than what is stored. The helpers here
// escape them.

// displayName shows a user name in a table column: as it is when it is
// plain printable text, else quoted with Go escapes. A name with a space or
// a quote would blur the columns; one with a character that is not
// printable (a control character, which a terminal acts on, or a format
// character such as a bidi override or a zero-width space, which it hides
// or uses to reorder the line) would show the operator something other
// than what is stored. The store refuses most of these for new names, but
// not every store was filled under today's rules.
func displayName(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\"'`\\") || !printable(s) {
		return strconv.Quote(s)
	}
	return s
}

// displayText shows free text (an audit detail, a list of roles) as it is
// when every character is printable, else quoted with Go escapes, for the
// same reason as displayName.
func displayText(s string) string {
	if printable(s) {
		return s
	}
	return strconv.Quote(s)
}

// printable reports whether s is valid UTF-8 with only printable
// characters (letters, marks, numbers, punctuation, symbols and the ASCII
// space).
func printable(s string) bool {
	return utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0
}

// printJSON writes v as indented JSON, with every character that is not
// printable escaped as \uXXXX. encoding/json already escapes control
// characters; format characters (U+202E, U+200B, U+FEFF...) it writes raw.
// The escaped form decodes to the same strings, so parsers see no change.
func printJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(escapeJSON(b.Bytes()))
	return err
}

// escapeJSON escapes the non-printable runes of encoded JSON. Outside
// strings JSON holds only ASCII, so every such rune is inside a string,
// where \uXXXX means the same rune.
func escapeJSON(b []byte) []byte {
	if printable(string(b)) || !utf8.Valid(b) {
		return b // json.Encoder output is valid UTF-8; the check is for safety
	}
	var out bytes.Buffer
	for _, r := range string(b) {
		switch {
		case r < utf8.RuneSelf || unicode.IsPrint(r):
			out.WriteRune(r)
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&out, `\u%04x\u%04x`, r1, r2)
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
	}
	return out.Bytes()
}
