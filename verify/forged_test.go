package verify

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtgate/jwtgate/token"
)

// b64 encodes a JSON value as a JWS segment.
func b64(v any) string {
	j, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(j)
}

// forge builds a token from a raw header and claims, signing with HS256
// under key when key is not nil, else appending sig as given.
func forge(header, claims map[string]any, key []byte, sig string) string {
	input := b64(header) + "." + b64(claims)
	if key != nil {
		s, _ := jwt.SigningMethodHS256.Sign(input, key)
		return input + "." + base64.RawURLEncoding.EncodeToString(s)
	}
	return input + "." + sig
}

func mapClaims(iss string, now time.Time) map[string]any {
	return map[string]any{"iss": iss, "sub": "1", "aud": "api", "id": 1, "name": "admin", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

// TestForgedTokens is token's attack table run through this package, for
// a Verifier made by New (keys from the fake issuer's JWKS) and one made by
// NewStatic: every row must be refused, by Verify and by Handler, and no
// token may make the Verifier fetch anything it names.
func TestForgedTokens(t *testing.T) {
	ed := mustGenerate(t, token.EdDSA)
	other := mustGenerate(t, token.EdDSA)
	iss := newFakeIssuer(t, ed)
	var followed atomic.Int32
	lure := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		followed.Add(1)
		doc, _ := token.MarshalJWKS([]*token.Key{other})
		_, _ = w.Write(doc)
	}))
	t.Cleanup(lure.Close)

	now := time.Now()
	pubDER, _ := ed.MarshalPublic()
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	pubRaw := []byte(ed.Public().(ed25519.PublicKey))
	jwkJSON, _ := ed.JWK()
	jwksDoc, _ := token.MarshalJWKS([]*token.Key{ed})
	good := func() *token.Claims {
		c := claims(iss.url, now)
		c.Audience = jwt.ClaimStrings{"api"}
		return c
	}
	goodTok := sign(t, ed, good())
	parts := strings.Split(goodTok, ".")
	hdr := func(alg string, extra ...any) map[string]any {
		h := map[string]any{"alg": alg, "typ": "at+jwt", "kid": ed.ID}
		for i := 0; i+1 < len(extra); i += 2 {
			h[extra[i].(string)] = extra[i+1]
		}
		return h
	}
	signed := func(k *token.Key, mutate func(*token.Claims)) string {
		c := good()
		mutate(c)
		return sign(t, k, c)
	}
	mc := mapClaims(iss.url, now)
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{name: "alg none", token: forge(hdr("none"), mc, nil, ""), want: token.ErrInvalid},
		{name: "alg None", token: forge(hdr("None"), mc, nil, ""), want: token.ErrInvalid},
		{name: "alg NONE", token: forge(hdr("NONE"), mc, nil, ""), want: token.ErrInvalid},
		{name: "alg nOnE", token: forge(hdr("nOnE"), mc, nil, ""), want: token.ErrInvalid},
		{name: "alg none with the real signature", token: forge(hdr("none"), mc, nil, parts[2]), want: token.ErrInvalid},
		{name: "stripped signature", token: parts[0] + "." + parts[1] + ".", want: token.ErrInvalid},
		{name: "two segments", token: parts[0] + "." + parts[1], want: token.ErrInvalid},
		{name: "tampered payload", token: parts[0] + "." + b64(map[string]any{"name": "root", "id": 2, "exp": now.Add(time.Hour).Unix()}) + "." + parts[2], want: token.ErrInvalid},
		{name: "tampered signature", token: parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])), want: token.ErrInvalid},
		{name: "HS256 with public key PEM", token: forge(hdr("HS256"), mc, pubPEM, ""), want: token.ErrInvalid},
		{name: "HS256 with public key DER", token: forge(hdr("HS256"), mc, pubDER, ""), want: token.ErrInvalid},
		{name: "HS256 with raw public key", token: forge(hdr("HS256"), mc, pubRaw, ""), want: token.ErrInvalid},
		{name: "HS256 with the published JWK", token: forge(hdr("HS256"), mc, jwkJSON, ""), want: token.ErrInvalid},
		{name: "HS256 with the published JWKS", token: forge(hdr("HS256"), mc, jwksDoc, ""), want: token.ErrInvalid},
		{name: "HS256 without kid", token: forge(map[string]any{"alg": "HS256", "typ": "JWT"}, mc, pubRaw, ""), want: token.ErrInvalid},
		{name: "embedded jwk", token: forge(hdr("HS256", "jwk", map[string]any{"kty": "oct", "k": "c2VjcmV0"}), mc, []byte("secret"), ""), want: token.ErrInvalid},
		{name: "embedded public jwk", token: signedWithHeader(t, other, good(), "jwk", json.RawMessage(mustJWK(t, other))), want: token.ErrForbiddenHeader},
		{name: "jku", token: signedWithHeader(t, other, good(), "jku", lure.URL+"/jwks.json"), want: token.ErrForbiddenHeader},
		{name: "jku with our kid", token: forge(hdr("EdDSA", "jku", lure.URL+"/jwks.json"), mc, nil, parts[2]), want: token.ErrForbiddenHeader},
		{name: "x5u", token: signedWithHeader(t, other, good(), "x5u", lure.URL+"/x5u"), want: token.ErrForbiddenHeader},
		{name: "x5c", token: signedWithHeader(t, other, good(), "x5c", []string{"MIIB"}), want: token.ErrForbiddenHeader},
		{name: "crit", token: forge(hdr("EdDSA", "crit", []string{"exp"}), mc, nil, parts[2]), want: token.ErrForbiddenHeader},
		{name: "unknown kid", token: signed(other, func(*token.Claims) {}), want: token.ErrUnknownKey},
		{name: "kid path traversal", token: forge(hdr("EdDSA", "kid", "../../etc/passwd"), mc, nil, parts[2]), want: token.ErrUnknownKey},
		{name: "kid SQL", token: forge(hdr("EdDSA", "kid", "' OR 1=1--"), mc, nil, parts[2]), want: token.ErrUnknownKey},
		{name: "kid URL", token: forge(hdr("EdDSA", "kid", lure.URL+"/jwks.json"), mc, nil, parts[2]), want: token.ErrUnknownKey},
		{name: "kid NUL", token: forge(hdr("EdDSA", "kid", ed.ID+"\x00"), mc, nil, parts[2]), want: token.ErrUnknownKey},
		{name: "kid empty", token: forge(hdr("EdDSA", "kid", ""), mc, nil, parts[2]), want: token.ErrUnknownKey},
		{name: "kid huge", token: forge(hdr("EdDSA", "kid", strings.Repeat("k", 4000)), mc, nil, parts[2]), want: token.ErrUnknownKey},
		{name: "kid number", token: forge(hdr("EdDSA", "kid", 7), mc, nil, parts[2]), want: token.ErrUnknownKey},
		{name: "kid object", token: forge(hdr("EdDSA", "kid", map[string]any{"$ne": ""}), mc, nil, parts[2]), want: token.ErrUnknownKey},
		{name: "typ JWT", token: forge(hdr("EdDSA", "typ", "JWT"), mc, nil, parts[2]), want: token.ErrWrongType},
		{name: "expired", token: signed(ed, func(c *token.Claims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute)) }), want: token.ErrExpired},
		{name: "no exp", token: signed(ed, func(c *token.Claims) { c.ExpiresAt = nil }), want: token.ErrInvalid},
		{name: "not yet valid", token: signed(ed, func(c *token.Claims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Minute)) }), want: token.ErrInvalid},
		{name: "issued in the future", token: signed(ed, func(c *token.Claims) { c.IssuedAt = jwt.NewNumericDate(now.Add(time.Minute)) }), want: token.ErrInvalid},
		{name: "wrong issuer", token: signed(ed, func(c *token.Claims) { c.Issuer = "http://evil" }), want: token.ErrIssuer},
		{name: "issuer with a trailing slash", token: signed(ed, func(c *token.Claims) { c.Issuer = iss.url + "/" }), want: token.ErrIssuer},
		{name: "no issuer", token: signed(ed, func(c *token.Claims) { c.Issuer = "" }), want: token.ErrInvalid},
		{name: "wrong audience", token: signed(ed, func(c *token.Claims) { c.Audience = jwt.ClaimStrings{"other"} }), want: token.ErrAudience},
		{name: "no audience", token: signed(ed, func(c *token.Claims) { c.Audience = nil }), want: token.ErrInvalid},
		{name: "oversized", token: signed(ed, func(c *token.Claims) { c.Name = strings.Repeat("a", token.MaxLen) }), want: token.ErrTooLarge},
		{name: "garbage", token: "not.a.jwt", want: token.ErrInvalid},
		{name: "empty", token: "", want: token.ErrInvalid},
		{name: "bad base64", token: "e30.e30.!!!", want: token.ErrInvalid},
	}
	static, err := NewStatic(ed, WithIssuer(iss.url), WithAudience("api"), WithLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	verifiers := map[string]*Verifier{
		"New":       mustNew(t, iss.url, WithAudience("api"), WithRevocationPolling(time.Hour)),
		"NewStatic": static,
	}
	for vname, v := range verifiers {
		h := v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t.Errorf("handler reached with %q", r.Header.Get("Authorization"))
		}))
		for _, tt := range tests {
			t.Run(vname+"/"+tt.name, func(t *testing.T) {
				c, err := v.Verify(context.Background(), tt.token)
				if err == nil {
					t.Fatalf("Verify(%s) = %+v, nil; want error", tt.name, c)
				}
				if !errors.Is(err, ErrUnauthenticated) || !errors.Is(err, tt.want) {
					t.Errorf("Verify(%s) = %v; want ErrUnauthenticated and %v", tt.name, err, tt.want)
				}
				w := httptest.NewRecorder()
				r := httptest.NewRequest("GET", "/", nil)
				r.Header.Set("Authorization", "Bearer "+tt.token)
				h.ServeHTTP(w, r)
				if w.Code != http.StatusUnauthorized || !strings.Contains(w.Header().Get("WWW-Authenticate"), `error="invalid_token"`) {
					t.Errorf("Handler(%s) = %d %q, want 401 with error=\"invalid_token\"", tt.name, w.Code, w.Header().Get("WWW-Authenticate"))
				}
			})
		}
		if _, err := v.Verify(context.Background(), goodTok); err != nil {
			t.Errorf("%s: Verify(good) = %v", vname, err)
		}
	}
	if n := followed.Load(); n != 0 {
		t.Errorf("the URLs in jku/x5u/kid got %d requests, want 0", n)
	}
	// The unknown kids asked for at most one refetch (New's own fetch is the
	// first request).
	if n := iss.jwksHits.Load(); n > 2 {
		t.Errorf("JWKS requests = %d, want at most 2", n)
	}
}

// signedWithHeader signs c with k (a real signature) and an extra header.
func signedWithHeader(t *testing.T, k *token.Key, c *token.Claims, name string, value any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	tok.Header["typ"] = "at+jwt"
	tok.Header["kid"] = k.ID
	tok.Header[name] = value
	s, err := tok.SignedString(mustPrivate(t, k))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustJWK(t *testing.T, k *token.Key) []byte {
	t.Helper()
	j, err := k.JWK()
	if err != nil {
		t.Fatal(err)
	}
	return j
}
