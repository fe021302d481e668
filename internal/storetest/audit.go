package storetest

import (
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
)

func testAudit(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	events := []jwtgate.AuditEvent{
		{At: t0, Type: jwtgate.EventLoginFailed, IP: "203.0.113.1", UserAgent: "curl"},
		{At: t0.Add(time.Second), Type: jwtgate.EventLoginSucceeded, UserID: 7, Name: "alice", IP: "203.0.113.1"},
		{At: t0.Add(2 * time.Second), Type: jwtgate.EventSessionsRevoked, UserID: 7, ActorID: 1, Detail: "2 sessions"},
		{At: t0.Add(3 * time.Second), Type: jwtgate.EventLoginSucceeded, UserID: 8, Name: "bob'; --"},
	}
	for i := range events {
		if err := s.AppendAudit(ctx, &events[i]); err != nil || events[i].ID == 0 {
			t.Fatalf("AppendAudit(%s) = %v, id %d", events[i].Type, err, events[i].ID)
		}
	}
	all, err := s.Audit(ctx, jwtgate.AuditFilter{})
	if err != nil || len(all) != 4 || all[0].ID != events[3].ID || all[3].ID != events[0].ID {
		t.Fatalf("Audit(all) = %+v, %v; want 4 newest first", all, err)
	}
	if got := all[1]; got.Type != jwtgate.EventSessionsRevoked || got.UserID != 7 || got.ActorID != 1 || got.Detail != "2 sessions" || !sameTime(got.At, events[2].At) {
		t.Errorf("Audit round trip = %+v, want %+v", got, events[2])
	}
	if all[0].Name != "bob'; --" {
		t.Errorf("name = %q", all[0].Name)
	}
	for _, tt := range []struct {
		name string
		f    jwtgate.AuditFilter
		want int
	}{
		{"by user", jwtgate.AuditFilter{UserID: 7}, 2},
		{"by type", jwtgate.AuditFilter{Type: jwtgate.EventLoginSucceeded}, 2},
		{"by both", jwtgate.AuditFilter{UserID: 8, Type: jwtgate.EventLoginSucceeded}, 1},
		{"limit", jwtgate.AuditFilter{Limit: 3}, 3},
		{"page", jwtgate.AuditFilter{BeforeID: events[2].ID}, 2},
		{"none", jwtgate.AuditFilter{Type: "nope"}, 0},
	} {
		got, err := s.Audit(ctx, tt.f)
		if err != nil || len(got) != tt.want {
			t.Errorf("Audit(%s) = %d events, %v; want %d", tt.name, len(got), err, tt.want)
		}
	}
}
