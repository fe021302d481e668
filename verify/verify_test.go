package verify

import (
	"context"
	"crypto/x509"
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

func TestNewAndVerify(t *testing.T) {
	for _, alg := range []string{token.EdDSA, token.ES256, token.RS256} {
		t.Run(alg, func(t *testing.T) {
			k := mustGenerate(t, alg)
			iss := newFakeIssuer(t, k)
			v := mustNew(t, iss.url, WithAudience("api"))
			c := claims(iss.url, time.Now())
			c.Audience = jwt.ClaimStrings{"api"}
			got, err := v.Verify(context.Background(), sign(t, k, c))
			if err != nil {
				t.Fatalf("Verify(%s token) = %v", alg, err)
			}
			if got.Name != "admin" || got.UserID != 1 || got.SessionID != c.SessionID || got.ID != c.ID {
				t.Errorf("Verify claims = %+v, want %+v", got, c)
			}
			if n := iss.discoveryHits.Load(); n != 1 {
				t.Errorf("discovery requests = %d, want 1", n)
			}
			// Close is idempotent and Verify keeps working with known keys.
			if err := v.Close(); err != nil {
				t.Errorf("Close() = %v", err)
			}
			if err := v.Close(); err != nil {
				t.Errorf("second Close() = %v", err)
			}
			if _, err := v.Verify(context.Background(), sign(t, k, c)); err != nil {
				t.Errorf("Verify after Close = %v", err)
			}
		})
	}
}

// TestNewRefused: a Verifier must not accept tokens on a discovery document, issuer or
// key set it cannot trust.
func TestNewRefused(t *testing.T) {
	k := mustGenerate(t, token.EdDSA)
	secret, _ := token.Secret([]byte(strings.Repeat("s", 32)))
	// other is a second origin that must never be asked for keys.
	var otherHits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHits.Add(1)
		doc, _ := token.MarshalJWKS([]*token.Key{k})
		_, _ = w.Write(doc)
	}))
	t.Cleanup(other.Close)
	tests := []struct {
		name   string
		setup  func(f *fakeIssuer) // may change the fake
		issuer func(f *fakeIssuer) string
		opts   []Option
		want   string
		config bool // New itself fails; otherwise the Verifier is not Ready
	}{
		{name: "issuer mismatch", setup: discovery(func(u string) map[string]any {
			return map[string]any{"issuer": "http://evil.example", "jwks_uri": u + "/.well-known/jwks.json"}
		}), want: "names issuer"},
		{name: "issuer with a trailing slash", setup: discovery(func(u string) map[string]any {
			return map[string]any{"issuer": u + "/", "jwks_uri": u + "/.well-known/jwks.json"}
		}), want: "names issuer"},
		{name: "issuer missing", setup: discovery(func(u string) map[string]any {
			return map[string]any{"jwks_uri": u + "/.well-known/jwks.json"}
		}), want: "names issuer"},
		{name: "jwks_uri on another host", setup: discovery(func(u string) map[string]any {
			return map[string]any{"issuer": u, "jwks_uri": other.URL + "/jwks.json"}
		}), want: "not on the issuer's origin"},
		{name: "jwks_uri on localhost for 127.0.0.1", setup: discovery(func(u string) map[string]any {
			return map[string]any{"issuer": u, "jwks_uri": strings.Replace(u, "127.0.0.1", "localhost", 1) + "/.well-known/jwks.json"}
		}), want: "not on the issuer's origin"},
		{name: "jwks_uri over https", setup: discovery(func(u string) map[string]any {
			return map[string]any{"issuer": u, "jwks_uri": strings.Replace(u, "http:", "https:", 1) + "/.well-known/jwks.json"}
		}), want: "not on the issuer's origin"},
		{name: "jwks_uri a file", setup: discovery(func(u string) map[string]any {
			return map[string]any{"issuer": u, "jwks_uri": "file:///etc/passwd"}
		}), want: "not an http or https URL"},
		{name: "jwks_uri relative", setup: discovery(func(u string) map[string]any {
			return map[string]any{"issuer": u, "jwks_uri": "/.well-known/jwks.json"}
		}), want: "not an http or https URL"},
		{name: "jwks_uri missing", setup: discovery(func(u string) map[string]any {
			return map[string]any{"issuer": u}
		}), want: "no jwks_uri"},
		{name: "jwks_uri not a string", setup: discovery(func(u string) map[string]any {
			return map[string]any{"issuer": u, "jwks_uri": 5}
		}), want: "discovery document"},
		{name: "JWKS unavailable", setup: func(f *fakeIssuer) { f.jwksStatus = 500 }, want: "status 500"},
		{name: "JWKS with only a secret", setup: func(f *fakeIssuer) { f.keys = []*token.Key{secret} }, want: "no usable"},
		{name: "issuer not http", issuer: func(*fakeIssuer) string { return "ftp://127.0.0.1/" }, want: "not an http or https URL", config: true},
		{name: "issuer with user info", issuer: func(f *fakeIssuer) string { return strings.Replace(f.url, "//", "//u:p@", 1) }, want: "plain absolute URL", config: true},
		{name: "issuer with a query", issuer: func(f *fakeIssuer) string { return f.url + "?a=b" }, want: "plain absolute URL", config: true},
		{name: "issuer empty", issuer: func(*fakeIssuer) string { return "" }, want: "not an http or https URL", config: true},
		{name: "no discovery document", issuer: func(f *fakeIssuer) string { return f.url + "/nowhere" }, want: "status 404"},
		{name: "WithIssuer contradicts", opts: []Option{WithIssuer("http://other.example")}, want: "contradicts", config: true},
		{name: "unreachable issuer", issuer: func(*fakeIssuer) string { return "http://127.0.0.1:1" }, want: "discovery"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeIssuer(t, k)
			if tt.setup != nil {
				f.set(tt.setup)
			}
			issuer := f.url
			if tt.issuer != nil {
				issuer = tt.issuer(f)
			}
			opts := append([]Option{WithLogger(quiet), WithRevocationPolling(0)}, tt.opts...)
			v, err := New(context.Background(), issuer, opts...)
			if tt.config {
				if err == nil {
					_ = v.Close()
					t.Fatalf("New(%s) succeeded, want error containing %q", tt.name, tt.want)
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("New(%s) = %v, want error containing %q", tt.name, err, tt.want)
				}
				return
			}
			// The issuer's answers are unusable: New still returns (the
			// service starts), and the Verifier says why it is not ready.
			if err != nil {
				t.Fatalf("New(%s) = %v, want a Verifier that retries", tt.name, err)
			}
			defer v.Close()
			err = v.Ready()
			if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New(%s).Ready() = %v, want ErrUnavailable containing %q", tt.name, err, tt.want)
			}
			good := sign(t, k, claims(f.url, time.Now()))
			if _, err := v.Verify(context.Background(), good); !errors.Is(err, ErrUnavailable) || errors.Is(err, ErrUnauthenticated) {
				t.Errorf("Verify before the keys are known = %v, want ErrUnavailable (not ErrUnauthenticated)", err)
			}
		})
	}
	if n := otherHits.Load(); n != 0 {
		t.Errorf("the other origin got %d requests, want 0", n)
	}
}

