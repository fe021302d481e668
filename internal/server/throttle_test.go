package server

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

func loginReq(name, pw, remote, xff string) *http.Request {
	req := httptest.NewRequest("POST", "/login", strings.NewReader(`{"name":"`+name+`","password":"`+pw+`"}`))
	req.RemoteAddr = remote
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	return req
}

// TestThrottle429: the sixth wrong password in a row gets 429 with a
// Retry-After; the right password during the lock gets the same 429.
func TestThrottle429(t *testing.T) {
	f := newFixture(t, Options{})
	for i := range 5 {
		if r := f.do(loginReq("alice", "wrong", "203.0.113.1:1234", "")); r.code != 400 {
			t.Fatalf("wrong login #%d = %d, want 400", i+1, r.code)
		}
	}
	for _, pw := range []string{"wrong", "alice-pass"} {
		r := f.do(loginReq("alice", pw, "203.0.113.1:1234", ""))
		secs, err := strconv.Atoi(r.header.Get("Retry-After"))
		if r.code != 429 || r.json(t)["error"] != "throttled" || err != nil || secs < 1 || secs > 60 {
			t.Errorf("login(%s) while locked = %d %s Retry-After %q, want 429 throttled with 1..60", pw, r.code, r.body, r.header.Get("Retry-After"))
		}
	}
}

// TestTrustedProxies: X-Forwarded-For is ignored by default (so a client
// cannot dodge the per-address limit by inventing addresses), and believed
// only from a configured proxy.
func TestTrustedProxies(t *testing.T) {
	t.Run("untrusted", func(t *testing.T) {
		f := newFixture(t, Options{})
		for i := range 20 {
			f.do(loginReq("nobody"+strconv.Itoa(i), "x", "198.51.100.1:1", "10.0.0."+strconv.Itoa(i)))
		}
		// All counted against the real peer, whatever the header said.
		if r := f.do(loginReq("alice", "alice-pass", "198.51.100.1:1", "10.9.9.9")); r.code != 429 {
			t.Errorf("login after 20 spoofed-XFF failures = %d, want 429", r.code)
		}
	})
	t.Run("trusted", func(t *testing.T) {
		f := newFixture(t, Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
		for i := range 20 {
			f.do(loginReq("nobody"+strconv.Itoa(i), "x", "127.0.0.1:1", "203.0.113.50"))
		}
		// Behind the proxy, one client is locked and another is not.
		if r := f.do(loginReq("alice", "alice-pass", "127.0.0.1:1", "203.0.113.50")); r.code != 429 {
			t.Errorf("locked client via proxy = %d, want 429", r.code)
		}
		if r := f.do(loginReq("alice", "alice-pass", "127.0.0.1:1", "203.0.113.51")); r.code != 200 {
			t.Errorf("other client via proxy = %d, want 200", r.code)
		}
	})
}
