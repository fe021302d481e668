package jwtgate

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/secure/precis"
	"golang.org/x/text/unicode/norm"
)

// User names follow RFC 8265 (PRECIS usernames), tightened against
// look-alikes (issue 17 §4), so that a name shown in a token, a page or a
// proxy's X-Auth-User header cannot pass for another user's:
//
//   - A name is one or more userparts separated by single spaces (U+0020),
//     as RFC 8265 §3.1 allows; no leading, trailing or double spaces.
//   - Each userpart must pass the UsernameCasePreserved profile: letters
//     and digits (PRECIS IdentifierClass: no symbols beyond ASCII, no
//     compatibility characters such as ᴬ, ﬁ or ², no invisible, control or
//     formatting characters), the Bidi Rule. Full-width letters are mapped
//     to their ordinary form and the name is put in NFC.
//   - Invisible and formatting characters (Cf, Zl, Zp: U+200B, U+FEFF,
//     U+00AD, U+202E, ...) are refused with their own message.
//   - One name may not mix letters of two of Latin, Cyrillic and Greek (a
//     single-script check as in UTS #39: "аdmin" with a Cyrillic а).
//   - Latin letters come from Basic Latin, Latin-1 Supplement, Latin
//     Extended-A and -B and Latin Extended Additional; the IPA and
//     phonetic blocks, which hold small capitals such as ᴀ, are refused.
//   - "." and ".." are refused: names end up in paths and URLs.
//   - At most MaxNameLen characters.
//
// The stored name is that prepared form. Uniqueness and look-up use the
// name key: each userpart through the UsernameCaseMapped profile
// (lower-cased), then the dotless ı and ȷ read as i and j, the one
// confusable pair the rules above leave among Latin letters. So "Admin",
// "ＡＤＭＩＮ" and "admın" are all the key "admin".

// PrepareName checks that name is usable as a user name and returns the
// form to store and show: full-width letters mapped to ordinary ones, NFC.
// The error wraps ErrInvalid and says what is wrong.
func PrepareName(name string) (string, error) {
	switch {
	case !utf8.ValidString(name):
		return "", fmt.Errorf("%w: name is not valid UTF-8", ErrInvalid)
	case name == "":
		return "", fmt.Errorf("%w: name is empty", ErrInvalid)
	case name == "." || name == "..":
		return "", fmt.Errorf("%w: name may not be %q", ErrInvalid, name)
	case len(name) > 4*utf8.UTFMax*MaxNameLen:
		// Before any Unicode work (login checks every name it is sent).
		// Room for combining marks that NFC will compose.
		return "", fmt.Errorf("%w: name is longer than %d characters", ErrInvalid, MaxNameLen)
	case strings.TrimSpace(name) != name:
		return "", fmt.Errorf("%w: name has leading or trailing spaces", ErrInvalid)
	}
	for _, r := range name {
		switch {
		case unicode.IsControl(r):
			return "", fmt.Errorf("%w: name contains a control character", ErrInvalid)
		case invisible(r):
			return "", fmt.Errorf("%w: name contains an invisible or formatting character (U+%04X)", ErrInvalid, r)
		case unicode.IsSpace(r) && r != ' ':
			return "", fmt.Errorf("%w: name contains a space other than U+0020 (U+%04X)", ErrInvalid, r)
		}
	}
	parts := strings.Split(name, " ")
	for i, p := range parts {
		if p == "" {
			return "", fmt.Errorf("%w: name has leading, trailing or double spaces", ErrInvalid)
		}
		prepared, err := precis.UsernameCasePreserved.String(p)
		if err != nil {
			return "", fmt.Errorf("%w: name %s", ErrInvalid, disallowed(p))
		}
		parts[i] = prepared
	}
	out := strings.Join(parts, " ")
	if utf8.RuneCountInString(out) > MaxNameLen {
		return "", fmt.Errorf("%w: name is longer than %d characters", ErrInvalid, MaxNameLen)
	}
	if err := checkScripts(out); err != nil {
		return "", err
	}
	return out, nil
}

