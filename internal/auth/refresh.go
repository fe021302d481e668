package auth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/token"
)

// Refresh-token errors. Both mean 401 to a client; they differ for logs
// and metrics.
var (
	// ErrInvalidGrant: the refresh token is unknown, malformed, or its
	// session has ended.
	ErrInvalidGrant = errors.New("invalid refresh token")
	// ErrRefreshReused: a spent refresh token came back after the grace
	// window; the whole session was revoked (RFC 9700 section 4.14.2).
	ErrRefreshReused = errors.New("refresh token reused; session revoked")
)

// refreshLen is the length of a refresh token: 32 random bytes, base64url.
const refreshLen = 43

func newRefreshToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// hashRefresh is the stored form of a refresh token. A plain SHA-256 is
// enough: the token has 256 bits of entropy, so there is nothing to brute
// force, and lookups stay fast.
func hashRefresh(raw string) []byte {
	h := sha256.Sum256([]byte(raw))
	return h[:]
}

// derive computes a value bound to a refresh token under the server's
// refresh key. The successor of a token and the jti of the access token
// issued with it are derived, not random: a second, concurrent use of the
// same token inside the grace window can then be answered with exactly the
// same pair without storing any token.
func (s *Service) derive(raw, purpose string) []byte {
	m := hmac.New(sha256.New, s.refreshKey)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(raw))
	return m.Sum(nil)
}

// Refresh spends a refresh token and returns a new access token and the
// token's successor.
//
// A token spent less than the grace window ago returns the same successor
// and an access token with the same claims (byte-identical with EdDSA and
// RS256), so parallel refreshes from two tabs both succeed. A token spent
// longer ago is a replay: the session is revoked and ErrRefreshReused
// returned. Unknown or malformed tokens and ended sessions give
// ErrInvalidGrant.
func (s *Service) Refresh(ctx context.Context, raw string, c Client) (*Tokens, error) {
	mint := func(u *jwtgate.User, sess *jwtgate.Session, iat time.Time, jti string) (string, *token.Claims, error) {
		return s.mint(u, sess.ID, sess.AMR, iat, jti)
	}
	return s.observeRefresh(s.refresh(ctx, raw, c, refreshKind{mint: mint}))
}

// observeRefresh counts a refresh's outcome.
func (s *Service) observeRefresh(tok *Tokens, grace bool, err error) (*Tokens, error) {
	switch {
	case grace:
		s.o.Observer.Refresh("grace")
	case err == nil:
		s.o.Observer.Refresh("ok")
	case errors.Is(err, ErrRefreshReused):
		s.o.Observer.Refresh("reused")
	default:
		s.o.Observer.Refresh("invalid")
	}
	return tok, err
}

// mintFunc signs the access token a refresh returns: for user u in
// session sess, issued at iat, with jti.
type mintFunc func(u *jwtgate.User, sess *jwtgate.Session, iat time.Time, jti string) (string, *token.Claims, error)

// refreshKind is what differs between the refresh tokens of jwtgate's own
// sessions and those of sessions started for OpenID Connect clients.
type refreshKind struct {
	// prefix starts every token of the kind, so a token of one kind is
	// refused at the other's endpoint by its shape alone.
	prefix string
	// check, if set, is asked before the token is spent whether this
	// caller may spend it (the session's client is the one asking).
	check func(sess *jwtgate.Session) error
	mint  mintFunc
}

