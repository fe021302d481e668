package auth

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/throttle"
)

// ThrottledError is returned while an account, address or device must wait,
// or while a client or account already has its share of logins in progress.
// It wraps jwtgate.ErrThrottled; Wait is the Retry-After.
type ThrottledError struct {
	Wait time.Duration
	// InProgress is set when the refusal is about concurrent logins (the
	// hashing limiter's per-key cap), not about failed ones.
	InProgress bool
}

func (e *ThrottledError) Error() string {
	if e.InProgress {
		return fmt.Sprintf("%v: too many logins in progress; retry in %s", jwtgate.ErrThrottled, e.Wait.Round(time.Second))
	}
	return fmt.Sprintf("%v: retry in %s", jwtgate.ErrThrottled, e.Wait.Round(time.Second))
}

func (e *ThrottledError) Unwrap() error { return jwtgate.ErrThrottled }

// attempt names the limiter keys of one password attempt.
//
// Without a device cookie an attempt counts on three keys: the pair of
// account and address (the tight limit, so a stranger who guesses from one
// address locks only that address out of that account), the address (so
// one source cannot spray many accounts), and the account alone (a higher
// limit that bounds a guessing attack spread over many addresses). With a
// device cookie that this account issued to this browser at an earlier
// successful login (OWASP's device cookies), the attempt counts only on the
// device's own key: strangers' failures, however many and from wherever,
// never lock the owner's known browsers out.
type attempt struct {
	account string // "user:" and the folded name; unknown names count too, or a lock would reveal which names exist
	addr    string // "ip:" and the address (its /64 for IPv6); "ip:unknown" without one
	pair    string // "pair:" addr "|" account
	device  string // "device:" and the cookie's id, if a valid device cookie came with the attempt
}

// newAttempt returns the keys of an attempt on name from c.
func (s *Service) newAttempt(name string, c Client) attempt {
	var a netip.Addr
	if ip, err := netip.ParseAddr(c.IP); err == nil {
		a = ip
	}
	at := attempt{account: "user:" + jwtgate.NameKey(name), addr: throttle.IPKey(a)}
	at.pair = "pair:" + at.addr + "|" + at.account // an address key holds no "|"
	if id := s.deviceID(name, c.Device); id != "" {
		at.device = "device:" + id
	}
	return at
}

// limits returns the limiters and keys that throttle a.
func (s *Service) limits(a attempt) []limit {
	if a.device != "" {
		return []limit{{s.o.DeviceLimiter, a.device, "device"}}
	}
	return []limit{
		{s.o.PairLimiter, a.pair, "account from this address"},
		{s.o.IPLimiter, a.addr, "client address"},
		{s.o.AccountLimiter, a.account, "account"},
	}
}

type limit struct {
	l    throttle.Limiter
	key  string
	what string // for the audit event: what got locked
}

// capped are the keys whose concurrent password checks the hashing limiter
// caps: the address, and the account or, with a device cookie, the device.
func (a attempt) capped() []string {
	if a.device != "" {
		return []string{a.addr, a.device}
	}
	return []string{a.addr, a.account}
}

// throttleCheck refuses an attempt while any of its keys waits. It runs
// before any password work, so a locked account gets the same answer
// whether or not the password would have been right.
func (s *Service) throttleCheck(ctx context.Context, a attempt) error {
	var wait time.Duration
	for _, l := range s.limits(a) {
		w, err := l.l.Check(ctx, l.key)
		if err != nil {
			return fmt.Errorf("%w: throttle: %v", jwtgate.ErrBusy, err)
		}
		wait = max(wait, w)
	}
	if wait > 0 {
		return &ThrottledError{Wait: wait}
	}
	return nil
}

// throttleFail counts a failed attempt on each of its keys. It must count
// even if the client hung up, so it ignores ctx's cancellation. A lock it
// imposes is audited.
func (s *Service) throttleFail(ctx context.Context, a attempt, e jwtgate.AuditEvent) {
	ctx = context.WithoutCancel(ctx)
	var wait time.Duration
	for _, l := range s.limits(a) {
		w, err := l.l.Fail(ctx, l.key)
		if err != nil {
			s.o.Logger.Error("throttle: counting a failed login", "err", err)
		}
		if w > wait {
			wait, e.Detail = w, l.what+" locked"
		}
	}
	if wait > 0 {
		e.Type = jwtgate.EventLoginThrottled
		e.Detail += fmt.Sprintf(" for %s", wait.Round(time.Second))
		s.audit(ctx, e)
	}
}

// throttleSuccess forgets the failures of the keys a successful login
// proves were the owner's: the device, or the pair of account and address.
// The address key is not reset (one valid account must not launder an
// address's failures on other accounts), nor the account's global key (the
// owner's success says nothing about a guessing attack elsewhere).
func (s *Service) throttleSuccess(ctx context.Context, a attempt) {
	ctx = context.WithoutCancel(ctx)
	l, key := s.o.PairLimiter, a.pair
	if a.device != "" {
		l, key = s.o.DeviceLimiter, a.device
	}
	if err := l.Reset(ctx, key); err != nil {
		s.o.Logger.Error("throttle: reset after login", "err", err)
	}
}
