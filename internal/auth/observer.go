package auth

import (
	"errors"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/token"
)

// Observer is told what logins, verifications and refreshes came to, for
// metrics. internal/metrics implements it; the rules stay free of any
// metrics library. Implementations must be safe for concurrent use and fast.
type Observer interface {
	Login(outcome string)             // success, bad_credentials, throttled, busy, invalid
	Verification(result string)       // ok, revoked, expired, unknown_key, invalid
	Refresh(outcome string)           // ok, grace, invalid, reused
	Hash(d time.Duration)             // one password hash or check
	Store(op string, d time.Duration) // one store operation on the login, refresh or sync path
}

type nopObserver struct{}

func (nopObserver) Login(string)                {}
func (nopObserver) Verification(string)         {}
func (nopObserver) Refresh(string)              {}
func (nopObserver) Hash(time.Duration)          {}
func (nopObserver) Store(string, time.Duration) {}

// timed runs one store operation and reports how long it took.
func timed[T any](s *Service, op string, f func() (T, error)) (T, error) {
	start := time.Now()
	v, err := f()
	s.o.Observer.Store(op, time.Since(start))
	return v, err
}

func loginOutcome(err error) string {
	switch {
	case err == nil:
		return "success"
	case errors.Is(err, jwtgate.ErrBadCredentials):
		return "bad_credentials"
	case errors.Is(err, jwtgate.ErrThrottled):
		return "throttled"
	case errors.Is(err, jwtgate.ErrBusy):
		return "busy"
	}
	return "invalid"
}

func verifyResult(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, ErrRevoked):
		return "revoked"
	case errors.Is(err, token.ErrExpired):
		return "expired"
	case errors.Is(err, token.ErrUnknownKey):
		return "unknown_key"
	}
	return "invalid"
}
