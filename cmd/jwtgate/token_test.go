package main

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/seal"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/token"
)

// tokenStore is a store with a signing key, as a server's first start
// leaves it, for `token inspect` to check tokens against.
type tokenStore struct {
	url    string // --db
	db     *sqlite.DB
	ring   *auth.Keyring
	signer *token.Key
	priv   ed25519.PrivateKey // the signer's private key, for hand-made tokens
}

func newTokenStore(t testing.TB, o auth.KeyringOptions) *tokenStore {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if o.Alg == "" {
		o.Alg = token.EdDSA
	}
	if o.TokenLifetime == 0 {
		o.TokenLifetime = auth.DefaultAccessTTL + auth.Leeway
	}
	ring, err := auth.NewKeyring(context.Background(), db, o)
	if err != nil {
		t.Fatal(err)
	}
	ts := &tokenStore{url: "sqlite:" + path, db: db, ring: ring, signer: ring.Signer()}
	der, err := ts.signer.MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	ts.priv = priv.(ed25519.PrivateKey)
	return ts
}

// claimsAt are the claims of a fresh access token as the server issues it.
func claimsAt(now time.Time) *token.Claims {
	return &token.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: "https://auth.example.com", Subject: "1",
			ExpiresAt: jwt.NewNumericDate(now.Add(15 * time.Minute)), IssuedAt: jwt.NewNumericDate(now),
			ID: token.NewID(),
		},
		UserID: 1, Name: "alice", SessionID: token.NewID(), Roles: []string{"admin"},
	}
}

