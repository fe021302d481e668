package oidc

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/token"
)

// CodeExchange redeems an authorization code (RFC 6749 section 4.1.3).
//
// The code is spent first, atomically, whatever follows: a code is good
// for one attempt, so a wrong verifier cannot be retried. A code that was
// already spent is a replay, and the session its first redemption started
// is revoked with every token it issued (section 4.1.2). Then the code
// must be unexpired and the request's client, redirect URI and PKCE
// verifier must be the ones it was issued for; on success the user gets a
// session of their own for this client.
func (p *Provider) CodeExchange(ctx context.Context, r *op.ClientRequest[oidc.AccessTokenRequest]) (*op.Response, error) {
	c := r.Client.(opClient).c
	now := p.o.Now()
	sid := token.NewID()
	req, first, err := p.store.RedeemAuthCode(ctx, hashCode(r.Data.Code), now, sid)
	if errors.Is(err, jwtgate.ErrNotFound) {
		return nil, oidc.ErrInvalidGrant().WithDescription("unknown authorization code")
	}
	if err != nil {
		return nil, serverError(err, "redeem code")
	}
	if !first {
		if _, err := p.svc.RevokeSessionIDs(ctx, req.IssuedSessionID); err != nil {
			p.o.Logger.Error("revoking the session of a reused code", "err", err)
		}
		p.svc.Record(ctx, jwtgate.AuditEvent{Type: jwtgate.EventCodeReused, UserID: req.UserID,
			Detail: "client " + req.ClientID + "; sid " + req.IssuedSessionID + " revoked"})
		return nil, oidc.ErrInvalidGrant().WithDescription("authorization code already used; the tokens it issued are revoked")
	}
	switch {
	case !now.Before(req.CodeExpiresAt):
		return nil, oidc.ErrInvalidGrant().WithDescription("authorization code expired")
	case req.ClientID != c.ID:
		return nil, oidc.ErrInvalidGrant().WithDescription("authorization code was issued to another client")
	case r.Data.RedirectURI != req.RedirectURI:
		return nil, oidc.ErrInvalidGrant().WithDescription("redirect_uri differs from the authorization request's")
	}
	if err := checkVerifier(req.CodeChallenge, r.Data.CodeVerifier); err != nil {
		return nil, err
	}
	u, err := p.svc.UserByID(ctx, req.UserID)
	if errors.Is(err, jwtgate.ErrNotFound) || (err == nil && u.Disabled) {
		return nil, oidc.ErrInvalidGrant().WithDescription("the user can no longer sign in")
	}
	if err != nil {
		return nil, serverError(err, "user")
	}
	sess, refresh, err := p.svc.StartClientSession(ctx, u, sid, c.Name, req.AMR)
	if err != nil {
		return nil, serverError(err, "start session")
	}
	g := &jwtgate.ClientGrant{SessionID: sess.ID, ClientID: c.ID, UserID: u.ID, Scopes: req.Scopes, AuthTime: req.AuthTime, AMR: req.AMR, CreatedAt: now}
	if err := p.store.CreateClientGrant(ctx, g); err != nil {
		_, _ = p.svc.RevokeSessionIDs(ctx, sess.ID)
		return nil, serverError(err, "record grant")
	}
	if !slices.Contains(req.Scopes, oidc.ScopeOfflineAccess) {
		refresh = ""
	}
	return p.tokenResponse(ctx, c, u, g, refresh, req.Nonce, now, token.NewID())
}

// checkVerifier compares the PKCE verifier with the stored S256 challenge
// (RFC 7636 section 4.6), in constant time. A verifier without a challenge
// is refused too (RFC 9700 section 2.1.1: it would hide a downgrade).
func checkVerifier(challenge, verifier string) error {
	if challenge == "" {
		if verifier != "" {
			return oidc.ErrInvalidGrant().WithDescription("code_verifier sent, but the authorization request had no code_challenge")
		}
		return nil
	}
	if verifier == "" {
		return oidc.ErrInvalidGrant().WithDescription("code_verifier is required")
	}
	if len(verifier) < 43 || len(verifier) > 128 {
		return oidc.ErrInvalidGrant().WithDescription("code_verifier must be 43 to 128 characters")
	}
	sum := sha256.Sum256([]byte(verifier))
	if subtle.ConstantTimeCompare([]byte(base64.RawURLEncoding.EncodeToString(sum[:])), []byte(challenge)) != 1 {
		return oidc.ErrInvalidGrant().WithDescription("code_verifier does not match the code_challenge")
	}
	return nil
}

// tokenResponse signs the access token (RFC 9068, by the keyring's signing
// key, so jwtgate's verifiers accept it) and, for the openid scope, the
// id_token.
func (p *Provider) tokenResponse(ctx context.Context, c *jwtgate.Client, u *jwtgate.User, g *jwtgate.ClientGrant, refresh, nonce string, iat time.Time, jti string) (*op.Response, error) {
	scopes := g.Scopes
	access, _, err := p.svc.MintClient(u, g.SessionID, iat, jti, auth.ClientToken{ClientID: c.ID, Scope: grantedScope(scopes), AMR: g.AMR})
	if err != nil {
		return nil, serverError(err, "sign access token")
	}
	resp := &oidc.AccessTokenResponse{
		AccessToken: access, TokenType: oidc.BearerToken, RefreshToken: refresh, Scope: scopes,
		ExpiresIn: uint64(max(0, p.svc.AccessTTL()-p.o.Now().Sub(iat)) / time.Second),
	}
	if slices.Contains(scopes, oidc.ScopeOpenID) {
		resp.IDToken, err = p.mintIDToken(ctx, idTokenInput{user: u, clientID: c.ID, idTokenAlg: c.IDTokenAlg, sid: g.SessionID,
			scopes: scopes, authTime: g.AuthTime, amr: g.AMR, nonce: nonce, accessToken: access})
		if err != nil {
			return nil, serverError(err, "sign id_token")
		}
	}
	return op.NewResponse(resp), nil
}

