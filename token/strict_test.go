package token

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// signRaw signs header and payload exactly as given, so tests can send
// JSON that no encoder would produce (duplicates, wrong types).
func signRaw(t testing.TB, k *Key, header, payload string) string {
	t.Helper()
	input := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	sig, err := k.method.Sign(input, k.private)
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// TestStrictClaims: correctly signed tokens whose JSON other parsers would
// read differently, or whose registered claims have the wrong JSON type,
// are refused (RFC 7519 section 2 NumericDate and StringOrURI; RFC 8725
// section 3.11).
func TestStrictClaims(t *testing.T) {
	ed := mustGenerate(t, EdDSA)
	secret, err := Secret([]byte(strings.Repeat("s", 32)))
	if err != nil {
		t.Fatal(err)
	}
	iat, exp := epoch.Unix(), epoch.Add(15*time.Minute).Unix()
	hdr := fmt.Sprintf(`{"alg":"EdDSA","typ":"at+jwt","kid":%q}`, ed.ID)
	body := func(extra string) string {
		return fmt.Sprintf(`{"iss":%q,"sub":"1","id":1,"name":"admin","sid":"s","jti":"j","iat":%d,"exp":%d%s}`, issuer, iat, exp, extra)
	}
	tests := []struct {
		name    string
		header  string
		payload string
		wantOK  bool
	}{
		{name: "well formed", header: hdr, payload: body(""), wantOK: true},
		{name: "unknown member", header: hdr, payload: body(`,"x":{"exp":"s","exp":1}`), wantOK: true},
		{name: "float exp", header: hdr, payload: strings.Replace(body(""), fmt.Sprint(exp), fmt.Sprint(exp)+".5", 1), wantOK: true},
		{name: "exp as string", header: hdr, payload: strings.Replace(body(""), fmt.Sprintf(`"exp":%d`, exp), fmt.Sprintf(`"exp":"%d"`, exp), 1)},
		{name: "iat as string", header: hdr, payload: strings.Replace(body(""), fmt.Sprintf(`"iat":%d`, iat), fmt.Sprintf(`"iat":"%d"`, iat), 1)},
		{name: "nbf as string", header: hdr, payload: body(fmt.Sprintf(`,"nbf":"%d"`, iat))},
		{name: "exp null", header: hdr, payload: strings.Replace(body(""), fmt.Sprintf(`"exp":%d`, exp), `"exp":null`, 1)},
		{name: "sub as number", header: hdr, payload: strings.Replace(body(""), `"sub":"1"`, `"sub":1`, 1)},
		{name: "sub null", header: hdr, payload: strings.Replace(body(""), `"sub":"1"`, `"sub":null`, 1)},
		{name: "iss as array", header: hdr, payload: strings.Replace(body(""), fmt.Sprintf(`"iss":%q`, issuer), fmt.Sprintf(`"iss":[%q]`, issuer), 1)},
		{name: "name as number", header: hdr, payload: strings.Replace(body(""), `"name":"admin"`, `"name":7`, 1)},
		{name: "duplicate name", header: hdr, payload: body(`,"name":"root"`)},
		{name: "duplicate exp", header: hdr, payload: body(fmt.Sprintf(`,"exp":%d`, exp+3600))},
		{name: "name in other case", header: hdr, payload: body(`,"NAME":"root"`)},
		{name: "roles in other case", header: hdr, payload: body(`,"Roles":["admin"]`)},
		{name: "exp in other case", header: hdr, payload: body(fmt.Sprintf(`,"EXP":%d`, exp+3600))},
		{name: "duplicate kid", header: fmt.Sprintf(`{"alg":"EdDSA","typ":"at+jwt","kid":%q,"kid":"other"}`, ed.ID), payload: body("")},
		{name: "alg in other case", header: fmt.Sprintf(`{"alg":"EdDSA","typ":"at+jwt","kid":%q,"ALG":"none"}`, ed.ID), payload: body("")},
		{name: "payload not an object", header: hdr, payload: `[1]`},
		{name: "trailing data", header: hdr, payload: body("") + `{}`},
	}
	v := verifier(NewKeySet(ed), []string{EdDSA}, VerifierOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := v.Verify(signRaw(t, ed, tt.header, tt.payload))
			if tt.wantOK {
				if err != nil {
					t.Fatalf("Verify(%s) = %v, want nil", tt.payload, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("Verify(%s) = %v, want ErrInvalid", tt.payload, err)
			}
		})
	}
	// The tutorial's HS256 tokens go through the same checks.
	lax := verifier(NewKeySet(secret), []string{HS256}, VerifierOptions{AllowMissingIssuerAndType: true})
	good := fmt.Sprintf(`{"id":1,"name":"admin","exp":%d}`, exp)
	if _, err := lax.Verify(signRaw(t, secret, `{"alg":"HS256","typ":"JWT"}`, good)); err != nil {
		t.Errorf("Verify(tutorial token) = %v, want nil", err)
	}
	bad := fmt.Sprintf(`{"id":1,"name":"admin","exp":"%d"}`, exp)
	if _, err := lax.Verify(signRaw(t, secret, `{"alg":"HS256","typ":"JWT"}`, bad)); !errors.Is(err, ErrMalformedClaims) {
		t.Errorf("Verify(tutorial token, exp as string) = %v, want ErrMalformedClaims", err)
	}
}

// TestIssuerBounds: with RequireSessionAndID and MaxLifetime (asymmetric
// modes), a token the real key signed but jwtgate would never issue, with
// no sid or a ten-year lifetime, is refused.
func TestIssuerBounds(t *testing.T) {
	ed := mustGenerate(t, EdDSA)
	const ttl = 15 * time.Minute
	tests := []struct {
		name   string
		mutate func(*Claims)
		want   error
	}{
		{name: "as issued", mutate: func(*Claims) {}},
		{name: "lifetime within leeway", mutate: func(c *Claims) { c.ExpiresAt.Time = c.IssuedAt.Add(ttl + 10*time.Second) }},
		{name: "ten years", mutate: func(c *Claims) { c.ExpiresAt.Time = c.IssuedAt.AddDate(10, 0, 0) }, want: ErrLifetime},
		{name: "lifetime past leeway", mutate: func(c *Claims) { c.ExpiresAt.Time = c.IssuedAt.Add(ttl + 11*time.Second) }, want: ErrLifetime},
		{name: "no iat", mutate: func(c *Claims) { c.IssuedAt = nil }, want: ErrLifetime},
		{name: "no sid", mutate: func(c *Claims) { c.SessionID = "" }, want: ErrMissingIDs},
		{name: "no jti", mutate: func(c *Claims) { c.ID = "" }, want: ErrMissingIDs},
		{name: "client_credentials: no sid, no user, sub is the client", mutate: func(c *Claims) {
			c.SessionID, c.UserID, c.Name, c.Roles, c.ClientID, c.Subject = "", 0, "", nil, "app", "app"
		}},
		{name: "client_credentials without jti", mutate: func(c *Claims) {
			c.SessionID, c.UserID, c.Name, c.Roles, c.ClientID, c.Subject, c.ID = "", 0, "", nil, "app", "app", ""
		}, want: ErrMissingIDs},
		{name: "no sid, a client, but a user", mutate: func(c *Claims) { c.SessionID, c.ClientID, c.Subject = "", "app", "app" }, want: ErrMissingIDs},
		{name: "no sid, a client, sub another's", mutate: func(c *Claims) {
			c.SessionID, c.UserID, c.ClientID = "", 0, "app"
		}, want: ErrMissingIDs},
		{name: "ten years, no sid", mutate: func(c *Claims) {
			c.SessionID = ""
			c.ExpiresAt.Time = c.IssuedAt.AddDate(10, 0, 0)
		}, want: ErrInvalid},
	}
	strict := verifier(NewKeySet(ed), []string{EdDSA}, VerifierOptions{RequireSessionAndID: true, MaxLifetime: ttl})
	plain := verifier(NewKeySet(ed), []string{EdDSA}, VerifierOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := claimsAt(epoch)
			tt.mutate(c)
			raw, err := Sign(ed, c)
			if err != nil {
				t.Fatal(err)
			}
			_, err = strict.Verify(raw)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("Verify(%s) = %v, want %v", tt.name, err, tt.want)
			}
			if _, err := plain.Verify(raw); tt.name != "no iat" && err != nil {
				t.Errorf("Verify(%s) without the bounds = %v, want nil", tt.name, err)
			}
		})
	}
}

