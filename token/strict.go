package token

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
)

// ErrMalformedClaims is wrapped (with ErrInvalid) by Verify's error for a
// token whose header or payload is not a plain JSON object with one member
// per name, or whose registered claims have the wrong JSON type.
var ErrMalformedClaims = errors.New("token: malformed claims")

// jsonKind is the JSON type a member must have.
type jsonKind uint8

const (
	kindAny jsonKind = iota
	kindNumber
	kindString
)

// claimKinds are the claims whose JSON type RFC 7519 fixes and that
// encoding/json would otherwise be lenient about: NumericDate decodes a
// quoted number ("exp":"9999999999") without complaint, and a null leaves a
// string claim empty instead of refusing the token.
var claimKinds = map[string]jsonKind{
	"exp": kindNumber, "nbf": kindNumber, "iat": kindNumber,
	"iss": kindString, "sub": kindString, "jti": kindString,
	"sid": kindString, "name": kindString, "client_id": kindString, "scope": kindString,
}

// claimNames are the JSON names Claims decodes (its json tags, the
// embedded registered claims' included). encoding/json matches member
// names case-insensitively, so a payload with both "name" and "NAME" would
// decode with whichever comes last; checkObject refuses names that differ
// from one of these only in case.
var claimNames = asBytes(jsonNames(reflect.TypeFor[Claims]()))

// headerNames are the header members that decide how a token is checked.
var headerNames = asBytes([]string{"alg", "kid", "typ"})

func asBytes(names []string) [][]byte {
	b := make([][]byte, len(names))
	for i, n := range names {
		b[i] = []byte(n)
	}
	return b
}

func jsonNames(t reflect.Type) []string {
	var names []string
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			names = append(names, jsonNames(f.Type)...)
			continue
		}
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "-":
			continue
		case "":
			name = f.Name
		}
		names = append(names, name)
	}
	return names
}

// checkStrict refuses a compact JWS whose header or payload JSON would be
// read differently by different parsers (RFC 8725 3.11 asks for one
// interpretation): duplicate member names, names differing from a known
// claim only in case, and registered claims of the wrong type. Segments
// that are not base64url are left for the parser to refuse.
func checkStrict(raw string) error {
	h, rest, ok := strings.Cut(raw, ".")
	if !ok {
		return nil
	}
	p, _, ok := strings.Cut(rest, ".")
	if !ok {
		return nil
	}
	// One buffer for both segments, on the stack for tokens of usual size.
	var buf [1024]byte
	if err := checkSegment(buf[:0], h, headerNames, nil); err != nil {
		return fmt.Errorf("header: %w", err)
	}
	if err := checkSegment(buf[:0], p, claimNames, claimKinds); err != nil {
		return fmt.Errorf("claims: %w", err)
	}
	return nil
}

// checkSegment decodes a base64url segment into buf and checks it; a
// segment that is not base64url is left for the parser to refuse.
func checkSegment(buf []byte, seg string, known [][]byte, kinds map[string]jsonKind) error {
	n := base64.RawURLEncoding.DecodedLen(len(seg))
	if n > cap(buf) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	n, err := base64.RawURLEncoding.Decode(buf, []byte(seg))
	if err != nil {
		return nil
	}
	return checkObject(buf[:n], known, kinds)
}

// checkObject checks that b is one JSON object whose members are named
// once each, never a case variant of a name in known (as bytes.EqualFold,
// which is how encoding/json matches names), and of the kind kinds gives
// for their name. Nested values are skipped, not examined: only the top
// level is decoded into claims by name. It scans b in place and allocates
// nothing for a well-formed token (it runs on every verification); the
// full JSON syntax is left to the decoder that runs next.
func checkObject(b []byte, known [][]byte, kinds map[string]jsonKind) error {
	s := scanner{b: b}
	if !s.consume('{') {
		return errNotObject
	}
	if s.consume('}') {
		return s.end()
	}
	var seenBuf [16][]byte
	seen := seenBuf[:0]
	for {
		s.space()
		name, ok := s.name()
		if !ok {
			return errNotObject
		}
		for _, p := range seen {
			if bytes.Equal(p, name) {
				return fmt.Errorf("duplicate member %q", name)
			}
		}
		seen = append(seen, name)
		for _, k := range known {
			if !bytes.Equal(name, k) && bytes.EqualFold(name, k) {
				return fmt.Errorf("member %q differs from %q only in case", name, k)
			}
		}
		if !s.consume(':') {
			return errNotObject
		}
		s.space()
		if s.i >= len(s.b) {
			return errNotObject
		}
		switch c := s.b[s.i]; kinds[string(name)] {
		case kindNumber:
			if c != '-' && (c < '0' || c > '9') {
				return fmt.Errorf("%q must be a number (RFC 7519 NumericDate)", name)
			}
		case kindString:
			if c != '"' {
				return fmt.Errorf("%q must be a string", name)
			}
		}
		if !s.skipValue() {
			return errNotObject
		}
		if s.consume(',') {
			continue
		}
		if s.consume('}') {
			return s.end()
		}
		return errNotObject
	}
}

var errNotObject = errors.New("not a JSON object")

// scanner walks JSON text just far enough to see an object's member names
// and where its values start.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// consume skips white space and then c, if c comes next.
func (s *scanner) consume(c byte) bool {
	s.space()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// end reports an error unless only white space follows.
func (s *scanner) end() error {
	s.space()
	if s.i != len(s.b) {
		return errors.New("data after the JSON object")
	}
	return nil
}

// str skips a string at s.i and returns its raw contents and whether they
// hold escapes.
func (s *scanner) str() (raw []byte, escaped, ok bool) {
	if s.i >= len(s.b) || s.b[s.i] != '"' {
		return nil, false, false
	}
	s.i++
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case '\\':
			escaped = true
			s.i += 2
		case '"':
			raw = s.b[start:s.i]
			s.i++
			return raw, escaped, true
		default:
			s.i++
		}
	}
	return nil, false, false
}

// name reads a member name, unescaped as a decoder would see it.
func (s *scanner) name() ([]byte, bool) {
	start := s.i
	raw, escaped, ok := s.str()
	if !ok || !escaped {
		return raw, ok
	}
	var n string
	if json.Unmarshal(s.b[start:s.i], &n) != nil {
		return nil, false
	}
	return []byte(n), true
}

// skipValue skips one value: a string, a number or literal, or a whole
// array or object.
func (s *scanner) skipValue() bool {
	if s.i >= len(s.b) {
		return false
	}
	switch s.b[s.i] {
	case '"':
		_, _, ok := s.str()
		return ok
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if _, _, ok := s.str(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
			s.i++
			if depth == 0 {
				return true
			}
		}
		return false
	}
	start := s.i
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return s.i > start
		}
		s.i++
	}
	return s.i > start
}
