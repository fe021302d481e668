package mfa

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image/png"
	"net/netip"
	"strconv"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/seal"
	"github.com/jwtgate/jwtgate/internal/throttle"
)

// Errors, each wrapped with context.
var (
	// ErrWrongCode: the code (TOTP or recovery) is not valid now. It does
	// not say which part was wrong.
	ErrWrongCode = errors.New("wrong code")
	// ErrNoFactor: the user has no second factor of the kind asked for.
	ErrNoFactor = errors.New("no second factor enrolled")
)

// Methods a code was accepted by, as RFC 8176 amr values name them.
const (
	MethodOTP      = "otp"
	MethodRecovery = "rc" // not in RFC 8176's registry; recorded in the audit, not in tokens
)

// Options configure a Service.
type Options struct {
	// Issuer names the server in authenticator apps (the public host).
	Issuer string
	// Sealer seals TOTP secrets at rest; nil stores them plain.
	Sealer *seal.Sealer
	// AccountLimiter and IPLimiter throttle wrong codes per user and per
	// client address, as wrong passwords are; nil means in-memory ones
	// with throttle's default policies.
	AccountLimiter, IPLimiter throttle.Limiter
	// Audit records events; nil records nothing.
	Audit func(context.Context, jwtgate.AuditEvent)
	Now   func() time.Time
}

// Service enrols and checks second factors. Safe for concurrent use.
type Service struct {
	store jwtgate.FactorStore
	o     Options
}

// New returns a Service over store.
func New(store jwtgate.FactorStore, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.AccountLimiter == nil {
		o.AccountLimiter = throttle.NewMemoryCap(throttle.DefaultAccountPolicy, o.Now, 100_000)
	}
	if o.IPLimiter == nil {
		o.IPLimiter = throttle.NewMemoryCap(throttle.DefaultIPPolicy, o.Now, 100_000)
	}
	if o.Audit == nil {
		o.Audit = func(context.Context, jwtgate.AuditEvent) {}
	}
	if o.Issuer == "" {
		o.Issuer = "jwtgate"
	}
	return &Service{store: store, o: o}
}

func aad(userID int64) []byte { return []byte("totp\x00" + strconv.FormatInt(userID, 10)) }

// Enrolment is a started TOTP enrolment: what the user types or scans.
type Enrolment struct {
	Secret string // base32, for typing
	URI    string // otpauth://, for the QR code
}

// StartTOTP makes a new pending secret for u (replacing a pending one).
// Errors wrap jwtgate.ErrConflict when u already has a confirmed secret.
func (s *Service) StartTOTP(ctx context.Context, u *jwtgate.User) (*Enrolment, error) {
	secret, uri, err := NewSecret(s.o.Issuer, u.Name)
	if err != nil {
		return nil, err
	}
	t := &jwtgate.TOTP{UserID: u.ID, Secret: s.o.Sealer.Seal(secret, aad(u.ID)), CreatedAt: s.o.Now()}
	if err := s.store.PutTOTP(ctx, t); err != nil {
		return nil, fmt.Errorf("mfa: start totp: %w", err)
	}
	return &Enrolment{Secret: SecretText(secret), URI: uri}, nil
}

// PendingURI returns the otpauth:// URI of u's pending secret (for the QR
// code); jwtgate.ErrNotFound if there is none pending.
func (s *Service) PendingURI(ctx context.Context, u *jwtgate.User) (string, error) {
	t, secret, err := s.secret(ctx, u.ID)
	if err != nil {
		return "", err
	}
	if t.Confirmed() {
		return "", fmt.Errorf("mfa: no pending totp: %w", jwtgate.ErrNotFound)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: s.o.Issuer, AccountName: u.Name, Period: Period, Secret: secret, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return "", fmt.Errorf("mfa: totp uri: %w", err)
	}
	return key.URL(), nil
}

// QRCode renders uri as a PNG QR code, size pixels square.
func QRCode(uri string, size int) ([]byte, error) {
	key, err := otp.NewKeyFromURL(uri)
	if err != nil {
		return nil, fmt.Errorf("mfa: qr code: %w", err)
	}
	img, err := key.Image(size, size)
	if err != nil {
		return nil, fmt.Errorf("mfa: qr code: %w", err)
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		return nil, fmt.Errorf("mfa: qr code: %w", err)
	}
	return b.Bytes(), nil
}