// refresh does Refresh's work and reports whether the answer came from the
// grace window.
func (s *Service) refresh(ctx context.Context, raw string, c Client, kind refreshKind) (*Tokens, bool, error) {
	if s.keys == nil {
		return nil, false, errors.New("auth: refresh needs signing keys")
	}
	if len(raw) != len(kind.prefix)+refreshLen || !strings.HasPrefix(raw, kind.prefix) {
		return nil, false, ErrInvalidGrant
	}
	if _, err := base64.RawURLEncoding.DecodeString(raw[len(kind.prefix):]); err != nil {
		return nil, false, ErrInvalidGrant
	}
	hash := hashRefresh(raw)
	rt, err := timed(s, "refresh_token_by_hash", func() (*jwtgate.RefreshToken, error) { return s.store.RefreshTokenByHash(ctx, hash) })
	if errors.Is(err, jwtgate.ErrNotFound) {
		return nil, false, ErrInvalidGrant
	} else if err != nil {
		return nil, false, fmt.Errorf("auth: refresh: %w", err)
	}
	now := s.o.Now()
	sess, u, err := s.liveSession(ctx, rt.SessionID, now)
	if err != nil {
		return nil, false, err
	}
	if kind.check != nil {
		if err := kind.check(sess); err != nil {
			return nil, false, err
		}
	}
	successor := kind.prefix + base64.RawURLEncoding.EncodeToString(s.derive(raw, "successor"))
	jti := base64.RawURLEncoding.EncodeToString(s.derive(raw, "jti")[:16])
	if rt.SpentAt == nil {
		next := &jwtgate.RefreshToken{Hash: hashRefresh(successor), SessionID: sess.ID, CreatedAt: now}
		won, err := timed(s, "spend_refresh_token", func() (bool, error) { return s.store.SpendRefreshToken(ctx, hash, now, next) })
		if err != nil {
			return nil, false, fmt.Errorf("auth: refresh: %w", err)
		}
		if won {
			tok, err := s.refreshed(u, sess, now, jti, successor, kind.mint)
			return tok, false, err
		}
		// Another request spent it between our read and our write.
		if rt, err = s.store.RefreshTokenByHash(ctx, hash); err != nil {
			return nil, false, fmt.Errorf("auth: refresh: %w", err)
		}
	}
	spent := *rt.SpentAt
	if now.Sub(spent) <= s.o.RefreshGrace {
		// The same answer the first use got: issued at the spend time.
		tok, err := s.refreshed(u, sess, spent, jti, successor, kind.mint)
		return tok, err == nil, err
	}
	ids, err := s.store.RevokeSessions(ctx, jwtgate.SessionFilter{ID: sess.ID}, now, s.revocationExpiry(now))
	if err != nil {
		return nil, false, fmt.Errorf("auth: revoke session after refresh reuse: %w", err)
	}
	_ = s.revs.Sync(ctx)
	s.audit(WithClient(ctx, c), jwtgate.AuditEvent{Type: jwtgate.EventRefreshReused, UserID: u.ID, Name: u.Name,
		Detail: fmt.Sprintf("sid %s revoked (%d); token spent %s earlier", sess.ID, len(ids), now.Sub(spent).Round(time.Millisecond))})
	return nil, false, ErrRefreshReused
}

// refreshed mints the access token of a refresh with mint: the session's
// amr, as its login earned them, carry over.
func (s *Service) refreshed(u *jwtgate.User, sess *jwtgate.Session, iat time.Time, jti, successor string, mint mintFunc) (*Tokens, error) {
	access, claims, err := mint(u, sess, iat, jti)
	if err != nil {
		return nil, err
	}
	left := s.o.AccessTTL - s.o.Now().Sub(iat)
	return &Tokens{Access: access, ExpiresIn: left, Refresh: successor, Claims: claims}, nil
}

// liveSession loads a session and its user, and checks that the session is
// neither revoked nor past its absolute or idle lifetime, and the user is
// enabled.
func (s *Service) liveSession(ctx context.Context, sid string, now time.Time) (*jwtgate.Session, *jwtgate.User, error) {
	sess, err := timed(s, "session_by_id", func() (*jwtgate.Session, error) { return s.store.SessionByID(ctx, sid) })
	if errors.Is(err, jwtgate.ErrNotFound) {
		return nil, nil, ErrInvalidGrant
	} else if err != nil {
		return nil, nil, fmt.Errorf("auth: refresh: %w", err)
	}
	if !sess.Live(now) || now.Sub(sess.LastUsedAt) > s.o.SessionIdleTTL {
		return nil, nil, ErrInvalidGrant
	}
	u, err := timed(s, "user_by_id", func() (*jwtgate.User, error) { return s.store.UserByID(ctx, sess.UserID) })
	if errors.Is(err, jwtgate.ErrNotFound) {
		return nil, nil, ErrInvalidGrant
	} else if err != nil {
		return nil, nil, fmt.Errorf("auth: refresh: %w", err)
	}
	if u.Disabled {
		return nil, nil, ErrInvalidGrant
	}
	return sess, u, nil
}
