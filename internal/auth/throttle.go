package auth

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/throttle"
)

// ThrottledError is returned while an account or client must wait. It
// wraps jwtgate.ErrThrottled; Wait is the Retry-After.
type ThrottledError struct{ Wait time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v: retry in %s", jwtgate.ErrThrottled, e.Wait.Round(time.Second))
}

func (e *ThrottledError) Unwrap() error { return jwtgate.ErrThrottled }

// throttleKeys are the limiter keys of one attempt: the account name as
// typed (folded, so "Admin" and "admin" count together; unknown names count
// too, or a lock would reveal which names exist) and the client address.
func throttleKeys(name, ip string) (account, addr string) {
	account = "user:" + jwtgate.NameKey(name)
	if a, err := netip.ParseAddr(ip); err == nil {
		addr = throttle.IPKey(a)
	}
	return account, addr
}

// throttleCheck refuses an attempt while the account or the address waits.
// It runs before any password work, so a locked account gets the same
// answer whether or not the password would have been right.
func (s *Service) throttleCheck(ctx context.Context, account, addr string) error {
	wait, err := s.o.AccountLimiter.Check(ctx, account)
	if err != nil {
		return fmt.Errorf("%w: throttle: %v", jwtgate.ErrBusy, err)
	}
	if addr != "" {
		w, err := s.o.IPLimiter.Check(ctx, addr)
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

// throttleFail counts a failed attempt on both keys. It must count even if
// the client hung up, so it ignores ctx's cancellation. A lock it imposes is
// audited.
func (s *Service) throttleFail(ctx context.Context, account, addr string, e jwtgate.AuditEvent) {
	ctx = context.WithoutCancel(ctx)
	wait, err := s.o.AccountLimiter.Fail(ctx, account)
	if err != nil {
		s.o.Logger.Error("throttle: counting a failed login", "err", err)
	}
	if addr != "" {
		w, err := s.o.IPLimiter.Fail(ctx, addr)
		if err != nil {
			s.o.Logger.Error("throttle: counting a failed login", "err", err)
		}
		if w > 0 && wait == 0 {
			e.Detail = "client address locked"
		}
		wait = max(wait, w)
	}
	if wait > 0 {
		if e.Detail == "" {
			e.Detail = "account locked"
		}
		e.Type = jwtgate.EventLoginThrottled
		e.Detail += fmt.Sprintf(" for %s", wait.Round(time.Second))
		s.audit(ctx, e)
	}
}