// ConfirmTOTP completes u's enrolment with a code from the app, and
// returns the user's new recovery codes (shown once). Errors wrap
// ErrWrongCode, ErrNoFactor (nothing pending) or jwtgate.ErrThrottled.
func (s *Service) ConfirmTOTP(ctx context.Context, u *jwtgate.User, code, ip string) ([]string, error) {
	t, secret, err := s.secret(ctx, u.ID)
	if errors.Is(err, jwtgate.ErrNotFound) || (err == nil && t.Confirmed()) {
		return nil, fmt.Errorf("mfa: confirm totp: %w", ErrNoFactor)
	}
	if err != nil {
		return nil, err
	}
	if err := s.checkThrottle(ctx, u.ID, ip); err != nil {
		return nil, err
	}
	step, ok := Match(secret, code, s.o.Now(), 0)
	if !ok {
		return nil, s.fail(ctx, u, ip)
	}
	codes, hashes := NewRecoveryCodes()
	if err := s.store.ConfirmTOTP(ctx, u.ID, step, s.o.Now(), hashes); err != nil {
		return nil, fmt.Errorf("mfa: confirm totp: %w", err)
	}
	s.succeed(ctx, u.ID)
	s.o.Audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventTOTPEnabled, UserID: u.ID, Name: u.Name})
	return codes, nil
}

// Check accepts a second-factor code for u: a TOTP code (each works once)
// or a recovery code (spent). It returns MethodOTP or MethodRecovery.
// Wrong codes are throttled per user and per ip like wrong passwords.
// Errors wrap ErrWrongCode, ErrNoFactor or jwtgate.ErrThrottled.
func (s *Service) Check(ctx context.Context, u *jwtgate.User, code, ip string) (string, error) {
	if err := s.checkThrottle(ctx, u.ID, ip); err != nil {
		return "", err
	}
	if ValidCode(code) {
		t, secret, err := s.secret(ctx, u.ID)
		if errors.Is(err, jwtgate.ErrNotFound) || (err == nil && !t.Confirmed()) {
			return "", fmt.Errorf("mfa: check: %w", ErrNoFactor)
		}
		if err != nil {
			return "", err
		}
		step, ok := Match(secret, code, s.o.Now(), t.LastStep)
		if !ok {
			return "", s.fail(ctx, u, ip)
		}
		err = s.store.UseTOTPStep(ctx, u.ID, step)
		if errors.Is(err, jwtgate.ErrConflict) { // used meanwhile, on this or another instance
			return "", s.fail(ctx, u, ip)
		}
		if err != nil {
			return "", fmt.Errorf("mfa: check: %w", err)
		}
		s.succeed(ctx, u.ID)
		return MethodOTP, nil
	}
	if _, ok := NormalizeRecoveryCode(code); !ok {
		return "", s.fail(ctx, u, ip)
	}
	err := s.store.UseRecoveryCode(ctx, u.ID, HashRecoveryCode(code), s.o.Now())
	if errors.Is(err, jwtgate.ErrNotFound) {
		return "", s.fail(ctx, u, ip)
	}
	if err != nil {
		return "", fmt.Errorf("mfa: check: %w", err)
	}
	s.succeed(ctx, u.ID)
	s.o.Audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventRecoveryCodeUsed, UserID: u.ID, Name: u.Name})
	return MethodRecovery, nil
}

// DisableTOTP removes u's TOTP secret and recovery codes after a valid
// code (TOTP or recovery). The caller checks the password first.
func (s *Service) DisableTOTP(ctx context.Context, u *jwtgate.User, code, ip string) error {
	if _, err := s.Check(ctx, u, code, ip); err != nil {
		return err
	}
	if err := s.store.DeleteTOTP(ctx, u.ID); err != nil {
		return fmt.Errorf("mfa: disable totp: %w", err)
	}
	s.o.Audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventTOTPDisabled, UserID: u.ID, Name: u.Name})
	return nil
}

