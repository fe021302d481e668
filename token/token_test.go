package token

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
	"github.com/golang-jwt/jwt/v5"
)

const issuer = "http://127.0.0.1:8000"

var epoch = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func claimsAt(now time.Time) *Claims {
	return &Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    issuer,
			Subject:   "1",
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(15 * time.Minute)),
			ID:        NewID(),
		},
		UserID: 1, Name: "admin", SessionID: NewID(), Roles: []string{"admin"},
	}
}

func mustGenerate(t testing.TB, alg string) *Key {
	t.Helper()
	k, err := Generate(alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func verifier(keys KeyLookup, algs []string, o VerifierOptions) *Verifier {
	if o.Now == nil {
		o.Now = func() time.Time { return epoch }
	}
	if o.Issuer == "" {
		o.Issuer = issuer
	}
	o.Leeway = 10 * time.Second
	return NewVerifier(keys, algs, o)
}

func TestSignVerifyRoundTrip(t *testing.T) {
	secret, err := Secret([]byte(strings.Repeat("s", 32)))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []*Key{mustGenerate(t, EdDSA), mustGenerate(t, ES256), mustGenerate(t, RS256), secret} {
		t.Run(k.Alg, func(t *testing.T) {
			c := claimsAt(epoch)
			raw, err := Sign(k, c)
			if err != nil {
				t.Fatal(err)
			}
			got, err := verifier(NewKeySet(k), []string{k.Alg}, VerifierOptions{}).Verify(raw)
			if err != nil {
				t.Fatalf("Verify(own %s token) = %v", k.Alg, err)
			}
			if got.Name != "admin" || got.UserID != 1 || got.SessionID != c.SessionID || got.ID != c.ID || len(got.Roles) != 1 {
				t.Errorf("Verify claims = %+v, want %+v", got, c)
			}
		})
	}
}

func TestKeyPersistence(t *testing.T) {
	for _, alg := range []string{EdDSA, ES256, RS256} {
		k := mustGenerate(t, alg)
		der, err := k.MarshalPrivate()
		if err != nil {
			t.Fatal(err)
		}
		k2, err := ParsePrivate("", alg, der)
		if err != nil {
			t.Fatal(err)
		}
		if k2.ID != k.ID {
			t.Errorf("%s: kid after reload = %q, want %q", alg, k2.ID, k.ID)
		}
		pub, _ := k.MarshalPublic()
		k3, err := ParsePublic(k.ID, alg, pub)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := Sign(k2, claimsAt(epoch))
		if _, err := verifier(NewKeySet(k3), []string{alg}, VerifierOptions{}).Verify(raw); err != nil {
			t.Errorf("%s: reloaded public key does not verify reloaded private key's token: %v", alg, err)
		}
		if k3.CanSign() {
			t.Errorf("%s: public-only key claims it can sign", alg)
		}
	}
	if _, err := ParsePrivate("", ES256, mustDER(t, mustGenerate(t, EdDSA))); err == nil {
		t.Error("ParsePrivate(ES256, ed25519 key) succeeded, want type error")
	}
}

func mustDER(t *testing.T, k *Key) []byte {
	der, err := k.MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestSecretTooShort(t *testing.T) {
	if _, err := Secret([]byte(strings.Repeat("s", 31))); err == nil {
		t.Error("Secret(31 bytes) succeeded, want error")
	}
}

// b64 encodes a JSON value as a JWS segment.
func b64(v any) string {
	j, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(j)
}

// forge builds a token from raw header and claims, signing with HS256 under
// key when key is not nil, else leaving sig as given.
func forge(header, claims map[string]any, key []byte, sig string) string {
	input := b64(header) + "." + b64(claims)
	if key != nil {
		s, _ := jwt.SigningMethodHS256.Sign(input, key)
		return input + "." + base64.RawURLEncoding.EncodeToString(s)
	}
	return input + "." + sig
}

func mapClaims(now time.Time) map[string]any {
	return map[string]any{"iss": issuer, "sub": "1", "id": 1, "name": "admin", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

// TestForgedTokens is the attack table: every row must be refused.
func TestForgedTokens(t *testing.T) {
	ed := mustGenerate(t, EdDSA)
	other := mustGenerate(t, EdDSA)
	pubDER, _ := ed.MarshalPublic()
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	pubRaw := []byte(ed.Public().(ed25519.PublicKey))
	jwkJSON, _ := json.Marshal(jose.JSONWebKey{Key: ed.Public(), KeyID: ed.ID, Algorithm: EdDSA})
	good, _ := Sign(ed, claimsAt(epoch))
	parts := strings.Split(good, ".")
	hdr := func(alg string, extra ...any) map[string]any {
		h := map[string]any{"alg": alg, "typ": "at+jwt", "kid": ed.ID}
		for i := 0; i+1 < len(extra); i += 2 {
			h[extra[i].(string)] = extra[i+1]
		}
		return h
	}
	signed := func(k *Key, mutate func(*Claims)) string {
		c := claimsAt(epoch)
		mutate(c)
		s, err := Sign(k, c)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	tests := []struct {
		name  string
		token string
		want  error
	}{
		{name: "alg none", token: forge(hdr("none"), mapClaims(epoch), nil, ""), want: ErrInvalid},
		{name: "alg None", token: forge(hdr("None"), mapClaims(epoch), nil, ""), want: ErrInvalid},
		{name: "alg NONE", token: forge(hdr("NONE"), mapClaims(epoch), nil, ""), want: ErrInvalid},
		{name: "alg nOnE", token: forge(hdr("nOnE"), mapClaims(epoch), nil, ""), want: ErrInvalid},
		{name: "stripped signature", token: parts[0] + "." + parts[1] + ".", want: ErrInvalid},
		{name: "two segments", token: parts[0] + "." + parts[1], want: ErrInvalid},
		{name: "tampered payload", token: parts[0] + "." + b64(map[string]any{"name": "root", "id": 2, "exp": epoch.Add(time.Hour).Unix()}) + "." + parts[2], want: ErrInvalid},
		{name: "tampered signature", token: parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2])), want: ErrInvalid},
		{name: "HS256 with public key PEM", token: forge(hdr("HS256"), mapClaims(epoch), pubPEM, ""), want: ErrInvalid},
		{name: "HS256 with public key DER", token: forge(hdr("HS256"), mapClaims(epoch), pubDER, ""), want: ErrInvalid},
		{name: "HS256 with raw public key", token: forge(hdr("HS256"), mapClaims(epoch), pubRaw, ""), want: ErrInvalid},
		{name: "HS256 with public JWK JSON", token: forge(hdr("HS256"), mapClaims(epoch), jwkJSON, ""), want: ErrInvalid},
		{name: "embedded jwk", token: forge(hdr("HS256", "jwk", map[string]any{"kty": "oct", "k": "c2VjcmV0"}), mapClaims(epoch), []byte("secret"), ""), want: ErrInvalid},
		{name: "jku", token: forge(hdr("EdDSA", "jku", "http://127.0.0.1:1/jwks"), mapClaims(epoch), nil, parts[2]), want: ErrForbiddenHeader},
		{name: "x5u", token: forge(hdr("EdDSA", "x5u", "http://127.0.0.1:1/x5u"), mapClaims(epoch), nil, parts[2]), want: ErrForbiddenHeader},
		{name: "crit", token: forge(hdr("EdDSA", "crit", []string{"exp"}), mapClaims(epoch), nil, parts[2]), want: ErrForbiddenHeader},
		{name: "unknown kid", token: signed(other, func(*Claims) {}), want: ErrUnknownKey},
		{name: "kid path traversal", token: forge(hdr("EdDSA", "kid", "../../etc/passwd"), mapClaims(epoch), nil, parts[2]), want: ErrUnknownKey},
		{name: "kid SQL", token: forge(hdr("EdDSA", "kid", "' OR 1=1--"), mapClaims(epoch), nil, parts[2]), want: ErrUnknownKey},
		{name: "kid number", token: forge(hdr("EdDSA", "kid", 7), mapClaims(epoch), nil, parts[2]), want: ErrUnknownKey},
		{name: "typ JWT", token: forge(hdr("EdDSA", "typ", "JWT"), mapClaims(epoch), nil, parts[2]), want: ErrWrongType},
		{name: "expired", token: signed(ed, func(c *Claims) { c.ExpiresAt = jwt.NewNumericDate(epoch.Add(-time.Minute)) }), want: ErrExpired},
		{name: "no exp", token: signed(ed, func(c *Claims) { c.ExpiresAt = nil }), want: ErrInvalid},
		{name: "not yet valid", token: signed(ed, func(c *Claims) { c.NotBefore = jwt.NewNumericDate(epoch.Add(time.Minute)) }), want: ErrInvalid},
		{name: "issued in the future", token: signed(ed, func(c *Claims) { c.IssuedAt = jwt.NewNumericDate(epoch.Add(time.Minute)) }), want: ErrInvalid},
		{name: "wrong issuer", token: signed(ed, func(c *Claims) { c.Issuer = "http://evil" }), want: ErrIssuer},
		{name: "no issuer", token: signed(ed, func(c *Claims) { c.Issuer = "" }), want: ErrInvalid},
		{name: "oversized", token: signed(ed, func(c *Claims) { c.Name = strings.Repeat("a", MaxLen) }), want: ErrTooLarge},
		{name: "garbage", token: "not.a.jwt", want: ErrInvalid},
		{name: "empty", token: "", want: ErrInvalid},
		{name: "bad base64", token: "e30.e30.!!!", want: ErrInvalid},
	}
	v := verifier(NewKeySet(ed), []string{EdDSA}, VerifierOptions{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := v.Verify(tt.token)
			if err == nil {
				t.Fatalf("Verify(%s) = %+v, nil; want error", tt.name, c)
			}
			if !errors.Is(err, ErrInvalid) || !errors.Is(err, tt.want) {
				t.Errorf("Verify(%s) = %v; want %v", tt.name, err, tt.want)
			}
		})
	}
	if _, err := v.Verify(good); err != nil {
		t.Fatalf("Verify(good) = %v", err)
	}
	// Even a verifier that accepts HS256 for some key (a mixed key set) must
	// not let an HS256 token borrow an EdDSA key: the key pins the algorithm.
	mixed := verifier(NewKeySet(ed), []string{EdDSA, HS256}, VerifierOptions{})
	for _, key := range [][]byte{pubPEM, pubDER, pubRaw, jwkJSON} {
		if _, err := mixed.Verify(forge(hdr("HS256"), mapClaims(epoch), key, "")); !errors.Is(err, ErrAlgMismatch) {
			t.Errorf("Verify(HS256 signed with public key %.20q) = %v, want ErrAlgMismatch", key, err)
		}
	}
	if _, err := mixed.Verify(forge(hdr("HS256", "jwk", map[string]any{"kty": "oct", "k": "c2VjcmV0"}), mapClaims(epoch), []byte("secret"), "")); !errors.Is(err, ErrForbiddenHeader) {
		t.Errorf("Verify(embedded jwk) = %v, want ErrForbiddenHeader", err)
	}
}

func TestAudience(t *testing.T) {
	ed := mustGenerate(t, EdDSA)
	v := verifier(NewKeySet(ed), []string{EdDSA}, VerifierOptions{Audience: "api"})
	for _, tt := range []struct {
		aud []string
		ok  bool
	}{{nil, false}, {[]string{"other"}, false}, {[]string{"api"}, true}, {[]string{"x", "api"}, true}} {
		c := claimsAt(epoch)
		c.Audience = tt.aud
		raw, _ := Sign(ed, c)
		if _, err := v.Verify(raw); (err == nil) != tt.ok {
			t.Errorf("Verify(aud=%v) = %v, want ok=%v", tt.aud, err, tt.ok)
		}
	}
}

// TestTutorialInterop checks both directions against go-jose, an independent
// JOSE implementation: the tutorial's PyJWT decode of our HS256 tokens is
// modelled by go-jose with the same rules (HS256 only, exp checked, no aud
// expected), and tokens minted the tutorial's way ({"id","name","exp"}, typ
// JWT, no iss) must pass our verifier in shared-secret mode.
func TestTutorialInterop(t *testing.T) {
	secret := []byte("a-shared-secret-of-at-least-32-bytes!")
	key, err := Secret(secret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	// jwtgate -> tutorial
	raw, err := Sign(key, claimsAt(now))
	if err != nil {
		t.Fatal(err)
	}
	tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.HS256})
	if err != nil {
		t.Fatalf("go-jose parse of jwtgate HS256 token: %v", err)
	}
	var std josejwt.Claims
	var custom struct {
		ID   int64  `json:"id"`
		Name string `json:"name"`
	}
	if err := tok.Claims(secret, &std, &custom); err != nil {
		t.Fatalf("go-jose verify of jwtgate HS256 token: %v", err)
	}
	if err := std.Validate(josejwt.Expected{Time: now}); err != nil {
		t.Fatalf("go-jose validate: %v", err)
	}
	if len(std.Audience) != 0 {
		t.Errorf("token carries aud %v without --audience: PyJWT would reject it", std.Audience)
	}
	if custom.Name != "admin" || custom.ID != 1 {
		t.Errorf("tutorial claims = %+v, want id 1 name admin", custom)
	}
	// tutorial -> jwtgate
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		t.Fatal(err)
	}
	minted, err := josejwt.Signed(sig).Claims(map[string]any{"id": 1, "name": "admin", "exp": now.Add(24 * time.Hour).Unix()}).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	v := NewVerifier(NewKeySet(key), []string{HS256}, VerifierOptions{Issuer: issuer, AllowMissingIssuerAndType: true, Leeway: time.Second})
	c, err := v.Verify(minted)
	if err != nil {
		t.Fatalf("Verify(tutorial-minted token) = %v", err)
	}
	if c.Name != "admin" || c.UserID != 1 {
		t.Errorf("claims = %+v, want id 1 name admin", c)
	}
	// Lax mode still checks iss when present, and still requires exp.
	wrongIss, _ := josejwt.Signed(sig).Claims(map[string]any{"iss": "http://evil", "name": "x", "exp": now.Add(time.Hour).Unix()}).Serialize()
	if _, err := v.Verify(wrongIss); !errors.Is(err, ErrIssuer) {
		t.Errorf("Verify(lax, wrong iss) = %v, want ErrIssuer", err)
	}
	noExp, _ := josejwt.Signed(sig).Claims(map[string]any{"name": "x"}).Serialize()
	if _, err := v.Verify(noExp); err == nil {
		t.Error("Verify(lax, no exp) succeeded")
	}
}