func sign(t testing.TB, k *token.Key, c *token.Claims) string {
	t.Helper()
	s, err := token.Sign(k, c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func b64json(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// handMade builds a token with any header and claims; signFn signs the
// signing input (header.claims).
func handMade(t testing.TB, header map[string]any, claims any, signFn func([]byte) []byte) string {
	t.Helper()
	input := b64json(t, header) + "." + b64json(t, claims)
	return input + "." + base64.RawURLEncoding.EncodeToString(signFn([]byte(input)))
}

func (ts *tokenStore) ed25519(b []byte) []byte { return ed25519.Sign(ts.priv, b) }

// inspectJSON is the --json output of token inspect.
type inspectJSON struct {
	Header  map[string]any `json:"header"`
	Claims  map[string]any `json:"claims"`
	Valid   bool           `json:"valid"`
	Revoked bool           `json:"revoked"`
	Reason  string         `json:"reason"`
	Detail  string         `json:"detail"`
}

func codeOf(err error) int {
	if err == nil {
		return 0
	}
	return exitCode(err)
}

func TestTokenInspect(t *testing.T) {
	ctx := context.Background()
	ts := newTokenStore(t, auth.KeyringOptions{})
	now := time.Now()
	kid := ts.signer.ID

	foreign, err := token.Generate(token.EdDSA)
	if err != nil {
		t.Fatal(err)
	}
	foreignDER, _ := foreign.MarshalPrivate()
	impostor, err := token.ParsePrivate(kid, token.EdDSA, foreignDER) // another key claiming the store key's kid
	if err != nil {
		t.Fatal(err)
	}
	pubDER, _ := ts.signer.MarshalPublic()
	es256, err := token.Generate(token.ES256)
	if err != nil {
		t.Fatal(err)
	}

	with := func(f func(c *token.Claims)) *token.Claims { c := claimsAt(now); f(c); return c }
	atHeader := func(extra map[string]any) map[string]any {
		h := map[string]any{"alg": "EdDSA", "kid": kid, "typ": "at+jwt"}
		for k, v := range extra {
			h[k] = v
		}
		return h
	}
	valid := sign(t, ts.signer, claimsAt(now))
	parts := strings.Split(valid, ".")
	var payload map[string]any
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	_ = json.Unmarshal(b, &payload)
	payload["roles"] = []string{"admin", "root"}
	tampered := parts[0] + "." + b64json(t, payload) + "." + parts[2]

	// A revoked session: the token is correctly signed, and refused.
	u := &jwtgate.User{Name: "alice", PasswordHash: "x", CreatedAt: now, UpdatedAt: now}
	if err := ts.db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	sess := &jwtgate.Session{ID: token.NewID(), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour), LastUsedAt: now}
	if err := ts.db.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.db.RevokeSessions(ctx, jwtgate.SessionFilter{ID: sess.ID}, now, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	revokedJTI := token.NewID()
	if err := ts.db.RevokeToken(ctx, revokedJTI, now.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name        string
		token       string
		args        []string
		wantCode    int
		wantReason  string // --json "reason"
		wantRevoked bool
		wantVerdict string // substring of the "verdict:" line
	}{
		{name: "valid", token: valid, wantVerdict: "VALID"},
		{name: "valid with right issuer", token: valid, args: []string{"--issuer", "https://auth.example.com"}, wantVerdict: "VALID"},
		{name: "expired", token: sign(t, ts.signer, with(func(c *token.Claims) {
			c.IssuedAt, c.ExpiresAt = jwt.NewNumericDate(now.Add(-3*time.Hour)), jwt.NewNumericDate(now.Add(-3*time.Hour+15*time.Minute))
		})), wantCode: 1, wantReason: reasonExpired, wantVerdict: "INVALID: expired"},
		{name: "nbf in the future", token: sign(t, ts.signer, with(func(c *token.Claims) {
			c.NotBefore, c.ExpiresAt = jwt.NewNumericDate(now.Add(time.Hour)), jwt.NewNumericDate(now.Add(2*time.Hour))
		})), wantCode: 1, wantReason: reasonNotYetValid, wantVerdict: "INVALID: not yet valid: nbf"},
		{name: "issued in the future", token: sign(t, ts.signer, with(func(c *token.Claims) {
			c.IssuedAt, c.ExpiresAt = jwt.NewNumericDate(now.Add(time.Hour)), jwt.NewNumericDate(now.Add(2*time.Hour))
		})), wantCode: 1, wantReason: reasonNotYetValid, wantVerdict: "issued in the future"},
		{name: "nbf in the future, bad signature", token: handMade(t, atHeader(nil), with(func(c *token.Claims) {
			c.NotBefore, c.ExpiresAt = jwt.NewNumericDate(now.Add(time.Hour)), jwt.NewNumericDate(now.Add(2*time.Hour))
		}), func(b []byte) []byte { return ed25519.Sign(foreignKey(t, foreignDER), b) }),
			wantCode: 1, wantReason: reasonBadSignature, wantVerdict: "INVALID: bad signature"},
		{name: "foreign key", token: sign(t, foreign, claimsAt(now)),
			wantCode: 1, wantReason: reasonUnknownKey, wantVerdict: "INVALID: unknown key: no key \"" + foreign.ID + "\" in the store"},
		{name: "foreign key with the store's kid", token: sign(t, impostor, claimsAt(now)),
			wantCode: 1, wantReason: reasonBadSignature, wantVerdict: "INVALID: bad signature"},
		{name: "ES256 key with the store's kid", token: handMade(t, map[string]any{"alg": "ES256", "kid": kid, "typ": "at+jwt"}, claimsAt(now),
			func(b []byte) []byte {
				s, _ := jwt.SigningMethodES256.Sign(string(b), es256PrivateKey(t, es256))
				return s
			}),
			wantCode: 1, wantReason: reasonAlgMismatch, wantVerdict: "algorithm does not match the key: token says ES256, key \"" + kid + "\" is EdDSA"},
		{name: "HS256 with the public key as secret", token: handMade(t, atHeader(map[string]any{"alg": "HS256"}), claimsAt(now),
			func(b []byte) []byte { m := hmac.New(sha256.New, pubDER); m.Write(b); return m.Sum(nil) }),
			wantCode: 1, wantReason: reasonAlgMismatch, wantVerdict: "INVALID: algorithm does not match the key: token says HS256"},
		{name: "alg none", token: handMade(t, atHeader(map[string]any{"alg": "none"}), claimsAt(now), func([]byte) []byte { return nil }),
			wantCode: 1, wantReason: reasonAlgMismatch, wantVerdict: "token says none"},
		{name: "tampered payload", token: tampered, wantCode: 1, wantReason: reasonBadSignature, wantVerdict: "INVALID: bad signature"},
		{name: "jku header", token: handMade(t, atHeader(map[string]any{"jku": "https://evil.example/jwks.json"}), claimsAt(now), ts.ed25519),
			wantCode: 1, wantReason: reasonForbiddenHeader, wantVerdict: "INVALID: forbidden header jku"},
		{name: "jwk header with HS256", token: handMade(t, atHeader(map[string]any{"alg": "HS256", "jwk": map[string]any{"kty": "oct", "k": "c2VjcmV0"}}), claimsAt(now),
			func(b []byte) []byte { m := hmac.New(sha256.New, []byte("secret")); m.Write(b); return m.Sum(nil) }),
			wantCode: 1, wantReason: reasonForbiddenHeader, wantVerdict: "INVALID: forbidden header jwk"},
		{name: "crit header", token: handMade(t, atHeader(map[string]any{"crit": []string{"exp"}}), claimsAt(now), ts.ed25519),
			wantCode: 1, wantReason: reasonForbiddenHeader, wantVerdict: "forbidden header crit"},
		{name: "wrong issuer", token: valid, args: []string{"--issuer", "https://other.example.com"},
			wantCode: 1, wantReason: reasonIssuer, wantVerdict: `INVALID: wrong issuer: "https://auth.example.com", want "https://other.example.com"`},
		{name: "no issuer, --issuer given", token: sign(t, ts.signer, with(func(c *token.Claims) { c.Issuer = "" })), args: []string{"--issuer", "https://auth.example.com"},
			wantCode: 1, wantReason: reasonIssuer, wantVerdict: "INVALID: wrong issuer: none"},
		{name: "wrong issuer, not checked", token: sign(t, ts.signer, with(func(c *token.Claims) { c.Issuer = "https://elsewhere" })), wantVerdict: "VALID"},
		{name: "right audience", token: sign(t, ts.signer, with(func(c *token.Claims) { c.Audience = jwt.ClaimStrings{"api"} })), args: []string{"--audience", "api"}, wantVerdict: "VALID"},
		{name: "wrong audience", token: sign(t, ts.signer, with(func(c *token.Claims) { c.Audience = jwt.ClaimStrings{"api"} })), args: []string{"--audience", "billing"},
			wantCode: 1, wantReason: reasonAudience, wantVerdict: `INVALID: wrong audience: "api", want "billing"`},
		{name: "no audience, --audience given", token: valid, args: []string{"--audience", "billing"},
			wantCode: 1, wantReason: reasonAudience, wantVerdict: "INVALID: wrong audience: none"},
		{name: "typ JWT", token: handMade(t, atHeader(map[string]any{"typ": "JWT"}), claimsAt(now), ts.ed25519),
			wantCode: 1, wantReason: reasonWrongType, wantVerdict: `INVALID: wrong type: typ JWT, want at+jwt`},
		{name: "no kid", token: handMade(t, map[string]any{"alg": "EdDSA", "typ": "at+jwt"}, claimsAt(now), ts.ed25519),
			wantCode: 1, wantReason: reasonUnknownKey, wantVerdict: "unknown key: the token has no kid"},
		{name: "kid not a string", token: handMade(t, atHeader(map[string]any{"kid": 7}), claimsAt(now), ts.ed25519),
			wantCode: 1, wantReason: reasonUnknownKey, wantVerdict: "kid is not a string"},
		{name: "no exp", token: sign(t, ts.signer, with(func(c *token.Claims) { c.ExpiresAt = nil })),
			wantCode: 1, wantReason: reasonMalformed, wantVerdict: "INVALID: malformed: no exp claim"},
		{name: "revoked session", token: sign(t, ts.signer, with(func(c *token.Claims) { c.SessionID = sess.ID })),
			wantCode: 1, wantReason: reasonRevoked, wantRevoked: true, wantVerdict: "REVOKED: its session (sid \"" + sess.ID + "\") has ended"},
		{name: "revoked jti", token: sign(t, ts.signer, with(func(c *token.Claims) { c.ID = revokedJTI })),
			wantCode: 1, wantReason: reasonRevoked, wantRevoked: true, wantVerdict: "REVOKED: the token (jti"},
		{name: "revoked and tampered", token: handMade(t, atHeader(nil), with(func(c *token.Claims) { c.SessionID = sess.ID }), func(b []byte) []byte { return ed25519.Sign(foreignKey(t, foreignDER), b) }),
			wantCode: 1, wantReason: reasonBadSignature, wantRevoked: true, wantVerdict: "INVALID: bad signature"},
		{name: "empty", token: "", wantCode: 1, wantReason: reasonMalformed, wantVerdict: "INVALID: malformed: empty token"},
		{name: "two parts", token: "a.b", wantCode: 1, wantReason: reasonMalformed, wantVerdict: "INVALID: malformed: 2 dot-separated parts"},
		{name: "10 KiB of garbage", token: strings.Repeat("garbage!", 1280), wantCode: 1, wantReason: reasonMalformed, wantVerdict: "INVALID: malformed: 10240 bytes"},
		{name: "invalid base64", token: "!!!.???.###", wantCode: 1, wantReason: reasonMalformed, wantVerdict: "INVALID: malformed: header is not base64url"},
		{name: "header not JSON", token: "bm90IGpzb24." + parts[1] + "." + parts[2], wantCode: 1, wantReason: reasonMalformed, wantVerdict: "header is not a JSON object"},
		{name: "claims an array", token: parts[0] + "." + b64json(t, []int{1}) + "." + parts[2], wantCode: 1, wantReason: reasonMalformed, wantVerdict: "claims are not a JSON object"},
		{name: "exp a string", token: parts[0] + "." + b64json(t, map[string]any{"exp": "soon"}) + "." + parts[2], wantCode: 1, wantReason: reasonMalformed, wantVerdict: "malformed: claim"},
		{name: "signature not base64url", token: parts[0] + "." + parts[1] + ".***", wantCode: 1, wantReason: reasonMalformed, wantVerdict: "signature is not base64url"},
		{name: "escape sequences in a claim", token: sign(t, ts.signer, with(func(c *token.Claims) { c.Name = "\x1b[2J\x1b]0;pwned\x07" })), wantVerdict: "VALID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Through standard input, as the help recommends.
			args := append([]string{"token", "inspect", "-", "--db", ts.url}, tt.args...)
			r := runCLI(t, tt.token+"\n", nil, args...)
			if got := codeOf(r.err); got != tt.wantCode {
				t.Errorf("token inspect (%s): exit %d (%v), want %d\n%s", tt.name, got, r.err, tt.wantCode, r.stdout)
			}
			verdict := r.stdout[strings.LastIndex(r.stdout, "verdict: "):]
			if !strings.Contains(r.stdout, "verdict: ") || !strings.Contains(verdict, tt.wantVerdict) {
				t.Errorf("token inspect (%s) printed\n%s\nwant a verdict containing %q", tt.name, r.stdout, tt.wantVerdict)
			}
			if strings.ContainsRune(r.stdout, '\x1b') || strings.ContainsRune(r.stdout, '\x07') {
				t.Errorf("token inspect (%s) wrote control characters from the token:\n%q", tt.name, r.stdout)
			}
			if p := strings.Split(tt.token, "."); len(p) == 3 && len(p[2]) >= 16 {
				if strings.Contains(r.stdout, p[2]) || strings.Contains(r.stdout, tt.token) {
					t.Errorf("token inspect (%s) printed the signature:\n%s", tt.name, r.stdout)
				}
			}

			// The same as JSON, from the command line.
			args = append([]string{"token", "inspect", "--json", "--db", ts.url}, tt.args...)
			r = runCLI(t, "", nil, append(args, "--", tt.token)...)
			if got := codeOf(r.err); got != tt.wantCode {
				t.Errorf("token inspect --json (%s): exit %d (%v), want %d", tt.name, got, r.err, tt.wantCode)
			}
			var out inspectJSON
			if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
				t.Fatalf("token inspect --json (%s) printed %q: %v", tt.name, r.stdout, err)
			}
			wantValid := tt.wantCode == 0 || tt.wantReason == reasonRevoked
			if out.Valid != wantValid || out.Revoked != tt.wantRevoked || out.Reason != tt.wantReason {
				t.Errorf("token inspect --json (%s) = valid %v, revoked %v, reason %q (%s); want %v, %v, %q",
					tt.name, out.Valid, out.Revoked, out.Reason, out.Detail, wantValid, tt.wantRevoked, tt.wantReason)
			}
		})
	}

	// Every claim is shown, times as RFC3339 and relative.
	r := runCLI(t, valid, nil, "token", "inspect", "-", "--db", ts.url)
	for _, want := range []string{"alg  EdDSA", "kid  " + kid, "typ  at+jwt", "iss    https://auth.example.com", "name   alice", `roles  ["admin"]`,
		"exp    " + now.Add(15*time.Minute).UTC().Format(time.RFC3339) + " (in 1", "iat    " + now.UTC().Format(time.RFC3339) + " (", "not checked: iss (give --issuer)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("token inspect printed\n%s\nwant it to contain %q", r.stdout, want)
		}
	}
	r = runCLI(t, "", nil, "token", "inspect", "--json", "--db", ts.url, valid)
	var out inspectJSON
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil || out.Header["kid"] != kid || out.Claims["name"] != "alice" || out.Claims["exp"] == nil {
		t.Errorf("token inspect --json = %s (%v); want header.kid %s, claims.name alice, claims.exp", r.stdout, err, kid)
	}
}