// RefreshToken rotates a client's refresh token (RFC 6749 section 6) with
// jwtgate's session machinery: reuse after the grace window revokes the
// session. The token must be this client's, and the scopes asked (if any)
// a subset of those granted; neither check spends the token.
func (p *Provider) RefreshToken(ctx context.Context, r *op.ClientRequest[oidc.RefreshTokenRequest]) (*op.Response, error) {
	c := r.Client.(opClient).c
	var g *jwtgate.ClientGrant
	var scopeErr error
	check := func(sess *jwtgate.Session) error {
		var err error
		g, err = p.store.ClientGrant(ctx, sess.ID)
		if errors.Is(err, jwtgate.ErrNotFound) || (err == nil && g.ClientID != c.ID) {
			return auth.ErrInvalidGrant
		}
		if err != nil {
			return err
		}
		if len(r.Data.Scopes) > 0 {
			for _, s := range r.Data.Scopes {
				if !slices.Contains(g.Scopes, s) {
					scopeErr = oidc.ErrInvalidScope().WithDescription("scope %q was not granted", truncate(s, 40))
					return scopeErr
				}
			}
			g.Scopes = slices.DeleteFunc(slices.Clone(g.Scopes), func(s string) bool { return !slices.Contains(r.Data.Scopes, s) })
		}
		return nil
	}
	var u *jwtgate.User
	mint := func(user *jwtgate.User, sess *jwtgate.Session, iat time.Time, jti string) (string, *token.Claims, error) {
		u = user
		return p.svc.MintClient(user, sess.ID, iat, jti, auth.ClientToken{ClientID: c.ID, Scope: grantedScope(g.Scopes), AMR: g.AMR})
	}
	tok, err := p.svc.RefreshClient(ctx, r.Data.RefreshToken, auth.ClientFrom(ctx), check, mint)
	switch {
	case scopeErr != nil:
		return nil, scopeErr
	case errors.Is(err, auth.ErrRefreshReused):
		return nil, oidc.ErrInvalidGrant().WithDescription("refresh token reused; the session is revoked")
	case errors.Is(err, auth.ErrInvalidGrant):
		return nil, oidc.ErrInvalidGrant().WithDescription("invalid refresh token")
	case err != nil:
		return nil, serverError(err, "refresh")
	}
	resp := &oidc.AccessTokenResponse{
		AccessToken: tok.Access, TokenType: oidc.BearerToken, RefreshToken: tok.Refresh, Scope: g.Scopes,
		ExpiresIn: uint64(tok.ExpiresIn / time.Second),
	}
	if slices.Contains(g.Scopes, oidc.ScopeOpenID) {
		resp.IDToken, err = p.mintIDToken(ctx, idTokenInput{user: u, clientID: c.ID, idTokenAlg: c.IDTokenAlg, sid: g.SessionID,
			scopes: g.Scopes, authTime: g.AuthTime, amr: g.AMR, accessToken: tok.Access})
		if err != nil {
			return nil, serverError(err, "sign id_token")
		}
	}
	return op.NewResponse(resp), nil
}

// ClientCredentialsExchange issues a confidential client a token for
// itself (RFC 6749 section 4.4): no user, no session, no refresh token.
// The library lets only authenticated clients with the grant get here.
func (p *Provider) ClientCredentialsExchange(ctx context.Context, r *op.ClientRequest[oidc.ClientCredentialsRequest]) (*op.Response, error) {
	c := r.Client.(opClient).c
	if c.Public {
		return nil, oidc.ErrUnauthorizedClient().WithDescription("a public client cannot use client_credentials")
	}
	var scopes []string
	for _, s := range r.Data.Scope {
		// The user scopes mean nothing without a user.
		if s == oidc.ScopeOpenID || s == oidc.ScopeOfflineAccess || s == oidc.ScopeProfile || s == oidc.ScopeEmail {
			return nil, oidc.ErrInvalidScope().WithDescription("scope %q needs a user; client_credentials has none", truncate(s, 40))
		}
		return nil, oidc.ErrInvalidScope().WithDescription("scope %q is not known", truncate(s, 40))
	}
	access, claims, err := p.svc.MintMachine(auth.ClientToken{ClientID: c.ID, Scope: grantedScope(scopes)})
	if err != nil {
		return nil, serverError(err, "sign access token")
	}
	return op.NewResponse(&oidc.AccessTokenResponse{
		AccessToken: access, TokenType: oidc.BearerToken,
		ExpiresIn: uint64(claims.ExpiresAt.Sub(claims.IssuedAt.Time) / time.Second),
	}), nil
}
