package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/password"
	"github.com/jwtgate/jwtgate/token"
)

// Client describes where a request came from, for sessions and logs.
type Client struct {
	IP        string
	UserAgent string
}

// Tokens is what a successful login returns.
type Tokens struct {
	Access    string
	ExpiresIn time.Duration
	Claims    *token.Claims
}

// Login checks name and password and, if they match an enabled user, starts
// a session and returns a signed access token.
//
// Every failure that could reveal whether the account exists (unknown name,
// wrong password, disabled account) returns ErrBadCredentials after the same
// password-hash work. Malformed input returns ErrInvalid; a full hashing
// queue returns ErrBusy.
func (s *Service) Login(ctx context.Context, name, pw string, c Client) (*Tokens, error) {
	if s.key == nil {
		return nil, errors.New("auth: login needs a signing key")
	}
	if err := jwtgate.ValidateName(name); err != nil {
		return nil, err
	}
	if len(pw) > jwtgate.MaxPasswordLen {
		return nil, fmt.Errorf("%w: password is longer than %d bytes", jwtgate.ErrInvalid, jwtgate.MaxPasswordLen)
	}
	u, err := s.store.UserByName(ctx, name)
	if err != nil && !errors.Is(err, jwtgate.ErrNotFound) {
		return nil, fmt.Errorf("auth: login: %w", err)
	}
	hash := s.dummy
	if u != nil {
		hash = u.PasswordHash
	}
	ok, rehash, err := s.check(ctx, hash, pw)
	if err != nil {
		if errors.Is(err, password.ErrMalformed) {
			s.o.Logger.Error("stored password hash is malformed", "user_id", u.ID)
			return nil, jwtgate.ErrBadCredentials
		}
		return nil, err
	}
	if u == nil || !ok || u.Disabled {
		return nil, jwtgate.ErrBadCredentials
	}
	if rehash {
		s.upgradeHash(ctx, u, pw)
	}
	return s.startSession(ctx, u, c)
}

// check runs password.Check under the hashing limiter.
func (s *Service) check(ctx context.Context, hash, pw string) (ok, rehash bool, err error) {
	lerr := s.o.Limiter.Do(ctx, func() { ok, rehash, err = password.Check(hash, pw, s.o.Hash) })
	if lerr != nil {
		return false, false, busy(lerr)
	}
	return ok, rehash, err
}

// hash runs password.Hash under the hashing limiter.
func (s *Service) hash(ctx context.Context, pw string) (h string, err error) {
	lerr := s.o.Limiter.Do(ctx, func() { h, err = password.Hash(pw, s.o.Hash) })
	if lerr != nil {
		return "", busy(lerr)
	}
	return h, err
}

func busy(err error) error {
	if errors.Is(err, password.ErrBusy) {
		return jwtgate.ErrBusy
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
	s.o.Logger.Info("password rehashed with current parameters", "user_id", u.ID)
}

func (s *Service) startSession(ctx context.Context, u *jwtgate.User, c Client) (*Tokens, error) {
	now := s.o.Now()
	sess := &jwtgate.Session{
		ID:        token.NewID(),
		UserID:    u.ID,
		CreatedAt: now,
		ExpiresAt: now.Add(s.o.SessionTTL),
		IP:        c.IP,
		UserAgent: truncate(c.UserAgent, 256),
	}
	if err := s.store.CreateSession(ctx, sess); err != nil {
		return nil, fmt.Errorf("auth: create session: %w", err)
	}
	claims := &token.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.o.Issuer,
			Subject:   fmt.Sprint(u.ID),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.o.AccessTTL)),
			ID:        token.NewID(),
		},
		UserID:    u.ID,
		Name:      u.Name,
		SessionID: sess.ID,
		Roles:     u.Roles,
	}
	if s.o.Audience != "" {
		claims.Audience = jwt.ClaimStrings{s.o.Audience}
	}
	raw, err := token.Sign(s.key, claims)
	if err != nil {
		return nil, fmt.Errorf("auth: %w", err)
	}
	return &Tokens{Access: raw, ExpiresIn: s.o.AccessTTL, Claims: claims}, nil
}

// Verify checks an access token and returns its claims. Errors wrap
// jwtgate.ErrUnauthenticated (and the token package's reason).
func (s *Service) Verify(raw string) (*token.Claims, error) {
	if s.verifier == nil {
		return nil, fmt.Errorf("%w: no verification key", jwtgate.ErrUnauthenticated)
	}
	c, err := s.verifier.Verify(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", jwtgate.ErrUnauthenticated, err)
	}
	return c, nil
}

// Logout ends the session the token belongs to. Tokens without a session
// (minted by the tutorial app in shared-secret mode) have nothing to end.
func (s *Service) Logout(ctx context.Context, c *token.Claims) error {
	if c.SessionID == "" {
		return nil
	}
	err := s.store.RevokeSession(ctx, c.SessionID, s.o.Now())
	if err != nil && !errors.Is(err, jwtgate.ErrNotFound) {
		return fmt.Errorf("auth: logout: %w", err)
	}
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
