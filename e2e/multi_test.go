package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/pgtest"
	"github.com/jwtgate/jwtgate/internal/testkit"
	"github.com/jwtgate/jwtgate/token"
)

// TestThreeInstancesOnPostgres runs three real jwtgate processes on one
// PostgreSQL schema: a login on A is good on B, a refresh on C continues
// it, a logout on A is refused by B and C within the stated bound (2 s)
// with no call between the instances, and a key rotated on B shows in A's
// and C's JWKS within it too. The delays are logged; the 2 s bound is
// asserted only with JGTEST_TIMING=1, since a loaded machine misses it
// without a bug.
func TestThreeInstancesOnPostgres(t *testing.T) {
	t.Parallel()
	db := pgtest.FreshSchema(t)
	args := []string{"--demo", "--db", db, "--issuer", "http://jwtgate.cluster"}
	a := StartServer(t, "", args)
	b := StartServer(t, "", args)
	c := StartServer(t, "", args)

	login := send(t, "POST", a.URL+"/login", loginJSON("admin", "1234")).jsonBody()
	tok, _ := login["token"].(string)
	if tok == "" {
		t.Fatalf("login on A = %v", login)
	}
	if code, name := userName(t, b.URL, tok); code != 200 || name != "admin" {
		t.Fatalf("A's token on B = %d %q", code, name)
	}
	refreshed := send(t, "POST", c.URL+"/token/refresh", []byte(`{"refresh_token":"`+login["refresh_token"].(string)+`"}`))
	if refreshed.status != 200 {
		t.Fatalf("refresh on C = %d %s", refreshed.status, refreshed.body)
	}
	tok2 := refreshed.jsonBody()["token"].(string)
	for _, s := range []*Server{a, b} {
		if code, _ := userName(t, s.URL, tok2); code != 200 {
			t.Fatalf("C's refreshed token on %s = %d", s.URL, code)
		}
	}

	if r := send(t, "POST", a.URL+"/logout", nil, "Authorization", "Bearer "+tok); r.status != 204 {
		t.Fatalf("logout on A = %d", r.status)
	}
	for _, s := range []*Server{b, c} {
		for _, tk := range []string{tok, tok2} {
			took := testkit.Eventually(t, "logout reaching "+s.URL, func() bool { code, _ := userName(t, s.URL, tk); return code == 401 })
			t.Logf("logout on A refused on %s after %s", s.URL, took.Round(time.Millisecond))
			if testkit.Timing() && took > 2*time.Second {
				t.Errorf("logout reached %s after %s, want within 2 s", s.URL, took)
			}
		}
	}

	admin := loginToken(t, b.URL, "admin", "1234")
	r := send(t, "POST", b.URL+"/admin/keys/rotate", nil, "Authorization", "Bearer "+admin)
	if r.status != 201 {
		t.Fatalf("rotate on B = %d %s", r.status, r.body)
	}
	kid := r.jsonBody()["kid"].(string)
	for _, s := range []*Server{a, c} {
		took := testkit.Eventually(t, "rotation reaching "+s.URL, func() bool {
			keys, err := token.ParseJWKS(send(t, "GET", s.URL+"/.well-known/jwks.json", nil).body)
			return err == nil && slices.ContainsFunc(keys, func(k *token.Key) bool { return k.ID == kid })
		})
		t.Logf("rotation on B published by %s after %s", s.URL, took.Round(time.Millisecond))
		if testkit.Timing() && took > 2*time.Second {
			t.Errorf("rotation reached %s after %s, want within 2 s", s.URL, took)
		}
	}

	// Disabling a user on one instance ends their sessions everywhere.
	if r := send(t, "POST", c.URL+"/admin/users", []byte(`{"name":"erin","password":"erin-password"}`), "Authorization", "Bearer "+admin); r.status != 201 {
		t.Fatalf("create erin = %d", r.status)
	}
	erin := loginToken(t, a.URL, "erin", "erin-password")
	if r := send(t, "POST", b.URL+"/admin/users/erin/disable", nil, "Authorization", "Bearer "+admin); r.status != 204 {
		t.Fatalf("disable erin on B = %d", r.status)
	}
	took := testkit.Eventually(t, "disable reaching A", func() bool { code, _ := userName(t, a.URL, erin); return code == 401 })
	t.Logf("user disabled on B refused on A after %s", took.Round(time.Millisecond))

	// Brute force spread over the three instances is counted once, for the
	// cluster: the fifth failure, whichever instance takes it, locks the
	// account everywhere.
	if r := send(t, "POST", a.URL+"/admin/users", []byte(`{"name":"frank","password":"frank-password"}`), "Authorization", "Bearer "+admin); r.status != 201 {
		t.Fatalf("create frank = %d", r.status)
	}
	instances := []*Server{a, b, c}
	for i := range 5 {
		s := instances[i%3]
		if r := send(t, "POST", s.URL+"/login", loginJSON("frank", "wrong")); r.status != 400 {
			t.Fatalf("failure %d on %s = %d, want 400", i+1, s.URL, r.status)
		}
	}
	for _, s := range instances {
		if r := send(t, "POST", s.URL+"/login", loginJSON("frank", "frank-password")); r.status != 429 {
			t.Errorf("right password on %s after 5 failures spread over 3 instances = %d, want 429", s.URL, r.status)
		}
	}
}