func foreignKey(t testing.TB, der []byte) ed25519.PrivateKey {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	return k.(ed25519.PrivateKey)
}

func es256PrivateKey(t testing.TB, k *token.Key) any {
	der, err := k.MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	p, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestTokenInspectRetiredKey: a key whose tokens have all expired no
// longer verifies, and the reason says so rather than "not in the store".
func TestTokenInspectRetiredKey(t *testing.T) {
	past := time.Now().Add(-3 * time.Hour)
	ts := newTokenStore(t, auth.KeyringOptions{PublishDelay: time.Minute, Now: func() time.Time { return past }})
	old := ts.signer
	if _, err := ts.ring.Rotate(context.Background()); err != nil {
		t.Fatal(err)
	}
	// A token that would still be within its lifetime, but from a key that
	// retired hours ago (as a forger holding a leaked old key would make).
	tok := sign(t, old, claimsAt(time.Now()))
	r := runCLI(t, tok, nil, "token", "inspect", "-", "--db", ts.url)
	if codeOf(r.err) != 1 || !strings.Contains(r.stdout, "INVALID: unknown key: key \""+old.ID+"\" retired") || !strings.Contains(r.stdout, "every token it signed has expired") {
		t.Errorf("token inspect (retired key) = %v\n%s\nwant exit 1 and unknown key: retired", r.err, r.stdout)
	}
	// With a long enough --access-ttl the key still verifies.
	r = runCLI(t, tok, nil, "token", "inspect", "-", "--db", ts.url, "--access-ttl", "24h")
	if r.err != nil || !strings.Contains(r.stdout, "verdict: VALID") {
		t.Errorf("token inspect --access-ttl 24h (retired key) = %v\n%s\nwant VALID", r.err, r.stdout)
	}
}

// TestTokenInspectSharedSecret: with JWTGATE_JWT_SECRET set, tokens are
// checked as the HS256 server checks them, the tutorial's included.
func TestTokenInspectSharedSecret(t *testing.T) {
	ts := newTokenStore(t, auth.KeyringOptions{})
	const secret = "0123456789abcdef0123456789abcdef"
	key, err := token.Secret([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	other, _ := token.Secret([]byte(strings.Repeat("z", 32)))
	now := time.Now()
	hs := func(b []byte) []byte { m := hmac.New(sha256.New, []byte(secret)); m.Write(b); return m.Sum(nil) }
	tutorial := handMade(t, map[string]any{"alg": "HS256", "typ": "JWT"}, map[string]any{"id": 1, "name": "admin", "exp": now.Add(time.Hour).Unix()}, hs)
	tests := []struct {
		name, token, env string
		args             []string
		wantCode         int
		wantVerdict      string
	}{
		{name: "ours", token: sign(t, key, claimsAt(now)), env: "JWTGATE_JWT_SECRET=" + secret, wantVerdict: "VALID"},
		{name: "tutorial's", token: tutorial, env: "JWTGATE_JWT_SECRET=" + secret, wantVerdict: "VALID"},
		{name: "tutorial's, secret from jwt_secret", token: tutorial, env: "jwt_secret=" + secret, wantVerdict: "VALID"},
		{name: "tutorial's with --issuer", token: tutorial, env: "JWTGATE_JWT_SECRET=" + secret, args: []string{"--issuer", "https://auth.example.com"}, wantVerdict: "VALID"},
		{name: "another secret", token: sign(t, other, claimsAt(now)), env: "JWTGATE_JWT_SECRET=" + secret, wantCode: 1, wantVerdict: "INVALID: bad signature"},
		{name: "EdDSA in HS256 mode", token: sign(t, ts.signer, claimsAt(now)), env: "JWTGATE_JWT_SECRET=" + secret, wantCode: 1,
			wantVerdict: "INVALID: algorithm does not match the key: token says EdDSA; with JWTGATE_JWT_SECRET set, only HS256 is accepted"},
		{name: "HS256 without the secret", token: tutorial, wantCode: 1, wantVerdict: "INVALID: algorithm does not match the key"},
		{name: "secret too short", token: tutorial, env: "JWTGATE_JWT_SECRET=short", wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var env []string
			if tt.env != "" {
				env = []string{tt.env}
			}
			r := runCLI(t, tt.token, env, append([]string{"token", "inspect", "-", "--db", ts.url}, tt.args...)...)
			if got := codeOf(r.err); got != tt.wantCode || got != 2 && !strings.Contains(r.stdout, "verdict: "+tt.wantVerdict) {
				t.Errorf("token inspect (%s) = exit %d (%v)\n%s\nwant exit %d, verdict %q", tt.name, got, r.err, r.stdout, tt.wantCode, tt.wantVerdict)
			}
			if strings.Contains(r.stdout, secret) || r.err != nil && strings.Contains(r.err.Error(), secret) {
				t.Errorf("token inspect (%s) shows the secret", tt.name)
			}
		})
	}
}

// TestTokenInspectSealedKeys: keys sealed with JWTGATE_KEY_ENCRYPTION_KEY
// are opened with it, and without it inspect is a configuration error.
func TestTokenInspectSealedKeys(t *testing.T) {
	raw := make([]byte, 32)
	rand.Read(raw)
	kek := base64.StdEncoding.EncodeToString(raw)
	sealer, err := seal.Parse(kek)
	if err != nil {
		t.Fatal(err)
	}
	ts := newTokenStore(t, auth.KeyringOptions{Sealer: sealer})
	tok := sign(t, ts.signer, claimsAt(time.Now()))
	r := runCLI(t, tok, []string{"JWTGATE_KEY_ENCRYPTION_KEY=" + kek}, "token", "inspect", "-", "--db", ts.url)
	if r.err != nil || !strings.Contains(r.stdout, "verdict: VALID") {
		t.Errorf("token inspect with the key-encryption key = %v\n%s\nwant VALID", r.err, r.stdout)
	}
	r = runCLI(t, tok, nil, "token", "inspect", "-", "--db", ts.url)
	if codeOf(r.err) != 2 || !strings.Contains(r.err.Error(), "JWTGATE_KEY_ENCRYPTION_KEY") {
		t.Errorf("token inspect without the key-encryption key = %v, want exit 2 naming JWTGATE_KEY_ENCRYPTION_KEY", r.err)
	}
}

// TestTokenInspectUsage: mistakes in the call exit 2, before any token is
// judged; help exits 0.
func TestTokenInspectUsage(t *testing.T) {
	ts := newTokenStore(t, auth.KeyringOptions{})
	missing := filepath.Join(t.TempDir(), "nope.db")
	tests := []struct {
		name     string
		args     []string
		env      []string
		wantCode int
		wantErr  string
	}{
		{name: "help", args: []string{"token", "--help"}},
		{name: "bare token", args: []string{"token"}},
		{name: "inspect help", args: []string{"token", "inspect", "--help"}},
		{name: "unknown subcommand", args: []string{"token", "decode", "x"}, wantCode: 2, wantErr: `"decode"`},
		{name: "no token", args: []string{"token", "inspect", "--db", ts.url}, wantCode: 2, wantErr: "exactly one TOKEN"},
		{name: "two tokens", args: []string{"token", "inspect", "a", "b", "--db", ts.url}, wantCode: 2, wantErr: "exactly one TOKEN"},
		{name: "unknown flag", args: []string{"token", "inspect", "-", "--verbose", "--db", ts.url}, wantCode: 2, wantErr: "verbose"},
		{name: "no such database", args: []string{"token", "inspect", "-", "--db", "sqlite:" + missing}, wantCode: 2, wantErr: "no database at"},
		{name: "unknown setting", args: []string{"token", "inspect", "-", "--db", ts.url}, env: []string{"JWTGATE_NOPE=1"}, wantCode: 2, wantErr: "JWTGATE_NOPE"},
		{name: "bad key-encryption key", args: []string{"token", "inspect", "-", "--db", ts.url}, env: []string{"JWTGATE_KEY_ENCRYPTION_KEY=abc"}, wantCode: 2, wantErr: "JWTGATE_KEY_ENCRYPTION_KEY"},
		{name: "bad access ttl", args: []string{"token", "inspect", "-", "--db", ts.url, "--access-ttl", "-1m"}, wantCode: 2, wantErr: "--access-ttl"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, "x.y.z", tt.env, tt.args...)
			if got := codeOf(r.err); got != tt.wantCode || tt.wantErr != "" && !strings.Contains(r.err.Error(), tt.wantErr) {
				t.Errorf("run(%q) = exit %d (%v), want %d with %q", tt.args, got, r.err, tt.wantCode, tt.wantErr)
			}
			if tt.wantCode == 0 && !strings.Contains(r.stdout, "jwtgate token inspect TOKEN|-") {
				t.Errorf("run(%q) printed %q, want the usage", tt.args, r.stdout)
			}
		})
	}
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("token inspect created %s", missing)
	}
}

