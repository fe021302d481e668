package e2e

import (
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/pgtest"
	"github.com/jwtgate/jwtgate/internal/testkit"
)

// TestDemotionReachesEveryInstance (issue 17 §3): an admin demoted on one
// instance loses admin powers on every instance within seconds, although
// the access token they already hold still says "admin" and has not
// expired. Losing a role revokes the user's sessions, and the revocation
// feed carries that to the other instance.
func TestDemotionReachesEveryInstance(t *testing.T) {
	t.Parallel()
	db := pgtest.FreshSchema(t)
	args := []string{"--demo", "--db", db, "--issuer", "http://jwtgate.cluster"}
	a := StartServer(t, "", args)
	b := StartServer(t, "", args)

	admin := loginToken(t, a.URL, "admin", "1234")
	if r := send(t, "POST", a.URL+"/admin/users", []byte(`{"name":"dave","password":"dave-password","roles":["admin"]}`), "Authorization", "Bearer "+admin); r.status != 201 {
		t.Fatalf("create dave = %d %s", r.status, r.body)
	}
	dave := loginToken(t, b.URL, "dave", "dave-password")
	for _, s := range []*Server{a, b} {
		if r := send(t, "GET", s.URL+"/admin/users", nil, "Authorization", "Bearer "+dave); r.status != 200 {
			t.Fatalf("GET /admin/users as admin dave on %s = %d, want 200", s.URL, r.status)
		}
	}

	if r := send(t, "PUT", a.URL+"/admin/users/dave/roles", []byte(`{"roles":[]}`), "Authorization", "Bearer "+admin); r.status != 204 {
		t.Fatalf("PUT /admin/users/dave/roles [] on A = %d %s", r.status, r.body)
	}
	for _, s := range []*Server{a, b} {
		took := testkit.Eventually(t, "demotion reaching "+s.URL, func() bool {
			r := send(t, "GET", s.URL+"/admin/users", nil, "Authorization", "Bearer "+dave)
			return r.status == 401 || r.status == 403
		})
		t.Logf("demotion on A refused dave's old token on %s after %s", s.URL, took.Round(time.Millisecond))
		// Undoing the demotion with the old token must fail too.
		r := send(t, "POST", s.URL+"/admin/users", []byte(`{"name":"dave2","password":"dave-password","roles":["admin"]}`), "Authorization", "Bearer "+dave)
		if r.status != 401 && r.status != 403 {
			t.Errorf("POST /admin/users with demoted dave's token on %s = %d, want 401 or 403", s.URL, r.status)
		}
	}
	// Logging in again works, without admin.
	fresh := loginToken(t, b.URL, "dave", "dave-password")
	if r := send(t, "GET", b.URL+"/admin/users", nil, "Authorization", "Bearer "+fresh); r.status != 403 {
		t.Errorf("GET /admin/users with dave's new token = %d, want 403", r.status)
	}
}