// discovery sets the fake's discovery document, built from its URL.
func discovery(doc func(issuerURL string) map[string]any) func(*fakeIssuer) {
	return func(f *fakeIssuer) { f.discovery = doc(f.url) }
}

func TestJWKSOrigin(t *testing.T) {
	k := mustGenerate(t, token.EdDSA)
	keys := newFakeIssuer(t, k) // serves the keys
	f := newFakeIssuer(t)       // serves discovery, pointing at keys
	f.set(discovery(func(u string) map[string]any {
		return map[string]any{"issuer": u, "jwks_uri": keys.url + "/.well-known/jwks.json"}
	}))
	v := mustNew(t, f.url, WithJWKSOrigin(keys.url+"/"))
	if _, err := v.Verify(context.Background(), sign(t, k, claims(f.url, time.Now()))); err != nil {
		t.Errorf("Verify with keys from an allowed origin = %v", err)
	}
	if _, err := New(context.Background(), f.url, WithJWKSOrigin(keys.url+"/keys")); err == nil {
		t.Error("WithJWKSOrigin(URL with a path) accepted, want error")
	}
}

// TestRedirectToAnotherOrigin: a redirect must not do what a rewritten
// jwks_uri may not.
func TestRedirectToAnotherOrigin(t *testing.T) {
	k := mustGenerate(t, token.EdDSA)
	var otherHits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		otherHits.Add(1)
		doc, _ := token.MarshalJWKS([]*token.Key{k})
		_, _ = w.Write(doc)
	}))
	t.Cleanup(other.Close)
	f := newFakeIssuer(t, k)
	f.set(func(f *fakeIssuer) { f.jwksRedirect = other.URL + "/jwks.json" })
	v, err := New(context.Background(), f.url, WithLogger(quiet), WithRevocationPolling(0))
	if err != nil {
		t.Fatal(err)
	}
	err = v.Ready()
	_ = v.Close()
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("Ready() after a JWKS redirect to another origin = %v, want ErrUnavailable", err)
	}
	if n := otherHits.Load(); n != 0 {
		t.Errorf("the other origin got %d requests, want 0", n)
	}
	// Within the origin a redirect is fine.
	f.set(func(f *fakeIssuer) { f.jwksRedirect = "/.well-known/jwks.json?moved=1" })
	mustNew(t, f.url)
}