// TestTokenInspectStdin: "-" reads the token from standard input, with
// surrounding whitespace; too much input is malformed, not truncated.
func TestTokenInspectStdin(t *testing.T) {
	ts := newTokenStore(t, auth.KeyringOptions{})
	tok := sign(t, ts.signer, claimsAt(time.Now()))
	for _, tc := range []struct {
		name, stdin string
		wantCode    int
		wantVerdict string
	}{
		{name: "with newline", stdin: tok + "\n", wantVerdict: "VALID"},
		{name: "with CRLF and spaces", stdin: "  " + tok + " \r\n", wantVerdict: "VALID"},
		{name: "nothing", stdin: "", wantCode: 1, wantVerdict: "INVALID: malformed: empty token"},
		{name: "two tokens", stdin: tok + "\n" + tok + "\n", wantCode: 1, wantVerdict: "INVALID: malformed"},
		{name: "a megabyte", stdin: tok + strings.Repeat(" ", 1<<20) + "x", wantCode: 1, wantVerdict: "INVALID: malformed: more than"},
	} {
		r := runCLI(t, tc.stdin, nil, "token", "inspect", "-", "--db", ts.url)
		if got := codeOf(r.err); got != tc.wantCode || !strings.Contains(r.stdout, "verdict: "+tc.wantVerdict) {
			t.Errorf("token inspect - (%s) = exit %d (%v)\n%s\nwant exit %d, verdict %q", tc.name, got, r.err, r.stdout, tc.wantCode, tc.wantVerdict)
		}
	}
}

