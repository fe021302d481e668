package sqlrow

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
)

func TestTimes(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"drops sub-millisecond", time.Date(2026, 12, 5, 18, 0, 0, 1_999_999, time.UTC), time.Date(2026, 12, 5, 18, 0, 0, 1_000_000, time.UTC)},
		{"turns zones into UTC", time.Date(2026, 1, 1, 1, 0, 0, 0, time.FixedZone("x", 3600)), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"year 9999", time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := Time(Millis(tt.in)); !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Errorf("Time(Millis(%v)) = %v, want %v", tt.in, got, tt.want)
			}
			if got := NullTime(NullMillis(&tt.in)); got == nil || !got.Equal(tt.want) {
				t.Errorf("NullTime(NullMillis(%v)) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
	if NullMillis(nil) != nil || NullTime(nil) != nil {
		t.Error("NullMillis(nil) or NullTime(nil) is not nil")
	}
}

func TestRoles(t *testing.T) {
	for _, tt := range []struct {
		name    string
		roles   []string
		joined  string
		invalid bool
	}{
		{"none", nil, "", false},
		{"two", []string{"admin", "ops"}, "admin,ops", false},
		{"empty role", []string{"admin", ""}, "", true},
		{"comma", []string{"a,b"}, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := JoinRoles(tt.roles)
			if tt.invalid {
				if !errors.Is(err, jwtgate.ErrInvalid) {
					t.Errorf("JoinRoles(%q) = %q, %v, want ErrInvalid", tt.roles, got, err)
				}
				return
			}
			if err != nil || got != tt.joined {
				t.Fatalf("JoinRoles(%q) = %q, %v, want %q", tt.roles, got, err, tt.joined)
			}
			if back := SplitRoles(got); !slices.Equal(back, tt.roles) || (tt.roles == nil) != (back == nil) {
				t.Errorf("SplitRoles(%q) = %#v, want %#v", got, back, tt.roles)
			}
		})
	}
}
