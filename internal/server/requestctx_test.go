package server

import (
	"bytes"
	"context"
	"net/http/httptest"
	"testing"

	"github.com/jwtgate/jwtgate"
)

// TestAuditRecordsTheClient: the rules learn where a request came from and
// who acted through the request's context, on public routes (a failed
// login) and on authenticated ones (an admin disabling a user).
func TestAuditRecordsTheClient(t *testing.T) {
	f := newFixture(t, Options{})
	admin := f.login(t, "admin", "admin-pass")
	ctx := context.Background()

	tests := []struct {
		name      string
		method    string
		path      string
		token     string
		body      string
		eventType string
		wantActor bool
		from      string
	}{
		{name: "public: failed login", method: "POST", path: "/login", body: `{"name":"alice","password":"wrong-password"}`,
			eventType: jwtgate.EventLoginFailed, from: "198.51.100.7"},
		{name: "authenticated: admin disables alice", method: "POST", path: "/admin/users/alice/disable", token: admin,
			eventType: jwtgate.EventUserDisabled, wantActor: true, from: "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, bytes.NewReader([]byte(tt.body)))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("User-Agent", "audit-test/1")
			req.RemoteAddr = tt.from + ":4321"
			if tt.token != "" {
				req.Header.Set("Authorization", "Bearer "+tt.token)
			}
			if r := f.do(req); r.code >= 500 {
				t.Fatalf("%s %s = %d %s", tt.method, tt.path, r.code, r.body)
			}
			events, err := f.svc.Audit(ctx, jwtgate.AuditFilter{Type: tt.eventType, Limit: 1})
			if err != nil || len(events) != 1 {
				t.Fatalf("Audit(%s) = %v, %v; want one event", tt.eventType, events, err)
			}
			e := events[0]
			if e.IP != tt.from || e.UserAgent != "audit-test/1" {
				t.Errorf("%s event from %s = ip %q, user agent %q; want %q, audit-test/1", tt.eventType, tt.from, e.IP, e.UserAgent, tt.from)
			}
			if (e.ActorID != 0) != tt.wantActor {
				t.Errorf("%s event actor = %d, want an actor: %v", tt.eventType, e.ActorID, tt.wantActor)
			}
		})
	}
}