// RegenerateRecoveryCodes voids u's recovery codes and returns a new set,
// after a valid TOTP code.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, u *jwtgate.User, code, ip string) ([]string, error) {
	if !ValidCode(code) {
		return nil, s.fail(ctx, u, ip)
	}
	if _, err := s.Check(ctx, u, code, ip); err != nil {
		return nil, err
	}
	codes, hashes := NewRecoveryCodes()
	if err := s.store.ReplaceRecoveryCodes(ctx, u.ID, hashes, s.o.Now()); err != nil {
		return nil, fmt.Errorf("mfa: regenerate recovery codes: %w", err)
	}
	s.o.Audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventRecoveryCodesReplaced, UserID: u.ID, Name: u.Name})
	return codes, nil
}

// Factors summarises userID's second factors.
func (s *Service) Factors(ctx context.Context, userID int64) (jwtgate.Factors, error) {
	m, err := s.store.UserFactors(ctx, []int64{userID})
	if err != nil {
		return jwtgate.Factors{}, fmt.Errorf("mfa: factors: %w", err)
	}
	return m[userID], nil
}

// Reset removes every second factor of u (an admin's act, audited with
// the acting admin). The caller ends u's sessions.
func (s *Service) Reset(ctx context.Context, actorID int64, u *jwtgate.User) (bool, error) {
	had, err := s.store.DeleteFactors(ctx, u.ID)
	if err != nil {
		return false, fmt.Errorf("mfa: reset factors: %w", err)
	}
	s.o.Audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventFactorsReset, UserID: u.ID, ActorID: actorID, Name: u.Name})
	return had, nil
}

func (s *Service) secret(ctx context.Context, userID int64) (*jwtgate.TOTP, []byte, error) {
	t, err := s.store.TOTP(ctx, userID)
	if err != nil {
		return nil, nil, fmt.Errorf("mfa: totp: %w", err)
	}
	secret, err := s.o.Sealer.Open(t.Secret, aad(userID))
	if err != nil {
		return nil, nil, fmt.Errorf("mfa: totp secret of user %d: %w", userID, err)
	}
	return t, secret, nil
}

func accountKey(userID int64) string { return "mfa:" + strconv.FormatInt(userID, 10) }

// ipKey is the limiter key of a client address; "" if ip is not one.
func ipKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	return throttle.IPKey(a)
}

func (s *Service) checkThrottle(ctx context.Context, userID int64, ip string) error {
	for _, c := range []struct {
		l   throttle.Limiter
		key string
	}{{s.o.AccountLimiter, accountKey(userID)}, {s.o.IPLimiter, ipKey(ip)}} {
		if c.key == "" {
			continue
		}
		wait, err := c.l.Check(ctx, c.key)
		if err != nil {
			return fmt.Errorf("mfa: throttle: %w", err)
		}
		if wait > 0 {
			return &ThrottledError{Wait: wait}
		}
	}
	return nil
}

// fail counts a wrong code and returns the error to answer.
func (s *Service) fail(ctx context.Context, u *jwtgate.User, ip string) error {
	ctx = context.WithoutCancel(ctx) // a client hanging up must not escape the count
	wait, err := s.o.AccountLimiter.Fail(ctx, accountKey(u.ID))
	if err != nil {
		return fmt.Errorf("mfa: throttle: %w", err)
	}
	if k := ipKey(ip); k != "" {
		if w, err := s.o.IPLimiter.Fail(ctx, k); err != nil {
			return fmt.Errorf("mfa: throttle: %w", err)
		} else if w > wait {
			wait = w
		}
	}
	s.o.Audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventMFAFailed, UserID: u.ID, Name: u.Name})
	return ErrWrongCode
}

func (s *Service) succeed(ctx context.Context, userID int64) {
	_ = s.o.AccountLimiter.Reset(context.WithoutCancel(ctx), accountKey(userID))
}

// ThrottledError says how long to wait; it wraps jwtgate.ErrThrottled.
type ThrottledError struct{ Wait time.Duration }

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%v: retry in %s", jwtgate.ErrThrottled, e.Wait.Round(time.Second))
}
func (e *ThrottledError) Unwrap() error { return jwtgate.ErrThrottled }