// TestAsymmetricInterop verifies our tokens with go-jose for every algorithm.
func TestAsymmetricInterop(t *testing.T) {
	for _, alg := range []string{EdDSA, ES256, RS256} {
		t.Run(alg, func(t *testing.T) {
			k := mustGenerate(t, alg)
			raw, _ := Sign(k, claimsAt(time.Now()))
			tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatal(err)
			}
			if tok.Headers[0].KeyID != k.ID {
				t.Errorf("kid = %q, want %q", tok.Headers[0].KeyID, k.ID)
			}
			var std josejwt.Claims
			if err := tok.Claims(k.Public(), &std); err != nil {
				t.Fatalf("go-jose verify: %v", err)
			}
			if std.Issuer != issuer || std.Subject != "1" {
				t.Errorf("claims = %+v", std)
			}
		})
	}
}

func FuzzVerify(f *testing.F) {
	ed, _ := Generate(EdDSA)
	good, _ := Sign(ed, claimsAt(epoch))
	f.Add(good)
	f.Add("")
	f.Add("a.b.c")
	f.Add(forge(map[string]any{"alg": "none"}, mapClaims(epoch), nil, ""))
	f.Add(forge(map[string]any{"alg": "HS256", "kid": ed.ID}, mapClaims(epoch), []byte("k"), ""))
	hdr := fmt.Sprintf(`{"alg":"EdDSA","typ":"at+jwt","kid":%q}`, ed.ID)
	for _, payload := range []string{
		fmt.Sprintf(`{"iss":%q,"sub":"1","exp":"%d"}`, issuer, epoch.Add(time.Hour).Unix()),
		fmt.Sprintf(`{"iss":%q,"sub":1,"exp":%d}`, issuer, epoch.Add(time.Hour).Unix()),
		fmt.Sprintf(`{"iss":%q,"sub":"1","exp":%d,"name":"a","NAME":"b"}`, issuer, epoch.Add(time.Hour).Unix()),
		fmt.Sprintf(`{"iss":%q,"sub":"1","exp":%d,"name":"a","name":"b"}`, issuer, epoch.Add(time.Hour).Unix()),
	} {
		f.Add(signRaw(f, ed, hdr, payload))
	}
	v := verifier(NewKeySet(ed), []string{EdDSA}, VerifierOptions{})
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := v.Verify(raw)
		if err != nil {
			return
		}
		// Property: anything accepted re-verifies as a token signed by ed;
		// so re-signing its claims must give a token that verifies too, and
		// its alg must be EdDSA.
		if p := strings.Split(raw, "."); len(p) != 3 {
			t.Fatalf("accepted token with %d segments", len(p))
		}
		if c.ExpiresAt == nil {
			t.Fatal("accepted token without exp")
		}
		hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
		var h map[string]any
		if json.Unmarshal(hdr, &h) != nil || h["alg"] != EdDSA {
			t.Fatalf("accepted token with header %s", hdr)
		}
		// Property: registered claims have their RFC 7519 JSON types.
		payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[1])
		var p map[string]any
		if err := json.Unmarshal(payload, &p); err != nil {
			t.Fatalf("accepted token with payload %s: %v", payload, err)
		}
		for name, kind := range claimKinds {
			v, ok := p[name]
			if !ok {
				continue
			}
			if _, isNum := v.(float64); kind == kindNumber && !isNum {
				t.Fatalf("accepted %s = %#v, not a number", name, v)
			}
			if _, isStr := v.(string); kind == kindString && !isStr {
				t.Fatalf("accepted %s = %#v, not a string", name, v)
			}
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	secret, _ := Secret([]byte(strings.Repeat("s", 32)))
	for _, k := range []*Key{mustGenerate(b, EdDSA), mustGenerate(b, ES256), mustGenerate(b, RS256), secret} {
		raw, _ := Sign(k, claimsAt(time.Now()))
		v := NewVerifier(NewKeySet(k), []string{k.Alg}, VerifierOptions{Issuer: issuer})
		b.Run(k.Alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkEd25519 is the signature check alone, without parsing or
// claims: what a verified-token cache hit saves per request.
func BenchmarkEd25519(b *testing.B) {
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	msg := []byte(strings.Repeat("eyJhbGciOiJFZERTQSJ9.", 12))
	sig := ed25519.Sign(priv, msg)
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("signature refused")
		}
	}
}

func BenchmarkSign(b *testing.B) {
	secret, _ := Secret([]byte(strings.Repeat("s", 32)))
	for _, k := range []*Key{mustGenerate(b, EdDSA), mustGenerate(b, ES256), mustGenerate(b, RS256), secret} {
		c := claimsAt(time.Now())
		b.Run(k.Alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Sign(k, c); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
