package auth

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/password"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/token"
)

var fast = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// clock is an injectable time source tests move by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

type env struct {
	svc   *Service
	store *sqlite.DB
	clk   *clock
	kr    *Keyring
}

func newEnv(t *testing.T, o Options) *env {
	return newEnvTB(t, o)
}

// newEnvB is newEnv for benchmarks, with user alice.
func newEnvB(b *testing.B) *env {
	e := newEnvTB(b, Options{})
	if _, err := e.svc.CreateUser(context.Background(), "alice", "alice-pass", nil); err != nil {
		b.Fatal(err)
	}
	return e
}

func newEnvTB(t testing.TB, o Options) *env {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "auth.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clk := &clock{now: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}
	kr, err := NewKeyring(ctx, store, KeyringOptions{Alg: token.EdDSA, PublishDelay: 10 * time.Minute, TokenLifetime: DefaultAccessTTL + Leeway, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	if o.Hash == (password.Params{}) {
		o.Hash = fast
	}
	o.Issuer = "http://issuer.test"
	o.Now = clk.Now
	svc, err := New(ctx, store, kr, o)
	if err != nil {
		t.Fatal(err)
	}
	return &env{svc: svc, store: store, clk: clk, kr: kr}
}

func TestLogin(t *testing.T) {
	e := newEnv(t, Options{Audience: "api"})
	ctx := context.Background()
	alice, err := e.svc.CreateUser(ctx, "Alice", "alice-pass", []string{"dev"})
	if err != nil {
		t.Fatal(err)
	}
	bob, _ := e.svc.CreateUser(ctx, "bob", "bob-pass1", nil)
	if err := e.store.SetDisabled(ctx, bob.ID, true, e.clk.Now()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, user, pw string
		want           error
	}{
		{name: "ok", user: "Alice", pw: "alice-pass"},
		{name: "ok other case", user: "alice", pw: "alice-pass"},
		{name: "wrong password", user: "Alice", pw: "alice-pasS", want: jwtgate.ErrBadCredentials},
		{name: "unknown user", user: "carol", pw: "alice-pass", want: jwtgate.ErrBadCredentials},
		{name: "disabled, right password", user: "bob", pw: "bob-pass1", want: jwtgate.ErrBadCredentials},
		{name: "invalid name", user: "a\x00b", pw: "x", want: jwtgate.ErrInvalid},
		{name: "huge password", user: "Alice", pw: strings.Repeat("x", jwtgate.MaxPasswordLen+1), want: jwtgate.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := e.svc.Login(ctx, tt.user, tt.pw, Client{IP: "192.0.2.1", UserAgent: "test"})
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Fatalf("Login(%s, %s) = %v, want %v", tt.user, tt.pw, err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatalf("Login(%s) = %v", tt.user, err)
			}
			c, err := e.svc.Verify(tok.Access)
			if err != nil {
				t.Fatalf("Verify(own token) = %v", err)
			}
			now := e.clk.Now()
			if c.Name != "Alice" || c.UserID != alice.ID || c.Subject != "1" || c.Issuer != "http://issuer.test" ||
				!c.ExpiresAt.Equal(now.Add(DefaultAccessTTL)) || !c.IssuedAt.Equal(now) || c.ID == "" ||
				len(c.Audience) != 1 || c.Audience[0] != "api" || len(c.Roles) != 1 || c.Roles[0] != "dev" {
				t.Errorf("claims = %+v", c)
			}
			s, err := e.store.SessionByID(ctx, c.SessionID)
			if err != nil || s.UserID != alice.ID || s.IP != "192.0.2.1" || !s.ExpiresAt.Equal(now.Add(DefaultSessionTTL)) {
				t.Errorf("session = %+v, %v", s, err)
			}
		})
	}
}

func TestVerifyExpiry(t *testing.T) {
	e := newEnv(t, Options{AccessTTL: time.Minute})
	ctx := context.Background()
	e.svc.CreateUser(ctx, "alice", "alice-pass", nil)
	tok, err := e.svc.Login(ctx, "alice", "alice-pass", Client{})
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Add(time.Minute + Leeway - time.Second)
	if _, err := e.svc.Verify(tok.Access); err != nil {
		t.Errorf("Verify just inside leeway = %v", err)
	}
	e.clk.Add(2 * time.Second)
	if _, err := e.svc.Verify(tok.Access); !errors.Is(err, jwtgate.ErrUnauthenticated) || !errors.Is(err, token.ErrExpired) {
		t.Errorf("Verify after expiry = %v, want ErrUnauthenticated wrapping ErrExpired", err)
	}
}

// TestRehashOnLogin: bcrypt imports and hashes with old argon2 parameters
// are replaced by current argon2id hashes at the next good login, and the
// new hash still verifies.
func TestRehashOnLogin(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	bc, _ := bcrypt.GenerateFromPassword([]byte("imported-pass"), bcrypt.MinCost)
	old, _ := password.Hash("old-params-pass", password.Params{Memory: 32, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
	for name, h := range map[string]string{"imported": string(bc), "oldparams": old} {
		if err := e.store.CreateUser(ctx, &jwtgate.User{Name: name, PasswordHash: h, CreatedAt: e.clk.Now(), UpdatedAt: e.clk.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	for name, pw := range map[string]string{"imported": "imported-pass", "oldparams": "old-params-pass"} {
		if _, err := e.svc.Login(ctx, name, "wrong", Client{}); !errors.Is(err, jwtgate.ErrBadCredentials) {
			t.Fatalf("Login(%s, wrong) = %v", name, err)
		}
		u, _ := e.store.UserByName(ctx, name)
		if strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=64,") {
			t.Fatalf("%s rehashed after a failed login", name)
		}
		if _, err := e.svc.Login(ctx, name, pw, Client{}); err != nil {
			t.Fatalf("Login(%s) = %v", name, err)
		}
		u, _ = e.store.UserByName(ctx, name)
		if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
			t.Errorf("%s hash after login = %.30s, want current argon2id params", name, u.PasswordHash)
		}
		if _, err := e.svc.Login(ctx, name, pw, Client{}); err != nil {
			t.Errorf("Login(%s) after rehash = %v", name, err)
		}
	}
}

func TestCreateUserValidation(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	tests := []struct {
		name, user, pw string
		roles          []string
		want           error
	}{
		{name: "ok", user: "alice", pw: "long-enough"},
		{name: "unicode ok", user: "Zoë Ångström", pw: "long-enough", roles: []string{"admin", "dev-ops"}},
		{name: "Greek ok", user: "Ωμέγα", pw: "long-enough"},
		{name: "Latin mixed with Greek", user: "Zoë Ωmega", pw: "long-enough", want: jwtgate.ErrInvalid},
		{name: "look-alike of alice", user: "ａｌｉｃｅ", pw: "long-enough", want: jwtgate.ErrConflict},
		{name: "sql chars ok", user: `o'brien"; --`, pw: "long-enough"},
		{name: "duplicate", user: "alice", pw: "long-enough", want: jwtgate.ErrConflict},
		{name: "duplicate other case", user: "ALICE", pw: "long-enough", want: jwtgate.ErrConflict},
		{name: "short password", user: "bob", pw: "short", want: jwtgate.ErrInvalid},
		{name: "empty name", user: "", pw: "long-enough", want: jwtgate.ErrInvalid},
		{name: "spaces around", user: " bob", pw: "long-enough", want: jwtgate.ErrInvalid},
		{name: "bad utf8", user: "b\xffob", pw: "long-enough", want: jwtgate.ErrInvalid},
		{name: "newline", user: "bob\nadmin", pw: "long-enough", want: jwtgate.ErrInvalid},
		{name: "bad role", user: "bob", pw: "long-enough", roles: []string{"Admin"}, want: jwtgate.ErrInvalid},
		{name: "duplicate role", user: "bob", pw: "long-enough", roles: []string{"a", "a"}, want: jwtgate.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := e.store.ListUsers(ctx)
			u, err := e.svc.CreateUser(ctx, tt.user, tt.pw, tt.roles)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Fatalf("CreateUser(%q) = %v, want %v", tt.user, err, tt.want)
			}
			after, _ := e.store.ListUsers(ctx)
			if tt.want != nil && len(after) != len(before) {
				t.Errorf("CreateUser(%q) failed but the user count went %d -> %d", tt.user, len(before), len(after))
			}
			if tt.want == nil {
				got, err := e.store.UserByName(ctx, tt.user)
				if err != nil || got.Name != tt.user || got.ID != u.ID {
					t.Errorf("UserByName(%q) = %+v, %v", tt.user, got, err)
				}
			}
		})
	}
}

func TestBootstrap(t *testing.T) {
	ctx := context.Background()
	t.Run("random", func(t *testing.T) {
		e := newEnv(t, Options{})
		created, pw, err := e.svc.Bootstrap(ctx, "", false)
		if err != nil || !created || len(pw) < 20 {
			t.Fatalf("Bootstrap = %v, %q, %v; want created with a 20+ char password", created, pw, err)
		}
		tok, err := e.svc.Login(ctx, "admin", pw, Client{})
		if err != nil || len(tok.Claims.Roles) != 1 || tok.Claims.Roles[0] != jwtgate.RoleAdmin {
			t.Fatalf("admin login = %+v, %v", tok, err)
		}
		created, _, err = e.svc.Bootstrap(ctx, "another-password", false)
		if err != nil || created {
			t.Errorf("second Bootstrap = %v, %v; want not created", created, err)
		}
		if _, err := e.svc.Login(ctx, "admin", pw, Client{}); err != nil {
			t.Errorf("second Bootstrap changed the admin password: %v", err)
		}
	})
	t.Run("demo", func(t *testing.T) {
		e := newEnv(t, Options{})
		if created, _, err := e.svc.Bootstrap(ctx, DemoPassword, true); !created || err != nil {
			t.Fatalf("Bootstrap(demo) = %v, %v", created, err)
		}
		if _, err := e.svc.Login(ctx, "admin", "1234", Client{}); err != nil {
			t.Errorf("demo login = %v", err)
		}
	})
	t.Run("short password refused outside demo", func(t *testing.T) {
		e := newEnv(t, Options{})
		if _, _, err := e.svc.Bootstrap(ctx, "1234", false); !errors.Is(err, jwtgate.ErrInvalid) {
			t.Errorf("Bootstrap(1234) = %v, want ErrInvalid", err)
		}
		if users, _ := e.store.ListUsers(ctx); len(users) != 0 {
			t.Errorf("refused bootstrap created %d users", len(users))
		}
	})
}

func TestLogout(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	e.svc.CreateUser(ctx, "alice", "alice-pass", nil)
	tok, _ := e.svc.Login(ctx, "alice", "alice-pass", Client{})
	if err := e.svc.Logout(ctx, tok.Claims); err != nil {
		t.Fatal(err)
	}
	s, _ := e.store.SessionByID(ctx, tok.Claims.SessionID)
	if s.RevokedAt == nil || !s.RevokedAt.Equal(e.clk.Now()) {
		t.Errorf("session after Logout = %+v, want revoked now", s)
	}
	if _, err := e.svc.Verify(tok.Access); !errors.Is(err, ErrRevoked) {
		t.Errorf("Verify(logged-out token) = %v, want ErrRevoked", err)
	}
	if _, err := e.svc.Refresh(ctx, tok.Refresh, Client{}); !errors.Is(err, ErrInvalidGrant) {
		t.Errorf("Refresh after Logout = %v, want ErrInvalidGrant", err)
	}
	if err := e.svc.Logout(ctx, &token.Claims{Name: "tutorial"}); err != nil {
		t.Errorf("Logout(token without sid) = %v", err)
	}
}
