package jwtgate

import (
	"errors"
	"strings"
	"testing"
)

// TestLookAlikeNames is issue 17 §4's list: every name that passed for
// "admin" is refused, or has admin's key (so creating it next to admin is
// a conflict).
func TestLookAlikeNames(t *testing.T) {
	for _, tt := range []struct {
		name    string
		in      string
		invalid string // what the error says, or "" if the name is valid
	}{
		{"Cyrillic а", "аdmin", "mixes Latin, Cyrillic or Greek"},
		{"Greek ο", "adminο", "mixes Latin, Cyrillic or Greek"},
		{"full-width", "ａｄｍｉｎ", ""},
		{"upper case", "ADMIN", ""},
		{"dotless ı", "admın", ""},
		{"small capital ᴀ", "ᴀdmin", "phonetic or technical letter (U+1D00)"},
		{"modifier ᴬ", "ᴬdmin", "not allowed in names (U+1D2C"},
		{"BOM", "admin\uFEFF", "invisible or formatting character (U+FEFF)"},
		{"zero-width space", "a\u200bdmin", "invisible or formatting character (U+200B)"},
		{"soft hyphen", "admin\u00ad", "invisible or formatting character (U+00AD)"},
		{"right-to-left override", "\u202eadmin", "invisible or formatting character (U+202E)"},
		{"line separator", "ad\u2028min", "invisible or formatting character (U+2028)"},
		{"paragraph separator", "ad\u2029min", "invisible or formatting character (U+2029)"},
		{"no-break space", "ad\u00a0min", "space other than U+0020"},
		{"ideographic space", "ad\u3000min", "space other than U+0020"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if key := NameKey(tt.in); key != "admin" && tt.invalid == "" {
				t.Errorf("NameKey(%q) = %q, want %q", tt.in, key, "admin")
			}
			err := ValidateName(tt.in)
			switch {
			case tt.invalid == "" && err != nil:
				t.Errorf("ValidateName(%q) = %v, want nil", tt.in, err)
			case tt.invalid != "" && (!errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.invalid)):
				t.Errorf("ValidateName(%q) = %v, want ErrInvalid saying %q", tt.in, err, tt.invalid)
			}
		})
	}
}

func TestPrepareName(t *testing.T) {
	for _, tt := range []struct {
		name, in, want, key string
		invalid             string
	}{
		{name: "plain", in: "alice", want: "alice", key: "alice"},
		{name: "case kept, key lower", in: "Alice", want: "Alice", key: "alice"},
		{name: "userparts", in: "Jane Doe", want: "Jane Doe", key: "jane doe"},
		{name: "full-width mapped", in: "ｂｏｂ", want: "bob", key: "bob"},
		{name: "NFC", in: "Jose\u0301", want: "José", key: "josé"},
		{name: "Cyrillic alone", in: "Дмитрий", want: "Дмитрий", key: "дмитрий"},
		{name: "Greek alone", in: "Σωκράτης", want: "Σωκράτης", key: "σωκράτης"},
		{name: "Latin with Han", in: "li李", want: "li李", key: "li李"},
		{name: "Turkish", in: "Işık", want: "Işık", key: "işik"},
		{name: "digits and ASCII punctuation", in: "ops-bot_2.0", want: "ops-bot_2.0", key: "ops-bot_2.0"},
		{name: "dot", in: ".", invalid: `may not be "."`},
		{name: "dot dot", in: "..", invalid: `may not be ".."`},
		{name: "empty", in: "", invalid: "empty"},
		{name: "leading space", in: " alice", invalid: "leading or trailing spaces"},
		{name: "double space", in: "jane  doe", invalid: "leading, trailing or double spaces"},
		{name: "control", in: "a\x00b", invalid: "control character"},
		{name: "not UTF-8", in: "a\xffb", invalid: "not valid UTF-8"},
		{name: "symbol", in: "a☃b", invalid: "not allowed in names (U+2603"},
		{name: "ligature", in: "ﬁle", invalid: "not allowed in names (U+FB01"},
		{name: "Cyrillic with Greek", in: "Дα", invalid: "mixes"},
		{name: "too long", in: strings.Repeat("ä", MaxNameLen+1), invalid: "longer than 64"},
		{name: "longest", in: strings.Repeat("ä", MaxNameLen), want: strings.Repeat("ä", MaxNameLen), key: strings.Repeat("ä", MaxNameLen)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := PrepareName(tt.in)
			if tt.invalid != "" {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.invalid) {
					t.Errorf("PrepareName(%q) = %q, %v, want ErrInvalid saying %q", tt.in, got, err, tt.invalid)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("PrepareName(%q) = %q, %v, want %q", tt.in, got, err, tt.want)
			}
			if key := NameKey(tt.in); key != tt.key {
				t.Errorf("NameKey(%q) = %q, want %q", tt.in, key, tt.key)
			}
			if key := NameKey(got); key != tt.key {
				t.Errorf("NameKey(PrepareName(%q)) = %q, want %q", tt.in, key, tt.key)
			}
		})
	}
}

// TestNameKeyOfInvalidNames: names that fail the rules (stored before
// them, or typed in a look-up) still map onto the key they look like.
func TestNameKeyOfInvalidNames(t *testing.T) {
	for _, in := range []string{"admin\u00ad", "a\u200bdmin", "ᴬdmin", "\u202eADMIN", "admin\uFEFF"} {
		if got := NameKey(in); got != "admin" {
			t.Errorf("NameKey(%q) = %q, want %q", in, got, "admin")
		}
	}
	if got := SearchKey("ＡＤ"); got != "ad" {
		t.Errorf("SearchKey(%q) = %q, want %q", "ＡＤ", got, "ad")
	}
}
