// Package throttle slows down password guessing: it counts failed logins per
// key (an account, a client address) and, past a threshold, makes the key
// wait before it may try again, with a wait that doubles while the key keeps
// failing (OWASP ASVS v5 anti-automation; the shape of Authelia's
// "regulation": max_retries, find_time, ban_time).
//
// # Throttling, not lockout
//
// A per-account lock is a denial-of-service tool: anyone who knows a user
// name can lock its owner out. OWASP's Authentication Cheat Sheet therefore
// prefers throttling to hard lockout, and this package follows it:
//
//   - A lock is always temporary. It starts short (Policy.BanTime, default
//     1 minute) and grows only while failures keep coming, up to
//     Policy.MaxBan (default 1 hour).
//   - A failure while a key is locked changes nothing: it neither extends
//     the lock nor climbs the backoff ladder. A flood of requests cannot keep
//     a lock running; only one new failure after each lock ends can, and that
//     buys the attacker one guess per lock, which is the point.
//   - A key that stays quiet for Policy.Window after its last lock ends is
//     forgotten, so a user who mistyped a password yesterday starts fresh.
//
// The residual risk is accepted and bounded, and the server narrows it by
// how it keys its limiters (internal/auth/throttle.go): the tight limit
// (DefaultPairPolicy) is per account AND client address, so a stranger
// guessing from one address locks only that address out of the account; a
// per-address limit (DefaultIPPolicy) stops one source spraying many
// accounts; a much higher per-account limit (DefaultAccountWidePolicy) bounds a
// guessing attack spread over many addresses; and a browser that logged in
// to the account before carries a device cookie (OWASP "Slow Down Online
// Guessing Attacks with Device Cookies") whose attempts count only against
// that device (DefaultDevicePolicy), so no stranger can lock it out.
//
// # Using a Limiter
//
// The login handler calls Check for every key before it verifies the
// password (and answers 429 with Retry-After, without hashing, while any key
// waits), Fail for every key after a wrong password, and Reset for the
// account-and-address (or device) key after a right one. The client-address
// key is not reset on success: one valid account must not launder an
// address's failures on other accounts.
package throttle

import (
	"context"
	"time"
)

// Limiter counts failed logins per key (e.g. "user:alice", "ip:203.0.113.7")
// and says when a key is locked. Keys are opaque strings of any bytes.
//
// Implementations are safe for concurrent use, by goroutines and, for shared
// stores such as Redis or PostgreSQL, by several processes. Each method is
// atomic on its own: Fail in particular is one read-modify-write, so
// concurrent failures are all counted and exactly one of them imposes each
// lock.
//
// Check and Fail are deliberately separate operations, and the race between
// them is accepted: several attempts on one key that all pass Check before
// the failure that locks the key is recorded are all verified, so an
// attacker gains at most as many extra guesses as it has logins in flight at
// that moment (the password hashing limiter bounds that number), once per
// lock. Merging them into one "reserve an attempt" operation would close the
// gap but costs a write on every login, including successful ones, and a
// refund protocol that a crash can leave half done.
//
// An implementation that stores state elsewhere may fail; callers should
// then refuse the login (503) rather than let it through, because brute-force
// protection that turns off when its store is unreachable invites attackers
// to make it unreachable. Fail should be given a context that outlives the
// client's connection (context.WithoutCancel), or a client that hangs up
// right after a wrong password escapes the count.
type Limiter interface {
	// Check reports whether key may try now; if not, how long until it may (for Retry-After).
	Check(ctx context.Context, key string) (wait time.Duration, err error)
	// Fail records a failure for key and returns the wait now imposed (0 if none yet).
	Fail(ctx context.Context, key string) (wait time.Duration, err error)
	// Reset forgets key (after a successful login of that account).
	Reset(ctx context.Context, key string) error
}
