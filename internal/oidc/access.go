package oidc

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/token"
)

// UserInfo answers the claims of the access token's user that its scopes
// grant (OpenID Connect Core section 5.3). Only tokens issued to a client
// with the openid scope are accepted; revoked ones, or ones whose user is
// gone or disabled, are 401.
func (p *Provider) UserInfo(ctx context.Context, r *op.Request[oidc.UserInfoRequest]) (*op.Response, error) {
	invalid := func(why string) error {
		return op.NewStatusError(&oidc.Error{ErrorType: "invalid_token", Description: why}, http.StatusUnauthorized)
	}
	c, err := p.svc.Verify(r.Data.AccessToken)
	if err != nil {
		return nil, invalid("the access token is invalid, expired or revoked")
	}
	scopes := strings.Fields(c.Scope)
	if c.ClientID == "" || c.Machine() || !containsStr(scopes, oidc.ScopeOpenID) {
		return nil, invalid("the access token was not issued for the openid scope")
	}
	u, err := p.svc.UserByID(ctx, c.UserID)
	if errors.Is(err, jwtgate.ErrNotFound) || (err == nil && u.Disabled) {
		return nil, invalid("the token's user can no longer sign in")
	}
	if err != nil {
		return nil, serverError(err, "user")
	}
	claims, err := p.userClaims(ctx, u, scopes)
	if err != nil {
		return nil, serverError(err, "user claims")
	}
	return op.NewResponse(claims), nil
}

// introspection is the RFC 7662 answer.
type introspection struct {
	Active    bool     `json:"active"`
	Scope     string   `json:"scope,omitempty"`
	ClientID  string   `json:"client_id,omitempty"`
	Username  string   `json:"username,omitempty"`
	TokenType string   `json:"token_type,omitempty"`
	Exp       int64    `json:"exp,omitempty"`
	Iat       int64    `json:"iat,omitempty"`
	Sub       string   `json:"sub,omitempty"`
	Aud       []string `json:"aud,omitempty"`
	Iss       string   `json:"iss,omitempty"`
	JTI       string   `json:"jti,omitempty"`
	SID       string   `json:"sid,omitempty"`
}

// Introspect tells an authenticated confidential client whether a token is
// active (RFC 7662): any of jwtgate's access tokens, or a refresh token of
// that same client. Anything else, including a token of another client's
// refresh, is just {"active": false}.
func (p *Provider) Introspect(ctx context.Context, r *op.Request[op.IntrospectionRequest]) (*op.Response, error) {
	cc := r.Data.ClientCredentials
	if cc.ClientSecret == "" || cc.ClientAssertion != "" {
		return nil, errClientAuth()
	}
	caller, err := p.authenticate(ctx, cc.ClientID, cc.ClientSecret)
	if err != nil {
		return nil, err
	}
	raw := r.Data.Token
	if strings.HasPrefix(raw, auth.ClientRefreshPrefix) {
		sess, err := p.svc.RefreshSession(ctx, raw)
		if err != nil {
			return op.NewResponse(introspection{}), nil
		}
		g, err := p.store.ClientGrant(ctx, sess.ID)
		if err != nil || g.ClientID != caller.ID {
			return op.NewResponse(introspection{}), nil
		}
		return op.NewResponse(introspection{Active: true, Scope: grantedScope(g.Scopes), ClientID: g.ClientID, TokenType: "refresh_token",
			Sub: formatID(g.UserID), Iss: p.o.Issuer, SID: sess.ID, Exp: sess.ExpiresAt.Unix()}), nil
	}
	c, err := p.svc.Verify(raw)
	if err != nil {
		return op.NewResponse(introspection{}), nil
	}
	return op.NewResponse(accessIntrospection(c)), nil
}

func accessIntrospection(c *token.Claims) introspection {
	out := introspection{Active: true, Scope: c.Scope, ClientID: c.ClientID, Username: c.Name, TokenType: "Bearer",
		Sub: c.Subject, Aud: c.Audience, Iss: c.Issuer, JTI: c.ID, SID: c.SessionID}
	if c.ExpiresAt != nil {
		out.Exp = c.ExpiresAt.Unix()
	}
	if c.IssuedAt != nil {
		out.Iat = c.IssuedAt.Unix()
	}
	return out
}

// Revocation revokes a token the client holds (RFC 7009): a refresh token
// ends its session, with every access token issued in it; an access token
// is revoked by its jti. A token that is unknown, invalid or another
// client's is answered 200 all the same (section 2.2), and left alone.
func (p *Provider) Revocation(ctx context.Context, r *op.ClientRequest[oidc.RevocationRequest]) (*op.Response, error) {
	c := r.Client.(opClient).c
	raw := r.Data.Token
	if strings.HasPrefix(raw, auth.ClientRefreshPrefix) {
		sess, err := p.svc.RefreshSession(ctx, raw)
		if err != nil {
			return op.NewResponse(struct{}{}), nil
		}
		if g, err := p.store.ClientGrant(ctx, sess.ID); err == nil && g.ClientID == c.ID {
			if _, err := p.svc.RevokeSessionIDs(ctx, sess.ID); err != nil {
				return nil, op.RevocationError(oidc.ErrServerError().WithParent(err))
			}
		}
		return op.NewResponse(struct{}{}), nil
	}
	if claims, err := p.svc.Verify(raw); err == nil && claims.ClientID == c.ID {
		if err := p.svc.RevokeAccessToken(ctx, claims); err != nil {
			return nil, op.RevocationError(oidc.ErrServerError().WithParent(err))
		}
	}
	return op.NewResponse(struct{}{}), nil
}

func containsStr(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}
