package e2e

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/testkit"
)

// TestBruteForceSharedByRedis: two instances with --redis count failed
// logins together, whatever their store (here both on one SQLite file),
// so the account limit holds for the pair.
func TestBruteForceSharedByRedis(t *testing.T) {
	t.Parallel()
	url := os.Getenv("JGTEST_REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	if c, err := net.DialTimeout("tcp", "127.0.0.1:6379", time.Second); err != nil {
		testkit.RequireOrSkip(t, "JGTEST_REQUIRE_REDIS", "Redis not reachable at 127.0.0.1:6379: "+err.Error())
	} else {
		c.Close()
	}
	dir := t.TempDir()
	args := []string{"--demo", "--redis", url, "--trusted-proxies", "127.0.0.1"}
	a := StartServer(t, dir, args)
	b := StartServer(t, dir, args)
	// Counters outlive a test run in Redis: a fresh user and client address
	// each run keep runs independent.
	user := fmt.Sprintf("grace%d", rand.Uint32())
	client := fmt.Sprintf("198.51.100.%d", 1+rand.IntN(250))
	admin := loginToken(t, a.URL, "admin", "1234")
	if r := send(t, "POST", a.URL+"/admin/users", []byte(`{"name":"`+user+`","password":"grace-password"}`), "Authorization", "Bearer "+admin); r.status != 201 {
		t.Fatalf("create %s = %d %s", user, r.status, r.body)
	}
	for i := range 5 {
		s := []*Server{a, b}[i%2]
		if r := send(t, "POST", s.URL+"/login", loginJSON(user, "wrong"), from(client)...); r.status != 400 {
			t.Fatalf("failure %d on %s = %d, want 400", i+1, s.URL, r.status)
		}
	}
	for _, s := range []*Server{a, b} {
		if r := send(t, "POST", s.URL+"/login", loginJSON(user, "grace-password"), from(client)...); r.status != 429 {
			t.Errorf("right password on %s after 5 failures over 2 instances = %d, want 429", s.URL, r.status)
		}
	}
	// The lock is on that client's address, not on the account (issue 17 §6).
	other := fmt.Sprintf("203.0.113.%d", 1+rand.IntN(250))
	if r := send(t, "POST", b.URL+"/login", loginJSON(user, "grace-password"), from(other)...); r.status != 200 {
		t.Errorf("right password from another address during the lock = %d %s, want 200", r.status, r.body)
	}
}
