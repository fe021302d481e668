package throttle_test

import (
	"math"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/throttle"
)

func TestPolicyValidate(t *testing.T) {
	for _, tt := range []struct {
		name      string
		p         throttle.Policy
		wantField string // "" for valid
	}{
		{name: "zero takes defaults", p: throttle.Policy{}},
		{name: "account default", p: throttle.DefaultAccountPolicy},
		{name: "pair default", p: throttle.DefaultPairPolicy},
		{name: "device default", p: throttle.DefaultDevicePolicy},
		{name: "account-wide default", p: throttle.DefaultAccountWidePolicy},
		{name: "ip default", p: throttle.DefaultIPPolicy},
		{name: "MaxFailures 1", p: throttle.Policy{MaxFailures: 1}},
		{name: "MaxFailures at the cap", p: throttle.Policy{MaxFailures: throttle.MaxMaxFailures}},
		{name: "MaxBan equal to BanTime", p: throttle.Policy{BanTime: time.Hour, MaxBan: time.Hour}},
		{name: "negative MaxFailures", p: throttle.Policy{MaxFailures: -1}, wantField: "MaxFailures"},
		{name: "MaxFailures over the cap", p: throttle.Policy{MaxFailures: throttle.MaxMaxFailures + 1}, wantField: "MaxFailures"},
		{name: "negative Window", p: throttle.Policy{Window: -time.Second}, wantField: "Window"},
		{name: "Window too long", p: throttle.Policy{Window: throttle.MaxDuration + 1}, wantField: "Window"},
		{name: "negative BanTime", p: throttle.Policy{BanTime: -1}, wantField: "BanTime"},
		{name: "negative MaxBan", p: throttle.Policy{MaxBan: -1}, wantField: "MaxBan"},
		{name: "MaxBan too long", p: throttle.Policy{MaxBan: math.MaxInt64}, wantField: "MaxBan"},
		{name: "MaxBan below BanTime", p: throttle.Policy{BanTime: 2 * time.Minute, MaxBan: time.Minute}, wantField: "MaxBan"},
		{name: "default MaxBan below BanTime", p: throttle.Policy{BanTime: 2 * time.Hour}, wantField: "MaxBan"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			switch {
			case tt.wantField == "" && err != nil:
				t.Errorf("Validate(%+v) = %v, want nil", tt.p, err)
			case tt.wantField != "" && (err == nil || !strings.Contains(err.Error(), tt.wantField+" =")):
				t.Errorf("Validate(%+v) = %v, want an error naming %s", tt.p, err, tt.wantField)
			}
		})
	}
}

func TestWithDefaults(t *testing.T) {
	if got := (throttle.Policy{}).WithDefaults(); got != throttle.DefaultAccountPolicy {
		t.Errorf("Policy{}.WithDefaults() = %+v, want DefaultAccountPolicy %+v", got, throttle.DefaultAccountPolicy)
	}
	p := throttle.Policy{MaxFailures: 7, MaxBan: 2 * time.Hour}
	want := throttle.Policy{MaxFailures: 7, Window: 15 * time.Minute, BanTime: time.Minute, MaxBan: 2 * time.Hour}
	if got := p.WithDefaults(); got != want {
		t.Errorf("%+v.WithDefaults() = %+v, want %+v", p, got, want)
	}
}

func TestBanFor(t *testing.T) {
	hour := throttle.DefaultAccountPolicy // 1m doubling to 1h
	odd := throttle.Policy{BanTime: 3 * time.Second, MaxBan: 10 * time.Second}
	flat := throttle.Policy{BanTime: time.Minute, MaxBan: time.Minute}
	huge := throttle.Policy{BanTime: time.Nanosecond, MaxBan: math.MaxInt64}
	for _, tt := range []struct {
		name   string
		p      throttle.Policy
		strike int
		want   time.Duration
	}{
		{name: "strike 0 counts as 1", p: hour, strike: 0, want: time.Minute},
		{name: "first", p: hour, strike: 1, want: time.Minute},
		{name: "second", p: hour, strike: 2, want: 2 * time.Minute},
		{name: "sixth", p: hour, strike: 6, want: 32 * time.Minute},
		{name: "seventh capped", p: hour, strike: 7, want: time.Hour},
		{name: "far beyond", p: hour, strike: math.MaxInt, want: time.Hour},
		{name: "cap not a doubling", p: odd, strike: 3, want: 10 * time.Second},
		{name: "flat", p: flat, strike: 5, want: time.Minute},
		{name: "no overflow", p: huge, strike: 200, want: math.MaxInt64},
		{name: "no overflow one short", p: huge, strike: 63, want: 1 << 62},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.BanFor(tt.strike); got != tt.want {
				t.Errorf("BanFor(%d) = %v, want %v", tt.strike, got, tt.want)
			}
		})
	}
}

func TestIPKey(t *testing.T) {
	for _, tt := range []struct {
		in   string // "" for the zero Addr
		want string
	}{
		{in: "203.0.113.7", want: "ip:203.0.113.7"},
		{in: "::ffff:203.0.113.7", want: "ip:203.0.113.7"},
		{in: "2001:db8:1:2:3:4:5:6", want: "ip:2001:db8:1:2::/64"},
		{in: "2001:db8:1:2::ffff", want: "ip:2001:db8:1:2::/64"},
		{in: "fe80::1%eth0", want: "ip:fe80::/64"},
		{in: "::1", want: "ip:::/64"},
		{in: "", want: "ip:unknown"},
	} {
		t.Run(tt.in, func(t *testing.T) {
			var a netip.Addr
			if tt.in != "" {
				a = netip.MustParseAddr(tt.in)
			}
			if got := throttle.IPKey(a); got != tt.want {
				t.Errorf("IPKey(%v) = %q, want %q", a, got, tt.want)
			}
		})
	}
}
