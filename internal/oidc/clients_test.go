package oidc_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/oidc"
	"github.com/jwtgate/jwtgate/internal/sqlite"
)

func TestCheckRedirectURI(t *testing.T) {
	tests := []struct {
		uri    string
		public bool
		ok     bool
	}{
		{"https://app.example.test/callback", false, true},
		{"https://app.example.test:8443/cb?x=1", false, true},
		{"http://127.0.0.1:8080/cb", false, true},
		{"http://[::1]/cb", true, true},
		{"http://localhost:3000/cb", false, true},
		{"com.example.app:/oauth2redirect", true, true},
		{"com.example.app:/oauth2redirect", false, false}, // private-use scheme: native public clients only
		{"myapp:/cb", true, false},                        // not reverse-domain
		{"http://app.example.test/cb", false, false},      // plain http off loopback
		{"https://app.example.test/cb#frag", false, false},
		{"https://user:pw@app.example.test/cb", false, false},
		{"https://*.example.test/cb", false, false},
		{"/relative/cb", false, false},
		{"https:///cb", false, false},
		{"https://app.example.test/c b", false, false},
		{"https://app.example.test/cb\r\nX: y", false, false},
		{"javascript:alert(1)", true, false},
		{"", false, false},
	}
	for _, tt := range tests {
		err := oidc.CheckRedirectURI(tt.uri, tt.public)
		if (err == nil) != tt.ok {
			t.Errorf("CheckRedirectURI(%q, public=%v) = %v, want ok=%v", tt.uri, tt.public, err, tt.ok)
		}
		if err != nil && !errors.Is(err, jwtgate.ErrInvalid) {
			t.Errorf("CheckRedirectURI(%q) = %v, want ErrInvalid", tt.uri, err)
		}
	}
}

func TestMatchRedirectURI(t *testing.T) {
	conf := &jwtgate.Client{RedirectURIs: []string{"https://app.example.test/cb", "http://127.0.0.1:8080/cb"}}
	native := &jwtgate.Client{Public: true, RedirectURIs: []string{"http://127.0.0.1/cb", "http://[::1]:9000/cb?x=1"}}
	tests := []struct {
		c    *jwtgate.Client
		uri  string
		want bool
	}{
		{conf, "https://app.example.test/cb", true},
		{conf, "https://app.example.test/cb/", false},      // trailing slash
		{conf, "https://APP.example.test/cb", false},       // case
		{conf, "https://app.example.test:443/cb", false},   // explicit port
		{conf, "https://app.example.test/cb?x=1", false},   // query
		{conf, "https://app.example.test/cb/../cb", false}, // path games
		{conf, "http://127.0.0.1:9999/cb", false},          // confidential: exact port
		{conf, "https://app.example.test.evil.test/cb", false},
		{native, "http://127.0.0.1:53124/cb", true}, // RFC 8252: any port on loopback
		{native, "http://127.0.0.1/cb", true},
		{native, "http://[::1]:1234/cb?x=1", true},
		{native, "http://[::1]:1234/cb", false},         // query differs
		{native, "http://localhost:53124/cb", false},    // a name, not an IP literal
		{native, "http://127.0.0.1:53124/other", false}, // path differs
		{native, "https://127.0.0.1:53124/cb", false},   // scheme differs
		{native, "http://u@127.0.0.1:53124/cb", false},  // user info
		{native, "http://127.0.0.1:53124/cb#x", false},  // fragment
		{native, "http://127.0.0.2:53124/cb", false},    // other loopback address
	}
	for _, tt := range tests {
		if got := oidc.MatchRedirectURI(tt.c, tt.uri); got != tt.want {
			t.Errorf("MatchRedirectURI(public=%v, %q) = %v, want %v", tt.c.Public, tt.uri, got, tt.want)
		}
	}
}

func TestClients(t *testing.T) {
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "jwtgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	cs := oidc.NewClients(store, nil, nil)
	ctx := t.Context()
	c, secret, err := cs.Create(ctx, oidc.ClientSpec{Name: "Grafana", RedirectURIs: []string{"https://grafana.example.test/login/generic_oauth"}})
	if err != nil || len(secret) != 43 || len(c.ID) != 22 || c.Public {
		t.Fatalf("Create(confidential) = %+v, secret %q, %v", c, secret, err)
	}
	pub, psecret, err := cs.Create(ctx, oidc.ClientSpec{Name: "cli", Public: true, RedirectURIs: []string{"http://127.0.0.1/cb"}})
	if err != nil || psecret != "" || !pub.Public {
		t.Fatalf("Create(public) = %+v, secret %q, %v", pub, psecret, err)
	}
	for _, spec := range []oidc.ClientSpec{
		{Name: "x"},
		{Name: "", RedirectURIs: []string{"https://a.example.test/cb"}},
		{Name: "x", RedirectURIs: []string{"http://a.example.test/cb"}},
		{Name: "x", RedirectURIs: []string{"https://a.example.test/cb"}, Scopes: []string{"admin"}},
		{Name: "x", RedirectURIs: []string{"https://a.example.test/cb"}, IDTokenAlg: "none"},
		{Name: "x", RedirectURIs: []string{"https://a.example.test/cb"}, PostLogoutRedirectURIs: []string{"https://a.example.test/#x"}},
	} {
		if _, _, err := cs.Create(ctx, spec); !errors.Is(err, jwtgate.ErrInvalid) {
			t.Errorf("Create(%+v) = %v, want ErrInvalid", spec, err)
		}
	}
	if _, _, err := cs.Create(ctx, oidc.ClientSpec{Name: "grafana", RedirectURIs: []string{"https://a.example.test/cb"}}); !errors.Is(err, jwtgate.ErrConflict) {
		t.Errorf("Create(taken name) = %v, want ErrConflict", err)
	}

	for _, tt := range []struct {
		name, id, secret string
		ok               bool
	}{
		{"right", c.ID, secret, true},
		{"wrong secret", c.ID, secret + "x", false},
		{"empty secret", c.ID, "", false},
		{"public client", pub.ID, "", false},
		{"unknown client", "nope", secret, false},
	} {
		got, err := cs.Authenticate(ctx, tt.id, tt.secret)
		if tt.ok != (err == nil) || (!tt.ok && !errors.Is(err, jwtgate.ErrBadCredentials)) || (tt.ok && got.ID != c.ID) {
			t.Errorf("Authenticate(%s) = %v, %v; want ok=%v", tt.name, got, err, tt.ok)
		}
	}
	newSecret, err := cs.RotateSecret(ctx, "GRAFANA")
	if err != nil || newSecret == secret {
		t.Fatalf("RotateSecret() = %q, %v", newSecret, err)
	}
	if _, err := cs.Authenticate(ctx, c.ID, secret); !errors.Is(err, jwtgate.ErrBadCredentials) {
		t.Errorf("Authenticate(old secret after rotation) = %v", err)
	}
	if _, err := cs.Authenticate(ctx, c.ID, newSecret); err != nil {
		t.Errorf("Authenticate(new secret) = %v", err)
	}
	if _, err := cs.RotateSecret(ctx, "cli"); !errors.Is(err, jwtgate.ErrInvalid) {
		t.Errorf("RotateSecret(public) = %v, want ErrInvalid", err)
	}
	if err := cs.Delete(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Find(ctx, "Grafana"); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("Find(deleted) = %v, want ErrNotFound", err)
	}
}
