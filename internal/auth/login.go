package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/password"
	"github.com/jwtgate/jwtgate/token"
)

// Client describes where a request came from, for sessions, logs and
// throttling.
type Client struct {
	IP        string
	UserAgent string
	// Device is the device cookie the browser sent with a login (see
	// device.go), or "". It is a credential of sorts: never log it.
	Device string
}

// Tokens is what a login or refresh returns.
type Tokens struct {
	Access    string
	ExpiresIn time.Duration
	Refresh   string
	Claims    *token.Claims
	// Device is a fresh device cookie for the browser (logins only).
	Device string
}

// Login checks name and password and, if they match an enabled user, starts
// a session and returns a signed access token and a refresh token.
//
// Every failure that could reveal whether the account exists (unknown name,
// wrong password, disabled account) returns ErrBadCredentials after the same
// password-hash work. Malformed input returns ErrInvalid; a full hashing
// queue returns ErrBusy; a throttled account, address or device, or a
// client or account with too many logins already in progress, returns a
// *ThrottledError (see throttle.go for the rules).
//
// For a user with a second factor, a right password starts no session:
// Login returns an *MFARequiredError (wrapping ErrMFARequired) whose token
// FinishMFA takes with the second factor.
func (s *Service) Login(ctx context.Context, name, pw string, c Client) (*Tokens, error) {
	return s.LoginOTP(ctx, name, pw, "", c)
}

// LoginOTP is Login with the second factor in the same request: otp, a
// TOTP or recovery code, is checked after a right password for a user
// with a second factor (errors wrap mfa.ErrWrongCode or
// jwtgate.ErrThrottled), and ignored for a user without one. An empty otp
// is Login.
func (s *Service) LoginOTP(ctx context.Context, name, pw, otp string, c Client) (*Tokens, error) {
	tok, err := s.login(ctx, name, pw, otp, c)
	s.o.Observer.Login(loginOutcome(err))
	return tok, err
}

func (s *Service) login(ctx context.Context, name, pw, otp string, c Client) (*Tokens, error) {
	if s.keys == nil {
		return nil, errors.New("auth: login needs signing keys")
	}
	if err := jwtgate.ValidateName(name); err != nil {
		return nil, err
	}
	if len(pw) > jwtgate.MaxPasswordLen {
		return nil, fmt.Errorf("%w: password is longer than %d bytes", jwtgate.ErrInvalid, jwtgate.MaxPasswordLen)
	}
	ctx = WithClient(ctx, c)
	at := s.newAttempt(name, c)
	if err := s.throttleCheck(ctx, at); err != nil {
		return nil, err
	}
	u, err := timed(s, "user_by_name", func() (*jwtgate.User, error) { return s.store.UserByName(ctx, name) })
	if err != nil && !errors.Is(err, jwtgate.ErrNotFound) {
		return nil, fmt.Errorf("auth: login: %w", err)
	}
	hash := s.dummy
	if u != nil {
		hash = u.PasswordHash
	}
	ok, rehash, err := s.check(ctx, at, hash, pw)
	if err != nil {
		if errors.Is(err, password.ErrMalformed) {
			s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventSecurityWarning, UserID: u.ID, Name: u.Name, Detail: "stored password hash is malformed"})
			return nil, jwtgate.ErrBadCredentials
		}
		return nil, err
	}
	var failed *jwtgate.AuditEvent
	switch {
	case u == nil:
		failed = &jwtgate.AuditEvent{Type: jwtgate.EventLoginFailed, Detail: "unknown user"}
	case !ok:
		failed = &jwtgate.AuditEvent{Type: jwtgate.EventLoginFailed, UserID: u.ID, Name: u.Name, Detail: "wrong password"}
	case u.Disabled:
		failed = &jwtgate.AuditEvent{Type: jwtgate.EventLoginFailed, UserID: u.ID, Name: u.Name, Detail: "account disabled"}
	}
	if failed != nil {
		s.audit(ctx, *failed)
		s.throttleFail(ctx, at, jwtgate.AuditEvent{UserID: failed.UserID, Name: failed.Name})
		return nil, jwtgate.ErrBadCredentials
	}
	s.throttleSuccess(ctx, at)
	if rehash {
		s.upgradeHash(ctx, u, pw)
	}
	if s.o.AllowLogin != nil {
		// Asked before the second factor too, so a user who may not log
		// in is not asked for a code first.
		if err := s.o.AllowLogin(ctx, u); err != nil {
			s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventLoginFailed, UserID: u.ID, Name: u.Name, Detail: "refused after the password: " + err.Error()})
			return nil, err
		}
	}
	amr, err := s.challenge(ctx, u, otp, c)
	if err != nil {
		return nil, err
	}
	return s.admit(ctx, u, amr, c)
}

