package jwtgate

import (
	"testing"
	"time"
)

func TestSessionLive(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	revoked := now.Add(-time.Minute)
	tests := []struct {
		name string
		s    Session
		want bool
	}{
		{name: "live", s: Session{ExpiresAt: now.Add(time.Hour)}, want: true},
		{name: "expires a nanosecond later", s: Session{ExpiresAt: now.Add(time.Nanosecond)}, want: true},
		{name: "expires now", s: Session{ExpiresAt: now}, want: false},
		{name: "expired", s: Session{ExpiresAt: now.Add(-time.Hour)}, want: false},
		{name: "revoked", s: Session{ExpiresAt: now.Add(time.Hour), RevokedAt: &revoked}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.s.Live(now); got != tt.want {
				t.Errorf("Session{ExpiresAt: %v, RevokedAt: %v}.Live(%v) = %v, want %v", tt.s.ExpiresAt, tt.s.RevokedAt, now, got, tt.want)
			}
		})
	}
}