// ValidateName checks that name is usable as a user name (see PrepareName).
// The returned error wraps ErrInvalid and says what is wrong.
func ValidateName(name string) error {
	_, err := PrepareName(name)
	return err
}

// NameKey is the form of a name used for uniqueness and look-up: two names
// with the same key are the same user. For a valid name it is each
// userpart through PRECIS UsernameCaseMapped, with ı and ȷ read as i and
// j. A string that is not a valid name (a look-up by an odd spelling, or a
// user stored before these rules) gets the same mapping done loosely:
// invisible characters dropped, NFKC, case folded; so "admin\u00ad" and
// "ᴬdmin" have the key "admin" and can never be a second admin.
func NameKey(name string) string {
	if key, ok := strictKey(name); ok {
		return key
	}
	return SearchKey(name)
}

// SearchKey maps a search term (any part of a name) the way NameKey maps a
// name, loosely, so that it can be looked for in name keys.
func SearchKey(s string) string {
	s = strings.Map(func(r rune) rune {
		if invisible(r) || unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, "\uFFFD"))
	return skeleton(cases.Fold().String(norm.NFKC.String(s)))
}

func strictKey(name string) (string, bool) {
	prepared, err := PrepareName(name)
	if err != nil {
		return "", false
	}
	parts := strings.Split(prepared, " ")
	for i, p := range parts {
		k, err := precis.UsernameCaseMapped.String(p)
		if err != nil {
			return "", false
		}
		parts[i] = k
	}
	return skeleton(strings.Join(parts, " ")), true
}

// skeleton folds the Latin letters that the name rules allow and that look
// like another allowed letter: the dotless ı and ȷ.
func skeleton(s string) string {
	return strings.NewReplacer("ı", "i", "ȷ", "j").Replace(s)
}

// invisible reports whether r is a format character (Cf: zero-width
// spaces and joiners, the BOM, soft hyphen, bidi controls), a line or
// paragraph separator, or otherwise default-ignorable: characters that
// change a name without changing how it looks.
func invisible(r rune) bool {
	return unicode.In(r, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}

// disallowed says which character of a userpart PRECIS refuses, or why.
func disallowed(part string) string {
	for _, r := range part {
		if _, err := precis.UsernameCasePreserved.String(string(r)); err != nil {
			return fmt.Sprintf("contains a character not allowed in names (U+%04X: only letters and digits, no symbols or compatibility forms)", r)
		}
	}
	return "mixes writing directions (the Bidi Rule of RFC 5893)"
}

// latinBlocks are the Unicode blocks Latin letters of a name may come from.
var latinBlocks = &unicode.RangeTable{R16: []unicode.Range16{
	{Lo: 0x0000, Hi: 0x024F, Stride: 1}, // Basic Latin to Latin Extended-B
	{Lo: 0x1E00, Hi: 0x1EFF, Stride: 1}, // Latin Extended Additional
}}

// checkScripts refuses names with letters of more than one of Latin,
// Cyrillic and Greek, whose alphabets share look-alike letters, and Latin
// letters outside latinBlocks.
func checkScripts(name string) error {
	var latin, cyrillic, greek bool
	for _, r := range name {
		switch {
		case unicode.Is(unicode.Latin, r):
			if !unicode.Is(latinBlocks, r) {
				return fmt.Errorf("%w: name contains a phonetic or technical letter (U+%04X)", ErrInvalid, r)
			}
			latin = true
		case unicode.Is(unicode.Cyrillic, r):
			cyrillic = true
		case unicode.Is(unicode.Greek, r):
			greek = true
		}
	}
	if latin && (cyrillic || greek) || cyrillic && greek {
		return fmt.Errorf("%w: name mixes Latin, Cyrillic or Greek letters", ErrInvalid)
	}
	return nil
}