// FuzzTokenInspect checks that inspect never panics, judges every input
// (exit 0 or 1: the configuration is fine, so never 2), and says VALID
// only for a token the token package's Verifier accepts and the
// revocation feed does not list, and for every such token.
func FuzzTokenInspect(f *testing.F) {
	ts := newTokenStore(f, auth.KeyringOptions{})
	now := time.Now()
	f.Add(sign(f, ts.signer, claimsAt(now)), true)
	f.Add(sign(f, ts.signer, claimsAt(now)), false)
	expired := claimsAt(now.Add(-time.Hour))
	f.Add(sign(f, ts.signer, expired), true)
	f.Add(handMade(f, map[string]any{"alg": "EdDSA", "kid": ts.signer.ID, "typ": "at+jwt", "jku": "https://x"}, claimsAt(now), ts.ed25519), true)

	ctx := context.Background()
	keys, err := auth.OpenKeyring(ctx, ts.db, auth.KeyringOptions{Alg: token.EdDSA, TokenLifetime: auth.DefaultAccessTTL + auth.Leeway})
	if err != nil {
		f.Fatal(err)
	}
	revs := auth.NewRevocations(ts.db, nil)
	if err := revs.Sync(ctx); err != nil {
		f.Fatal(err)
	}
	accepts := func(raw string, at time.Time) bool {
		v := token.NewVerifier(keys, []string{token.EdDSA, token.ES256, token.RS256},
			token.VerifierOptions{Leeway: auth.Leeway, Now: func() time.Time { return at }})
		c, err := v.Verify(raw)
		return err == nil && !revs.Revoked(c.SessionID, c.ID)
	}
	f.Fuzz(func(t *testing.T, tok string, viaStdin bool) {
		args := []string{"token", "inspect", "--db", ts.url}
		stdin := ""
		if viaStdin {
			args, stdin = append(args, "-"), tok
		} else {
			args = append(args, "--", tok)
		}
		before := time.Now()
		r := runCLI(t, stdin, nil, args...)
		after := time.Now()
		code := codeOf(r.err)
		if code != 0 && code != 1 {
			t.Fatalf("token inspect %q: exit %d (%v), want 0 or 1", tok, code, r.err)
		}
		if !strings.Contains(r.stdout, "verdict: ") {
			t.Fatalf("token inspect %q printed no verdict:\n%s", tok, r.stdout)
		}
		raw := strings.TrimSpace(tok)
		if !viaStdin && tok == "-" {
			raw = "" // "-" reads the (empty) standard input
		}
		// The verdict is taken at a moment between before and after.
		if code == 0 && !accepts(raw, before) && !accepts(raw, after) {
			t.Fatalf("token inspect %q = VALID, but the Verifier refuses it:\n%s", tok, r.stdout)
		}
		if code != 0 && accepts(raw, before) && accepts(raw, after) {
			t.Fatalf("token inspect %q = exit %d, but the Verifier accepts it:\n%s", tok, code, r.stdout)
		}
	})
}
