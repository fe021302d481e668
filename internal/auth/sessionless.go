package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/token"
)

// sessionlessTimeout bounds the store lookup a token without a session
// costs (Verify takes no context: it runs on every authenticated request).
const sessionlessTimeout = 5 * time.Second

// errSessionlessUser is wrapped for a sessionless token whose user is
// gone, disabled, or not the user the token names.
var errSessionlessUser = errors.New("token's user does not exist or is disabled")

// sessionless completes the check of a token without a session. Only the
// shared-secret (tutorial) mode accepts such tokens: the tutorial app mints
// {"id","name","exp"} with no sid, so no logout, disable or delete could
// revoke them, and anyone holding the secret picks their roles. So the
// user is looked up on every request: it must exist, be enabled and carry
// the token's name (by NameKey), and its roles come from the store, never
// from the token. It returns a copy; c may be shared by the token cache.
func (s *Service) sessionless(c *token.Claims) (*token.Claims, error) {
	ctx, cancel := context.WithTimeout(context.Background(), sessionlessTimeout)
	defer cancel()
	var (
		u   *jwtgate.User
		err error
	)
	if c.UserID != 0 {
		u, err = s.store.UserByID(ctx, c.UserID)
	} else {
		u, err = s.store.UserByName(ctx, c.Name)
	}
	switch {
	case errors.Is(err, jwtgate.ErrNotFound):
		return nil, fmt.Errorf("%w: %w", jwtgate.ErrUnauthenticated, errSessionlessUser)
	case err != nil:
		// Fail closed: without the store the token's roles cannot be known.
		return nil, fmt.Errorf("%w: look up the token's user: %w", jwtgate.ErrUnauthenticated, err)
	case u.Disabled || (c.Name != "" && jwtgate.NameKey(c.Name) != jwtgate.NameKey(u.Name)):
		return nil, fmt.Errorf("%w: %w", jwtgate.ErrUnauthenticated, errSessionlessUser)
	}
	cp := *c
	cp.UserID, cp.Name, cp.Roles = u.ID, u.Name, u.Roles
	return &cp, nil
}
