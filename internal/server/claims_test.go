package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/token"
)

// TestStolenKeyTokens is issue 17 §1: a local user who reads the signing
// key mints an admin token valid for ten years, without sid. Signed by the
// real key, it must still be refused: jwtgate never issues such a token.
func TestStolenKeyTokens(t *testing.T) {
	f := newFixture(t, Options{})
	now := time.Now()
	claims := func(mutate func(*token.Claims)) string {
		c := &token.Claims{
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer: "http://test", Subject: "1", ID: token.NewID(),
				IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(auth.DefaultAccessTTL)),
			},
			UserID: 1, Name: "admin", SessionID: token.NewID(), Roles: []string{"admin"},
		}
		mutate(c)
		raw, err := token.Sign(f.kr.Signer(), c)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	tests := []struct {
		name string
		tok  string
		want int
	}{
		{name: "shaped like ours", tok: claims(func(*token.Claims) {}), want: 200},
		{name: "ten years, no sid", tok: claims(func(c *token.Claims) {
			c.ExpiresAt = jwt.NewNumericDate(now.AddDate(10, 0, 0))
			c.SessionID = ""
		}), want: 401},
		{name: "ten years", tok: claims(func(c *token.Claims) { c.ExpiresAt = jwt.NewNumericDate(now.AddDate(10, 0, 0)) }), want: 401},
		{name: "no sid", tok: claims(func(c *token.Claims) { c.SessionID = "" }), want: 401},
		{name: "no jti", tok: claims(func(c *token.Claims) { c.ID = "" }), want: 401},
		{name: "no iat", tok: claims(func(c *token.Claims) { c.IssuedAt = nil }), want: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := f.do(bearer("GET", "/admin/users", tt.tok, "")); r.code != tt.want {
				t.Errorf("GET /admin/users with %s token = %d, want %d", tt.name, r.code, tt.want)
			}
		})
	}
}

// sharedSecretFixture is the tutorial-compatible mode: HS256 with a shared
// secret, on a real SQLite store with admin, alice and bob (disabled).
type sharedSecretFixture struct {
	*fixture
	secret *token.Key
	ids    map[string]int64
}

func newSharedSecretFixture(t *testing.T) *sharedSecretFixture {
	t.Helper()
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "jwtgate.db")
	store, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	secret, err := token.Secret([]byte("a-shared-secret-of-at-least-32-bytes!"))
	if err != nil {
		t.Fatal(err)
	}
	svc, err := auth.New(ctx, store, auth.StaticKey{Key: secret}, auth.Options{Issuer: "http://test", Hash: fastHash})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, u := range []struct {
		name  string
		roles []string
	}{{"admin", []string{"admin"}}, {"alice", nil}, {"bob", nil}, {"gone", []string{"admin"}}} {
		created, err := svc.CreateUser(ctx, u.name, u.name+"-pass", u.roles)
		if err != nil {
			t.Fatal(err)
		}
		ids[u.name] = created.ID
	}
	if err := store.SetDisabled(ctx, ids["bob"], true, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := store.DeleteUser(ctx, ids["gone"]); err != nil {
		t.Fatal(err)
	}
	h := NewServer(Deps{Logger: slog.New(slog.DiscardHandler), Auth: svc, Ready: store.Ping}, Options{Issuer: "http://test"})
	return &sharedSecretFixture{fixture: &fixture{h: h, svc: svc, store: store, dbPath: dbPath}, secret: secret, ids: ids}
}

// tutorialToken mints a token the way the tutorial app does (PyJWT,
// typ JWT, no iss, no sid), with any extra claims.
func (f *sharedSecretFixture) tutorialToken(t *testing.T, payload map[string]any) string {
	t.Helper()
	h, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	p, _ := json.Marshal(payload)
	return f.sign(t, string(h), string(p))
}

