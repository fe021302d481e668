package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/mfa"
	"github.com/jwtgate/jwtgate/token"
)

// MFATokenTTL is how long the mfa_token of a half-done login lives: long
// enough to find the phone, short enough that a leaked one is soon dead.
const MFATokenTTL = 5 * time.Minute

// StepUpMaxAge is how old a login with a second factor may be for a
// sensitive change (password, email, factors) to go through without a
// fresh code.
const StepUpMaxAge = 5 * time.Minute

// Second-factor methods offered after the password, as the login API
// names them in "methods".
const (
	MethodTOTP         = "totp"
	MethodRecoveryCode = "recovery_code"
	MethodWebAuthn     = "webauthn"
)

// RFC 8176 amr values jwtgate puts in tokens.
const (
	AMRPassword = "pwd"
	AMROTP      = "otp" // a TOTP or recovery code (both one-time passwords)
	AMRHardware = "hwk"
	AMRSoftware = "swk"
	AMRUser     = "user" // user verification (PIN, biometrics) by the authenticator
	AMRMFA      = "mfa"
)

// Errors of the second step.
var (
	// ErrMFARequired is wrapped by *MFARequiredError.
	ErrMFARequired = errors.New("second factor required")
	// ErrMFAToken: the mfa_token is unknown, malformed, expired, spent, or
	// its user's password changed since; all alike.
	ErrMFAToken = errors.New("invalid or expired mfa token")
	// ErrStepUp: a sensitive change needs a fresh second factor.
	ErrStepUp = errors.New("a fresh second factor is required")
)

// MFARequiredError is Login's answer to a right password of a user with a
// second factor: no session yet, but Token, to be finished with FinishMFA
// by one of Methods within MFATokenTTL.
type MFARequiredError struct {
	Token   string
	Methods []string
}

func (e *MFARequiredError) Error() string { return ErrMFARequired.Error() }
func (e *MFARequiredError) Unwrap() error { return ErrMFARequired }

// SecondFactor checks a second factor for u, the user whose password step
// an mfa_token records, and returns the RFC 8176 amr values it proves. It
// must refuse a factor of another user (a passkey assertion whose user is
// not u). Its errors are returned by FinishMFA as they are.
type SecondFactor func(ctx context.Context, u *jwtgate.User) (amr []string, err error)

// MFA is the service's second-factor service (TOTP, recovery codes).
func (s *Service) MFA() *mfa.Service { return s.mfa }

// methods lists what u can finish a login with; none means u has no second factor.
func methods(f jwtgate.Factors) []string {
	var m []string
	if f.TOTP {
		m = append(m, MethodTOTP)
	}
	if f.TOTP && f.RecoveryCodes > 0 {
		m = append(m, MethodRecoveryCode)
	}
	if f.Passkeys > 0 {
		m = append(m, MethodWebAuthn)
	}
	return m
}

// challenge is the rest of a login whose password was right: nothing for
// a user without a second factor (ok), else an *MFARequiredError with a
// fresh mfa_token, or, with a non-empty otp, the code checked at once.
func (s *Service) challenge(ctx context.Context, u *jwtgate.User, otp string, c Client) (amr []string, err error) {
	f, err := s.mfa.Factors(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("auth: login: %w", err)
	}
	m := methods(f)
	if len(m) == 0 {
		return []string{AMRPassword}, nil
	}
	if otp != "" {
		second, err := s.CodeFactor(otp, c.IP)(ctx, u)
		if err != nil {
			return nil, err
		}
		return completeAMR(append([]string{AMRPassword}, second...)), nil
	}
	raw := newMFAToken()
	now := s.o.Now()
	t := &jwtgate.OneTimeToken{Hash: hashRefresh(raw), Purpose: jwtgate.PurposeMFALogin, UserID: u.ID,
		Data: passwordStep(u), CreatedAt: now, ExpiresAt: now.Add(MFATokenTTL)}
	if err := s.store.CreateOneTimeToken(ctx, t); err != nil {
		return nil, fmt.Errorf("auth: login: mfa token: %w", err)
	}
	return nil, &MFARequiredError{Token: raw, Methods: m}
}

// passwordStep binds an mfa_token to the password it followed: a password
// change (or reset) in between voids the token.
func passwordStep(u *jwtgate.User) string {
	h := sha256.Sum256([]byte("mfa-login\x00" + u.PasswordHash))
	return base64.RawURLEncoding.EncodeToString(h[:16])
}

func newMFAToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// CodeFactor is the SecondFactor of a TOTP or recovery code typed by the
// user at client address ip. Wrong codes are throttled per account and per
// address (errors wrap mfa.ErrWrongCode, or jwtgate.ErrThrottled as an
// *mfa.ThrottledError).
func (s *Service) CodeFactor(code, ip string) SecondFactor {
	return func(ctx context.Context, u *jwtgate.User) ([]string, error) {
		if _, err := s.mfa.Check(ctx, u, code, ip); err != nil {
			return nil, err
		}
		return []string{AMROTP}, nil
	}
}

// FinishMFA finishes a login Login answered with an *MFARequiredError:
// it finds the mfa_token's user (ErrMFAToken if the token is not a live
// one, or the user is gone, disabled or changed password), asks second
// for the second factor, and only when that succeeds spends the token and
// starts the session with amr pwd, the factor's values and mfa. A wrong
// factor leaves the token usable (second is throttled); of concurrent
// finishes with right factors one wins, the others get ErrMFAToken.
func (s *Service) FinishMFA(ctx context.Context, mfaToken string, c Client, second SecondFactor) (*Tokens, error) {
	tok, err := s.finishMFA(ctx, mfaToken, c, second)
	s.o.Observer.Login(loginOutcome(err))
	return tok, err
}

func (s *Service) finishMFA(ctx context.Context, mfaToken string, c Client, second SecondFactor) (*Tokens, error) {
	if s.keys == nil {
		return nil, errors.New("auth: login needs signing keys")
	}
	ctx = WithClient(ctx, c)
	u, hash, err := s.mfaUser(ctx, mfaToken)
	if err != nil {
		return nil, err
	}
	amr, err := second(ctx, u)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.SpendOneTimeToken(ctx, jwtgate.PurposeMFALogin, hash, s.o.Now()); errors.Is(err, jwtgate.ErrNotFound) {
		return nil, ErrMFAToken // spent meanwhile by a concurrent finish
	} else if err != nil {
		return nil, fmt.Errorf("auth: mfa login: %w", err)
	}
	return s.admit(ctx, u, completeAMR(append([]string{AMRPassword}, amr...)), c)
}

// MFAUser returns the user whose password step mfaToken records, without
// spending it: for a second factor that needs a round trip first (a
// passkey's challenge is made for the user's credentials). It counts no
// login attempt. Errors as FinishMFA's before the second factor:
// ErrMFAToken for an unknown, expired, spent or malformed token, or one
// whose user is gone, disabled or has changed password since.
func (s *Service) MFAUser(ctx context.Context, mfaToken string) (*jwtgate.User, error) {
	u, _, err := s.mfaUser(ctx, mfaToken)
	return u, err
}

// mfaUser looks mfaToken up and returns its user and the token's hash.
func (s *Service) mfaUser(ctx context.Context, mfaToken string) (*jwtgate.User, []byte, error) {
	if len(mfaToken) != refreshLen {
		return nil, nil, ErrMFAToken
	}
	if _, err := base64.RawURLEncoding.DecodeString(mfaToken); err != nil {
		return nil, nil, ErrMFAToken
	}
	hash := hashRefresh(mfaToken)
	t, err := s.store.OneTimeToken(ctx, jwtgate.PurposeMFALogin, hash, s.o.Now())
	if errors.Is(err, jwtgate.ErrNotFound) {
		return nil, nil, ErrMFAToken
	} else if err != nil {
		return nil, nil, fmt.Errorf("auth: mfa login: %w", err)
	}
	u, err := s.store.UserByID(ctx, t.UserID)
	if errors.Is(err, jwtgate.ErrNotFound) {
		return nil, nil, ErrMFAToken
	} else if err != nil {
		return nil, nil, fmt.Errorf("auth: mfa login: %w", err)
	}
	if u.Disabled || subtle.ConstantTimeCompare([]byte(passwordStep(u)), []byte(t.Data)) != 1 {
		return nil, nil, ErrMFAToken
	}
	return u, hash, nil
}