// referenceCheck is checkObject written plainly with encoding/json's
// tokenizer: the model FuzzCheckObject holds the scanner to.
func referenceCheck(b []byte, known [][]byte, kinds map[string]jsonKind) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return errNotObject
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return errNotObject
		}
		name := t.(string)
		if seen[name] {
			return errors.New("duplicate")
		}
		seen[name] = true
		for _, k := range known {
			if name != string(k) && bytes.EqualFold([]byte(name), k) {
				return errors.New("case")
			}
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return errNotObject
		}
		switch c := v[0]; kinds[name] {
		case kindNumber:
			if c != '-' && (c < '0' || c > '9') {
				return errors.New("number")
			}
		case kindString:
			if c != '"' {
				return errors.New("string")
			}
		}
	}
	if _, err := dec.Token(); err != nil {
		return errNotObject
	}
	if dec.More() {
		return errors.New("trailing")
	}
	return nil
}

// FuzzCheckObject: on valid JSON the in-place scanner agrees with the
// encoding/json model on whether an object is acceptable.
func FuzzCheckObject(f *testing.F) {
	for _, s := range []string{
		`{"exp":1,"name":"a"}`, `{"exp":"1"}`, `{"name":"a","name":"b"}`, `{"NAME":"a"}`,
		`{"n\u0061me":"a","name":"b"}`, `{"x":{"exp":"s","exp":1},"y":[1,"]",{"}":2}]}`,
		`{"ſub":"1"}`, `{"sub":null}`, `{}`, ` { "exp" : -1e3 , "iat" : 0 } `, `{"a":"\"}"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			_ = checkObject(b, claimNames, claimKinds) // must not panic
			return
		}
		got := checkObject(b, claimNames, claimKinds)
		want := referenceCheck(b, claimNames, claimKinds)
		if (got == nil) != (want == nil) {
			t.Fatalf("checkObject(%s) = %v, reference says %v", b, got, want)
		}
	})
}