func TestNewStatic(t *testing.T) {
	secret := []byte("a-shared-secret-of-at-least-32-bytes!")
	hs, err := token.Secret(secret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	// A token minted the tutorial's way: {"id","name","exp"}, typ JWT, no iss, no kid.
	tutorial, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"id": 7, "name": "alice", "exp": now.Add(time.Hour).Unix()}).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	v, err := NewStatic(hs, WithIssuer("http://127.0.0.1:8000"))
	if err != nil {
		t.Fatal(err)
	}
	c, err := v.Verify(context.Background(), tutorial)
	if err != nil {
		t.Fatalf("Verify(tutorial token) = %v", err)
	}
	if c.UserID != 7 || c.Name != "alice" {
		t.Errorf("tutorial claims = %+v, want id 7 name alice", c)
	}
	if _, err := v.Verify(context.Background(), sign(t, hs, claims("http://127.0.0.1:8000", now))); err != nil {
		t.Errorf("Verify(jwtgate HS256 token) = %v", err)
	}
	if _, err := v.Verify(context.Background(), sign(t, hs, claims("http://evil", now))); !errors.Is(err, token.ErrIssuer) || !errors.Is(err, ErrUnauthenticated) {
		t.Errorf("Verify(HS256 token of another issuer) = %v, want ErrIssuer", err)
	}
	other, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"name": "x", "exp": now.Add(time.Hour).Unix()}).SignedString([]byte(strings.Repeat("o", 32)))
	if _, err := v.Verify(context.Background(), other); err == nil {
		t.Error("Verify(token signed with another secret) succeeded")
	}
	noExp, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"name": "x"}).SignedString(secret)
	if _, err := v.Verify(context.Background(), noExp); err == nil {
		t.Error("Verify(tutorial token without exp) succeeded")
	}

	// A public key: strict, and WithIssuer is required.
	ed := mustGenerate(t, token.EdDSA)
	der, _ := ed.MarshalPublic()
	pub, err := token.ParsePublic("", token.EdDSA, der)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewStatic(pub); err == nil {
		t.Error("NewStatic(public key) without WithIssuer succeeded")
	}
	sv, err := NewStatic(pub, WithIssuer("https://auth.example"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sv.Verify(context.Background(), sign(t, ed, claims("https://auth.example", now))); err != nil {
		t.Errorf("NewStatic(public key).Verify = %v", err)
	}
	edTutorial, _ := jwt.NewWithClaims(jwt.SigningMethodEdDSA, jwt.MapClaims{"name": "x", "exp": now.Add(time.Hour).Unix()}).SignedString(mustPrivate(t, ed))
	if _, err := sv.Verify(context.Background(), edTutorial); err == nil {
		t.Error("NewStatic(public key) accepted a token without kid, iss and typ at+jwt")
	}
	_ = sv.Close()

	for _, tt := range []struct {
		name string
		key  *token.Key
		opts []Option
	}{
		{name: "nil key"},
		{name: "revocation polling", key: hs, opts: []Option{WithRevocationPolling(time.Second)}},
		{name: "JWKS origin", key: hs, opts: []Option{WithJWKSOrigin("https://keys.example")}},
		{name: "negative leeway", key: hs, opts: []Option{WithLeeway(-time.Second)}},
		{name: "nil clock", key: hs, opts: []Option{WithClock(nil)}},
	} {
		if _, err := NewStatic(tt.key, tt.opts...); err == nil {
			t.Errorf("NewStatic(%s) succeeded, want error", tt.name)
		}
	}
	if _, err := NewStatic(hs, WithRevocationPolling(0)); err != nil {
		t.Errorf("NewStatic(WithRevocationPolling(0)) = %v, want nil", err)
	}
}

// mustPrivate returns the crypto.Signer inside k, for minting tokens
// token.Sign would not make.
func mustPrivate(t testing.TB, k *token.Key) any {
	t.Helper()
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

func TestLeewayAndClock(t *testing.T) {
	k := mustGenerate(t, token.EdDSA)
	iss := newFakeIssuer(t, k)
	clk := newClock()
	v := mustNew(t, iss.url, WithClock(clk.Now), WithLeeway(time.Minute))
	c := claims(iss.url, clk.Now())
	raw := sign(t, k, c)
	clk.Add(15*time.Minute + 50*time.Second) // past exp, within leeway
	if _, err := v.Verify(context.Background(), raw); err != nil {
		t.Errorf("Verify(expired 50s ago, leeway 1m) = %v", err)
	}
	clk.Add(20 * time.Second)
	if _, err := v.Verify(context.Background(), raw); !errors.Is(err, token.ErrExpired) {
		t.Errorf("Verify(expired 70s ago, leeway 1m) = %v, want ErrExpired", err)
	}
}
