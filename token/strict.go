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
	"sid": kindString, "name": kindString,
}

// claimNames are the JSON names Claims decodes (its json tags, the
// embedded registered claims' included). encoding/json matches member
// names case-insensitively, so a payload with both "name" and "NAME" would
// decode with whichever comes last; checkObject refuses names that differ
// from one of these only in case.
var claimNames = jsonNames(reflect.TypeFor[Claims]())

// headerNames are the header members that decide how a token is checked.
var headerNames = []string{"alg", "kid", "typ"}

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
	if b, err := base64.RawURLEncoding.DecodeString(h); err == nil {
		if err := checkObject(b, headerNames, nil); err != nil {
			return fmt.Errorf("header: %w", err)
		}
	}
	if b, err := base64.RawURLEncoding.DecodeString(p); err == nil {
		if err := checkObject(b, claimNames, claimKinds); err != nil {
			return fmt.Errorf("claims: %w", err)
		}
	}
	return nil
}

// checkObject checks that b is one JSON object whose members are named
// once each, never a case variant of a name in known, and of the kind
// kinds gives for their name. Nested values are not examined: only the
// top level is decoded into claims by name.
func checkObject(b []byte, known []string, kinds map[string]jsonKind) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	seen := make(map[string]struct{}, 12)
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return errors.New("not a JSON object")
		}
		name, _ := t.(string)
		if _, dup := seen[name]; dup {
			return fmt.Errorf("duplicate member %q", name)
		}
		seen[name] = struct{}{}
		for _, k := range known {
			if name != k && strings.EqualFold(name, k) {
				return fmt.Errorf("member %q differs from %q only in case", name, k)
			}
		}
		if err := checkValue(dec, name, kinds[name]); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return errors.New("not a JSON object")
	}
	return nil
}

// checkValue consumes one value from dec and checks its kind.
func checkValue(dec *json.Decoder, name string, kind jsonKind) error {
	t, err := dec.Token()
	if err != nil {
		return errors.New("not a JSON object")
	}
	switch kind {
	case kindNumber:
		if _, ok := t.(json.Number); !ok {
			return fmt.Errorf("%q must be a number (RFC 7519 NumericDate)", name)
		}
	case kindString:
		if _, ok := t.(string); !ok {
			return fmt.Errorf("%q must be a string", name)
		}
	}
	if d, ok := t.(json.Delim); ok && (d == '{' || d == '[') {
		for depth := 1; depth > 0; {
			t, err := dec.Token()
			if err != nil {
				return errors.New("not a JSON object")
			}
			switch t {
			case json.Delim('{'), json.Delim('['):
				depth++
			case json.Delim('}'), json.Delim(']'):
				depth--
			}
		}
	}
	return nil
}
