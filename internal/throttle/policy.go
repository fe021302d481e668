package throttle

import (
	"fmt"
	"time"
)

// MaxMaxFailures is the largest Policy.MaxFailures that Validate accepts.
// NIST SP 800-63B (5.2.2) caps consecutive failed attempts on one account at
// 100, and the cap bounds what a limiter stores per key.
const MaxMaxFailures = 100

// MaxDuration is the longest Window, BanTime or MaxBan that Validate
// accepts. A longer lock is a hard lockout in all but name, and the bound
// keeps time arithmetic far from overflow.
const MaxDuration = 30 * 24 * time.Hour

// Policy says when failures lock a key and for how long. A zero field means
// its default (see WithDefaults), so Policy{} is a safe policy.
//
// MaxFailures failures within Window lock the key for BanTime. Once a key
// has been locked, the next failure after the lock ends locks it again for
// twice as long as the lock before (BanTime, 2×, 4×, … capped at MaxBan),
// until the key stays quiet for Window after a lock ends and is forgotten.
// Failures while locked are ignored.
//
// The window slides: a failure counts toward the threshold for exactly
// Window after it happened.
type Policy struct {
	MaxFailures int           // failures within Window that lock the key; default 5, at most MaxMaxFailures
	Window      time.Duration // how long a failure is remembered; default 15m
	BanTime     time.Duration // the first lock; default 1m
	MaxBan      time.Duration // the longest lock; default 1h, not below BanTime
}

// DefaultAccountPolicy is the tight per-account limit: 5 failures in 15
// minutes lock for 1 minute, doubling to at most 1 hour while failures
// continue. The server applies it to an account as tried from one client
// address (DefaultPairPolicy) or from one device-cookie browser
// (DefaultDevicePolicy), never to the account from everywhere, which
// anyone who knows the name could then lock (DefaultAccountWidePolicy).
var DefaultAccountPolicy = Policy{MaxFailures: 5, Window: 15 * time.Minute, BanTime: time.Minute, MaxBan: time.Hour}

// DefaultPairPolicy throttles one account from one client address (see
// IPKey): DefaultAccountPolicy's numbers. It is the limit a user who
// mistypes meets, and the one a stranger guessing from one address meets:
// the lock falls on the stranger's address, not on the account, so the
// owner elsewhere logs in as usual.
var DefaultPairPolicy = DefaultAccountPolicy

// DefaultDevicePolicy throttles one device cookie (a browser that logged in
// to the account before): the same numbers. Attempts with a valid device
// cookie count only here, so strangers cannot lock the owner's known
// browsers out (OWASP's device cookies).
var DefaultDevicePolicy = DefaultAccountPolicy

// DefaultIPPolicy throttles one client address (see IPKey) across all
// accounts: 20 failures in 15 minutes, then the same ladder. The threshold
// is higher because many honest users can share an address (NAT, a campus,
// a carrier), and it is what stops one source from guessing across many
// accounts.
var DefaultIPPolicy = Policy{MaxFailures: 20, Window: 15 * time.Minute, BanTime: time.Minute, MaxBan: time.Hour}

// DefaultAccountWidePolicy throttles one account from everywhere together
// (attempts without a device cookie): 100 failures in 15 minutes, then the
// same ladder. It bounds a guessing attack spread over many addresses, to
// about 100 guesses in the first 15 minutes and one per lock after that
// (1, 2, 4 … 60 minutes); it is high so that only such an attack, never one
// stranger, can make the owner's new browsers wait.
var DefaultAccountWidePolicy = Policy{MaxFailures: 100, Window: 15 * time.Minute, BanTime: time.Minute, MaxBan: time.Hour}

// WithDefaults returns p with every zero field set to its default.
func (p Policy) WithDefaults() Policy {
	if p.MaxFailures == 0 {
		p.MaxFailures = 5
	}
	if p.Window == 0 {
		p.Window = 15 * time.Minute
	}
	if p.BanTime == 0 {
		p.BanTime = time.Minute
	}
	if p.MaxBan == 0 {
		p.MaxBan = time.Hour
	}
	return p
}

// Validate reports the first field of p (after defaults) that is out of
// range, by name, so a configuration error can point at the setting.
func (p Policy) Validate() error {
	d := p.WithDefaults()
	switch {
	case d.MaxFailures < 1 || d.MaxFailures > MaxMaxFailures:
		return fmt.Errorf("throttle: MaxFailures = %d, want 1..%d", p.MaxFailures, MaxMaxFailures)
	case d.Window < 0 || d.Window > MaxDuration:
		return fmt.Errorf("throttle: Window = %v, want > 0 and ≤ %v", p.Window, MaxDuration)
	case d.BanTime < 0 || d.BanTime > MaxDuration:
		return fmt.Errorf("throttle: BanTime = %v, want > 0 and ≤ %v", p.BanTime, MaxDuration)
	case d.MaxBan < 0 || d.MaxBan > MaxDuration:
		return fmt.Errorf("throttle: MaxBan = %v, want > 0 and ≤ %v", p.MaxBan, MaxDuration)
	case d.MaxBan < d.BanTime:
		return fmt.Errorf("throttle: MaxBan = %v, want at least BanTime (%v)", d.MaxBan, d.BanTime)
	}
	return nil
}

// BanFor returns the length of the lock imposed by the strike-th lock of a
// key (1 for the first): BanTime doubled strike-1 times, capped at MaxBan.
// It expects p with defaults applied; strikes below 1 count as 1.
func (p Policy) BanFor(strike int) time.Duration {
	ban := p.BanTime
	for i := 1; i < strike && ban > 0 && ban < p.MaxBan; i++ {
		if ban > p.MaxBan/2 {
			return p.MaxBan // doubling would reach the cap (and could overflow)
		}
		ban *= 2
	}
	return min(ban, p.MaxBan)
}
