package verify

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtgate/jwtgate/token"
)

// TestStrictClaims: correctly signed tokens whose registered claims have
// the wrong JSON type (RFC 7519: NumericDate, StringOrURI), or whose
// members are duplicated or differ from a claim only in case, are refused
// by a Verifier from New and one from NewStatic.
func TestStrictClaims(t *testing.T) {
	ed := mustGenerate(t, token.EdDSA)
	iss := newFakeIssuer(t, ed)
	fromNew := mustNew(t, iss.url)
	priv := mustPrivate(t, ed)
	secretBytes := []byte(strings.Repeat("s", 32))
	secret, err := token.Secret(secretBytes)
	if err != nil {
		t.Fatal(err)
	}
	fromStatic, err := NewStatic(secret, WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	iat, exp := now.Unix(), now.Add(15*time.Minute).Unix()
	payload := func(change func(string) string) string {
		p := fmt.Sprintf(`{"iss":%q,"sub":"1","id":1,"name":"admin","sid":"s","jti":"j","iat":%d,"exp":%d}`, iss.url, iat, exp)
		return change(p)
	}
	replace := func(old, new string) func(string) string {
		return func(p string) string { return strings.Replace(p, old, new, 1) }
	}
	appendMember := func(m string) func(string) string {
		return func(p string) string { return strings.TrimSuffix(p, "}") + "," + m + "}" }
	}
	tests := []struct {
		name   string
		change func(string) string
		ok     bool
	}{
		{name: "well formed", change: func(p string) string { return p }, ok: true},
		{name: "exp as string", change: replace(fmt.Sprintf(`"exp":%d`, exp), fmt.Sprintf(`"exp":"%d"`, exp))},
		{name: "iat as string", change: replace(fmt.Sprintf(`"iat":%d`, iat), fmt.Sprintf(`"iat":"%d"`, iat))},
		{name: "nbf as string", change: appendMember(fmt.Sprintf(`"nbf":"%d"`, iat))},
		{name: "sub as number", change: replace(`"sub":"1"`, `"sub":1`)},
		{name: "iss as number", change: replace(fmt.Sprintf(`"iss":%q`, iss.url), `"iss":1`)},
		{name: "duplicate name", change: appendMember(`"name":"root"`)},
		{name: "NAME", change: appendMember(`"NAME":"root"`)},
	}
	sign := func(t *testing.T, alg string, key any, header, p string) string {
		input := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(p))
		s, err := jwt.GetSigningMethod(alg).Sign(input, key)
		if err != nil {
			t.Fatal(err)
		}
		return input + "." + base64.RawURLEncoding.EncodeToString(s)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := payload(tt.change)
			for _, c := range []struct {
				v   *Verifier
				raw string
			}{
				{fromNew, sign(t, "EdDSA", priv, fmt.Sprintf(`{"alg":"EdDSA","typ":"at+jwt","kid":%q}`, ed.ID), p)},
				{fromStatic, sign(t, "HS256", secretBytes, `{"alg":"HS256","typ":"JWT"}`, p)},
			} {
				_, err := c.v.Verify(context.Background(), c.raw)
				if tt.ok && err != nil {
					t.Errorf("Verify(%s) = %v, want nil", p, err)
				}
				if !tt.ok && !errors.Is(err, ErrUnauthenticated) {
					t.Errorf("Verify(%s) = %v, want ErrUnauthenticated", p, err)
				}
			}
		})
	}
}