func (f *sharedSecretFixture) sign(t *testing.T, header, payload string) string {
	t.Helper()
	input := base64.RawURLEncoding.EncodeToString([]byte(header)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload))
	s, err := jwt.SigningMethodHS256.Sign(input, []byte("a-shared-secret-of-at-least-32-bytes!"))
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(s)
}

// TestSharedSecretSessionless is issue 17 §7: in the tutorial mode a token
// without sid is checked against the store on every request (the user
// exists, is enabled and has the token's name) and its roles come from the
// store, not from the token.
func TestSharedSecretSessionless(t *testing.T) {
	f := newSharedSecretFixture(t)
	exp := time.Now().Add(time.Hour).Unix()
	tests := []struct {
		name      string
		payload   map[string]any
		userCode  int
		adminCode int
		wantRoles string
	}{
		{name: "tutorial token, admin", payload: map[string]any{"id": f.ids["admin"], "name": "admin", "exp": exp}, userCode: 200, adminCode: 200, wantRoles: `["admin"]`},
		{name: "tutorial token, alice", payload: map[string]any{"id": f.ids["alice"], "name": "alice", "exp": exp}, userCode: 200, adminCode: 403, wantRoles: `[]`},
		{name: "alice claiming admin", payload: map[string]any{"id": f.ids["alice"], "name": "alice", "exp": exp, "roles": []string{"admin"}}, userCode: 200, adminCode: 403, wantRoles: `[]`},
		{name: "disabled user", payload: map[string]any{"id": f.ids["bob"], "name": "bob", "exp": exp}, userCode: 401, adminCode: 401},
		{name: "deleted user", payload: map[string]any{"id": f.ids["gone"], "name": "gone", "exp": exp, "roles": []string{"admin"}}, userCode: 401, adminCode: 401},
		{name: "id of another user", payload: map[string]any{"id": f.ids["admin"], "name": "alice", "exp": exp}, userCode: 401, adminCode: 401},
		{name: "unknown id", payload: map[string]any{"id": 999, "name": "admin", "exp": exp}, userCode: 401, adminCode: 401},
		{name: "exp as a string", payload: map[string]any{"id": f.ids["admin"], "name": "admin", "exp": fmt.Sprint(exp)}, userCode: 401, adminCode: 401},
		{name: "sub as a number", payload: map[string]any{"id": f.ids["admin"], "name": "admin", "exp": exp, "sub": 1}, userCode: 401, adminCode: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := f.tutorialToken(t, tt.payload)
			r := f.do(bearer("GET", "/user", tok, ""))
			if r.code != tt.userCode {
				t.Fatalf("GET /user with %s = %d %s, want %d", tt.name, r.code, r.body, tt.userCode)
			}
			if r.code == 200 {
				var body struct {
					Roles json.RawMessage `json:"roles"`
				}
				if err := json.Unmarshal(r.body, &body); err != nil || string(body.Roles) != tt.wantRoles {
					t.Errorf("GET /user with %s: roles %s, want %s", tt.name, body.Roles, tt.wantRoles)
				}
			}
			if r := f.do(bearer("GET", "/admin/users", tok, "")); r.code != tt.adminCode {
				t.Errorf("GET /admin/users with %s = %d, want %d", tt.name, r.code, tt.adminCode)
			}
		})
	}
	// jwtgate's own tokens in this mode keep working (they have a session).
	tok := f.login(t, "alice", "alice-pass")
	if r := f.do(bearer("GET", "/user", tok, "")); r.code != 200 {
		t.Errorf("GET /user with a jwtgate token = %d, want 200", r.code)
	}
	// A duplicate member in a tutorial-shaped token is refused.
	dup := f.sign(t, `{"alg":"HS256","typ":"JWT"}`, fmt.Sprintf(`{"id":%d,"name":"alice","name":"admin","exp":%d}`, f.ids["alice"], exp))
	if r := f.do(bearer("GET", "/user", dup, "")); r.code != 401 {
		t.Errorf("GET /user with duplicate name members = %d, want 401", r.code)
	}
}