// check runs password.Check under the hashing limiter, queued fairly under
// the attempt's address and capped per address and per account (or
// device): a flood from some clients, or on one account, cannot keep
// anyone else's login from its turn.
func (s *Service) check(ctx context.Context, at attempt, hash, pw string) (ok, rehash bool, err error) {
	lerr := s.o.Limiter.Do(ctx, at.addr, at.capped(), func() {
		start := time.Now()
		ok, rehash, err = password.Check(hash, pw, s.o.Hash)
		s.o.Observer.Hash(time.Since(start))
	})
	if lerr != nil {
		return false, false, busy(lerr)
	}
	return ok, rehash, err
}

// hash runs password.Hash under the hashing limiter. Hashes for new
// passwords (admin, CLI, a password change after its check) queue under
// one flow of their own and are not capped.
func (s *Service) hash(ctx context.Context, pw string) (h string, err error) {
	lerr := s.o.Limiter.Do(ctx, "new-password", nil, func() {
		start := time.Now()
		h, err = password.Hash(pw, s.o.Hash)
		s.o.Observer.Hash(time.Since(start))
	})
	if lerr != nil {
		return "", busy(lerr)
	}
	return h, err
}

// busy maps the hashing limiter's refusals: a full queue, or a wait the
// request's deadline ended, is ErrBusy (503); a client or account at its
// cap is a ThrottledError (429) for a second.
func busy(err error) error {
	switch {
	case errors.Is(err, password.ErrTooMany):
		return &ThrottledError{Wait: time.Second, InProgress: true}
	case errors.Is(err, password.ErrBusy), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("%w: %w", jwtgate.ErrBusy, err)
	}
	return fmt.Errorf("auth: waiting to hash: %w", err)
}

// upgradeHash replaces an outdated hash after a successful login. Failure
// is logged, not returned: the login itself was good.
func (s *Service) upgradeHash(ctx context.Context, u *jwtgate.User, pw string) {
	h, err := s.hash(ctx, pw)
	if err == nil {
		err = s.store.SetPasswordHash(ctx, u.ID, h, s.o.Now())
	}
	if err != nil {
		s.o.Logger.Warn("password rehash failed", "user_id", u.ID, "err", err)
		return
	}
	s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventPasswordRehashed, UserID: u.ID, Name: u.Name, Detail: "rehashed with current parameters"})
}

func (s *Service) startSession(ctx context.Context, u *jwtgate.User, amr []string, c Client) (*Tokens, error) {
	now := s.o.Now()
	sess := &jwtgate.Session{
		ID:        token.NewID(),
		UserID:    u.ID,
		CreatedAt: now,
		ExpiresAt: now.Add(s.o.SessionTTL),
		IP:        c.IP,
		UserAgent: truncate(c.UserAgent, 256),
		AMR:       amr,
	}
	refresh := newRefreshToken()
	rt := &jwtgate.RefreshToken{Hash: hashRefresh(refresh), SessionID: sess.ID, CreatedAt: now}
	// Signed before anything is stored, so that a stored session and its
	// login.succeeded event always mean a login that succeeded.
	access, claims, err := s.mint(u, sess.ID, amr, now, token.NewID())
	if err != nil {
		return nil, err
	}
	ev := &jwtgate.AuditEvent{Type: jwtgate.EventLoginSucceeded, UserID: u.ID, Name: u.Name, Detail: "sid " + sess.ID + " amr " + strings.Join(amr, " ")}
	s.fillEvent(ctx, ev)
	// One transaction for the session, its refresh token and the audit
	// event: one durable write per login, and no login without its event.
	if _, err := timed(s, "start_session", func() (struct{}, error) { return struct{}{}, s.store.StartSession(ctx, sess, rt, ev) }); err != nil {
		return nil, fmt.Errorf("auth: start session: %w", err)
	}
	s.logEvent(ctx, ev)
	s.evictSessions(ctx, u, now)
	return &Tokens{Access: access, ExpiresIn: s.o.AccessTTL, Refresh: refresh, Claims: claims}, nil
}

// evictSessions ends u's least recently used sessions when a login took
// them beyond MaxSessionsPerUser, down to nine tenths of it. Failure is logged, not
// returned: the login itself was good, and the next one evicts again.
func (s *Service) evictSessions(ctx context.Context, u *jwtgate.User, now time.Time) {
	if s.o.MaxSessionsPerUser <= 0 {
		return
	}
	ctx = context.WithoutCancel(ctx)
	// Evicting a tenth more than needed makes one eviction (a write and
	// an audit event) serve the next several logins of a user at the cap.
	limit := s.o.MaxSessionsPerUser
	keep := limit - max(1, limit/10)
	ids, err := timed(s, "evict_sessions", func() ([]string, error) {
		return s.store.EvictSessions(ctx, u.ID, limit, max(keep, 1), now, s.revocationExpiry(now))
	})
	if err != nil {
		s.o.Logger.Error("evicting sessions over the cap", "user_id", u.ID, "err", err)
		return
	}
	if len(ids) == 0 {
		return
	}
	s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventSessionsRevoked, UserID: u.ID, Name: u.Name,
		Detail: fmt.Sprintf("%s evicted: over the cap of %d live sessions", sessionsText(len(ids)), s.o.MaxSessionsPerUser)})
	if err := s.revs.Sync(ctx); err != nil {
		s.o.Logger.Warn("revocation sync after eviction failed", "err", err)
	}
}