// StartSession starts a session for u, whom the caller authenticated
// without a password (a passkey with user verification), with the amr
// values of that authentication ("mfa" is added when they are two
// factors). It reloads u and refuses, with ErrBadCredentials, a deleted or
// disabled user, asks Options.AllowLogin, and caps the user's sessions
// and audits the login as Login does.
func (s *Service) StartSession(ctx context.Context, u *jwtgate.User, amr []string, c Client) (*Tokens, error) {
	if s.keys == nil {
		return nil, errors.New("auth: login needs signing keys")
	}
	if len(amr) == 0 {
		return nil, errors.New("auth: start session: no authentication method")
	}
	ctx = WithClient(ctx, c)
	fresh, err := s.store.UserByID(ctx, u.ID)
	if errors.Is(err, jwtgate.ErrNotFound) {
		return nil, jwtgate.ErrBadCredentials
	} else if err != nil {
		return nil, fmt.Errorf("auth: start session: %w", err)
	}
	if fresh.Disabled {
		s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventLoginFailed, UserID: fresh.ID, Name: fresh.Name, Detail: "account disabled"})
		return nil, jwtgate.ErrBadCredentials
	}
	tok, err := s.admit(ctx, fresh, completeAMR(slices.Clone(amr)), c)
	s.o.Observer.Login(loginOutcome(err))
	return tok, err
}

// admit asks AllowLogin about u and starts its session with amr.
func (s *Service) admit(ctx context.Context, u *jwtgate.User, amr []string, c Client) (*Tokens, error) {
	if s.o.AllowLogin != nil {
		if err := s.o.AllowLogin(ctx, u); err != nil {
			s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventLoginFailed, UserID: u.ID, Name: u.Name, Detail: "refused after authentication: " + err.Error()})
			return nil, err
		}
	}
	tok, err := s.startSession(ctx, u, amr, c)
	if err != nil {
		return nil, err
	}
	if s.deviceKey != nil {
		tok.Device = s.newDeviceCookie(u.Name)
	}
	return tok, nil
}

// completeAMR removes duplicates from amr and adds "mfa" when it holds two
// kinds of factor: something the user has (a code generator, a key) and
// something they know or are (a password, the authenticator's user
// verification).
func completeAMR(amr []string) []string {
	var out []string
	have, knowOrAre := false, false
	for _, m := range amr {
		if slices.Contains(out, m) || m == AMRMFA {
			continue
		}
		out = append(out, m)
		switch m {
		case AMROTP, AMRHardware, AMRSoftware:
			have = true
		case AMRPassword, AMRUser:
			knowOrAre = true
		}
	}
	if have && knowOrAre {
		out = append(out, AMRMFA)
	}
	return out
}

// RequiresMFA reports whether a token's user must use a second factor
// (Options.RequireMFAFor names one of its roles) and this token's login
// did not: such a token reaches only enrolment (see the server's
// confinement).
func (s *Service) RequiresMFA(c *token.Claims) bool {
	if len(s.o.RequireMFAFor) == 0 || c.HasAMR(AMRMFA) {
		return false
	}
	for _, r := range c.Roles {
		if slices.Contains(s.o.RequireMFAFor, r) {
			return true
		}
	}
	return false
}

// StepUp checks that the token's user may make a sensitive change (password,
// email, second factors): a user without a second factor always may; one
// with a factor must give a right code now (code, TOTP or recovery), or
// have logged in with a second factor in the last StepUpMaxAge. Errors
// wrap ErrStepUp, mfa.ErrWrongCode or jwtgate.ErrThrottled.
func (s *Service) StepUp(ctx context.Context, c *token.Claims, code string) error {
	f, err := s.mfa.Factors(ctx, c.UserID)
	if err != nil {
		return fmt.Errorf("auth: step-up: %w", err)
	}
	if !f.Any() {
		return nil
	}
	if code != "" {
		u, err := s.store.UserByID(ctx, c.UserID)
		if err != nil {
			return fmt.Errorf("auth: step-up: %w", err)
		}
		_, err = s.mfa.Check(ctx, u, code, clientFrom(ctx).IP)
		return err
	}
	if c.HasAMR(AMRMFA) && c.SessionID != "" {
		sess, err := s.store.SessionByID(ctx, c.SessionID)
		if err != nil {
			return fmt.Errorf("auth: step-up: %w", err)
		}
		if age := s.o.Now().Sub(sess.CreatedAt); age >= 0 && age <= StepUpMaxAge {
			return nil
		}
	}
	return ErrStepUp
}
