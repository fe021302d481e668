package auth

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/token"
)

// ClientRefreshPrefix starts the refresh tokens of sessions started for
// OpenID Connect clients. The prefix keeps the two kinds apart by shape: a
// client's refresh token is refused by POST /token/refresh (which would
// otherwise turn it into an unscoped first-party token), and a browser's
// by the OAuth token endpoint.
const ClientRefreshPrefix = "jgc_"

// ClientToken says what an access token issued to an OpenID Connect client
// carries besides the user (RFC 9068 section 2.2).
type ClientToken struct {
	ClientID string
	Scope    string   // space-separated, as granted
	AMR      []string // how the user logged in (RFC 8176)
}

// MintClient signs an access token for client ct in user u's session sid,
// issued at iat. It carries the user (sub, id, name) but no roles: an app
// the user signed in to acts within the scopes granted to it, never with
// the user's administrative rights. aud is the client, plus the configured
// audience so that verifiers requiring it accept the token too.
func (s *Service) MintClient(u *jwtgate.User, sid string, iat time.Time, jti string, ct ClientToken) (string, *token.Claims, error) {
	claims := &token.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.o.Issuer,
			Subject:   strconv.FormatInt(u.ID, 10),
			Audience:  s.clientAudience(ct.ClientID),
			IssuedAt:  jwt.NewNumericDate(iat),
			ExpiresAt: jwt.NewNumericDate(iat.Add(s.o.AccessTTL)),
			ID:        jti,
		},
		UserID:    u.ID,
		Name:      u.Name,
		SessionID: sid,
		AMR:       ct.AMR,
		ClientID:  ct.ClientID,
		Scope:     ct.Scope,
	}
	return s.sign(claims)
}

// MintMachine signs a client_credentials access token: the client acts for
// itself, so sub is its client_id (RFC 9068 section 2.2) and there is no
// user and no session; its jti alone revokes it.
func (s *Service) MintMachine(ct ClientToken) (string, *token.Claims, error) {
	now := s.o.Now()
	claims := &token.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    s.o.Issuer,
			Subject:   ct.ClientID,
			Audience:  s.clientAudience(ct.ClientID),
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.o.AccessTTL)),
			ID:        token.NewID(),
		},
		ClientID: ct.ClientID,
		Scope:    ct.Scope,
	}
	return s.sign(claims)
}

func (s *Service) clientAudience(clientID string) jwt.ClaimStrings {
	aud := jwt.ClaimStrings{clientID}
	if s.o.Audience != "" && s.o.Audience != clientID {
		aud = append(aud, s.o.Audience)
	}
	return aud
}

func (s *Service) sign(claims *token.Claims) (string, *token.Claims, error) {
	if s.keys == nil {
		return "", nil, errNoSigner
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

// StartClientSession starts session sid for user u on behalf of an OpenID
// Connect client (a redeemed authorization code), carrying the amr of the
// browser login it came from, and returns the session
// and its first refresh token (ClientRefreshPrefix form). The session is an
// ordinary jwtgate session: listed with the user's, ended by logout, by an
// admin, by a password change, and reported on the revocation feed.
func (s *Service) StartClientSession(ctx context.Context, u *jwtgate.User, sid, clientName string, amr []string) (*jwtgate.Session, string, error) {
	now := s.o.Now()
	c := clientFrom(ctx)
	sess := &jwtgate.Session{
		ID: sid, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.o.SessionTTL),
		IP: c.IP, UserAgent: truncate("app: "+clientName, 256), AMR: amr,
	}
	refresh := ClientRefreshPrefix + newRefreshToken()
	rt := &jwtgate.RefreshToken{Hash: hashRefresh(refresh), SessionID: sid, CreatedAt: now}
	ev := &jwtgate.AuditEvent{Type: jwtgate.EventClientLogin, UserID: u.ID, Name: u.Name, Detail: "sid " + sid + " client " + truncate(clientName, 64)}
	s.fillEvent(ctx, ev)
	if err := s.store.StartSession(ctx, sess, rt, ev); err != nil {
		return nil, "", fmt.Errorf("auth: start client session: %w", err)
	}
	s.logEvent(ctx, ev)
	s.evictSessions(ctx, u, now)
	return sess, refresh, nil
}

// RefreshClient spends a client session's refresh token exactly as Refresh
// spends a browser's (rotation, grace window, reuse revokes the session).
// check is asked before the token is spent whether the caller may spend it
// (its client owns the session, the scopes asked are granted); its error
// is returned as is. mint signs the new access token.
func (s *Service) RefreshClient(ctx context.Context, raw string, c Client, check func(sess *jwtgate.Session) error,
	mint func(u *jwtgate.User, sess *jwtgate.Session, iat time.Time, jti string) (string, *token.Claims, error)) (*Tokens, error) {
	return s.observeRefresh(s.refresh(ctx, raw, c, refreshKind{prefix: ClientRefreshPrefix, check: check, mint: mint}))
}

// RefreshSession returns the session a refresh token of the given kind
// belongs to, without spending it (for revocation and introspection).
// ErrInvalidGrant if the token is unknown, spent or its session over.
func (s *Service) RefreshSession(ctx context.Context, raw string) (*jwtgate.Session, error) {
	if len(raw) != len(ClientRefreshPrefix)+refreshLen {
		return nil, ErrInvalidGrant
	}
	rt, err := s.store.RefreshTokenByHash(ctx, hashRefresh(raw))
	if errors.Is(err, jwtgate.ErrNotFound) {
		return nil, ErrInvalidGrant
	} else if err != nil {
		return nil, fmt.Errorf("auth: refresh token: %w", err)
	}
	if rt.SpentAt != nil {
		return nil, ErrInvalidGrant
	}
	sess, _, err := s.liveSession(ctx, rt.SessionID, s.o.Now())
	return sess, err
}

// LiveSession returns a session and its user if the session is live (not
// revoked, not past its lifetimes) and the user enabled; ErrInvalidGrant
// otherwise.
func (s *Service) LiveSession(ctx context.Context, sid string) (*jwtgate.Session, *jwtgate.User, error) {
	return s.liveSession(ctx, sid, s.o.Now())
}

// UserByID returns a user by ID.
func (s *Service) UserByID(ctx context.Context, id int64) (*jwtgate.User, error) {
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("auth: user: %w", err)
	}
	return u, nil
}

// RevokeSessionIDs ends the sessions with these IDs (whoever's they are)
// on every instance, as a logout does, and returns how many were live.
func (s *Service) RevokeSessionIDs(ctx context.Context, ids ...string) (int, error) {
	now := s.o.Now()
	n := 0
	for _, id := range ids {
		if id == "" {
			continue
		}
		got, err := s.store.RevokeSessions(ctx, jwtgate.SessionFilter{ID: id}, now, s.revocationExpiry(now))
		if err != nil {
			return n, fmt.Errorf("auth: revoke sessions: %w", err)
		}
		n += len(got)
	}
	return n, s.revs.Sync(ctx)
}

// RevokeAccessToken puts one access token (by jti) on the revocation feed
// until it expires.
func (s *Service) RevokeAccessToken(ctx context.Context, c *token.Claims) error {
	if c.ID == "" || c.ExpiresAt == nil {
		return nil
	}
	if err := s.store.RevokeToken(ctx, c.ID, c.ExpiresAt.Add(Leeway)); err != nil {
		return fmt.Errorf("auth: revoke token: %w", err)
	}
	return s.revs.Sync(ctx)
}