// mint signs an access token for u in session sid (whose login used amr),
// issued at iat.
func (s *Service) mint(u *jwtgate.User, sid string, amr []string, iat time.Time, jti string) (string, *token.Claims, error) {
	claims := &token.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.o.Issuer,
			Subject:   strconv.FormatInt(u.ID, 10),
			IssuedAt:  jwt.NewNumericDate(iat),
			ExpiresAt: jwt.NewNumericDate(iat.Add(s.o.AccessTTL)),
			ID:        jti,
		},
		UserID:    u.ID,
		Name:      u.Name,
		SessionID: sid,
		Roles:     u.Roles,
		AMR:       amr,
	}
	if s.o.Audience != "" {
		claims.Audience = jwt.ClaimStrings{s.o.Audience}
	}
	signer := s.keys.Signer()
	if signer == nil {
		return "", nil, errNoSigner
	}
	raw, err := token.Sign(signer, claims)
	if err != nil {
		return "", nil, fmt.Errorf("auth: %w", err)
	}
	return raw, claims, nil
}

// ErrRevoked is wrapped by Verify's error for a token whose session or jti
// was revoked.
var ErrRevoked = errors.New("token revoked")

// Verify checks an access token and returns its claims: signature, claims,
// and the revocation set. The claims are read only: a cache hit returns
// the same *token.Claims to every request presenting the token, so a
// caller that wants other claims makes its own copy (tests panic when
// cached claims change; see tokenCache). Errors wrap
// jwtgate.ErrUnauthenticated (and the token package's reason, or ErrRevoked).
func (s *Service) Verify(raw string) (*token.Claims, error) {
	c, err := s.verify(raw)
	s.o.Observer.Verification(verifyResult(err))
	return c, err
}

func (s *Service) verify(raw string) (*token.Claims, error) {
	if s.verifier == nil {
		return nil, fmt.Errorf("%w: no verification key", jwtgate.ErrUnauthenticated)
	}
	now := s.o.Now()
	c, ok := s.cache.get(raw, now)
	if !ok {
		var err error
		if c, err = s.verifier.Verify(raw); err != nil {
			return nil, fmt.Errorf("%w: %w", jwtgate.ErrUnauthenticated, err)
		}
		// exp is required, so ExpiresAt is set; the verifier accepts it
		// for Leeway more, and so may the cache.
		s.cache.put(raw, c, c.ExpiresAt.Add(Leeway), now)
	}
	// Revocation is checked on every request, cache hit or not.
	if s.revs.Revoked(c.SessionID, c.ID) {
		return nil, fmt.Errorf("%w: %w", jwtgate.ErrUnauthenticated, ErrRevoked)
	}
	if c.SessionID == "" {
		// With keys of our own the verifier lets a token without sid
		// through only when it is a client's own (client_credentials)
		// token, which names no user; with the shared secret it is a
		// tutorial token, whose user is looked up.
		if c.Machine() && !s.sharedSecret {
			return c, nil
		}
		return s.sessionless(c)
	}
	return c, nil
}

// Logout ends the token's session on every instance: the session is revoked
// (its refresh token dies with it) and a feed entry makes every access
// token of the session invalid. A token without a session (minted by the
// tutorial app in shared-secret mode) is revoked by its jti when it has
// one. This instance refuses the token as soon as Logout returns.
func (s *Service) Logout(ctx context.Context, c *token.Claims) error {
	now := s.o.Now()
	switch {
	case c.SessionID != "":
		if _, err := s.store.RevokeSessions(ctx, jwtgate.SessionFilter{ID: c.SessionID}, now, s.revocationExpiry(now)); err != nil {
			return fmt.Errorf("auth: logout: %w", err)
		}
	case c.ID != "" && c.ExpiresAt != nil:
		if err := s.store.RevokeToken(ctx, c.ID, c.ExpiresAt.Add(Leeway)); err != nil {
			return fmt.Errorf("auth: logout: %w", err)
		}
	default:
		return nil
	}
	s.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventLogout, UserID: c.UserID, Name: c.Name, Detail: "sid " + c.SessionID})
	return s.revs.Sync(ctx)
}

// revocationExpiry is when a session revoked at now has no live access
// token left: the feed entry can be forgotten then.
func (s *Service) revocationExpiry(now time.Time) time.Time {
	return now.Add(s.o.AccessTTL + Leeway)
}

// truncate shortens s to at most n bytes without splitting a UTF-8
// character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
