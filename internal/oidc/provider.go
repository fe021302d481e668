package oidc

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
)

// The provider's paths. The authorization endpoint's continuation and the
// consent page are jwtgate's own (internal/server); the rest are served by
// the zitadel/oidc op handler that Handler returns.
const (
	AuthorizePath   = "/oauth2/authorize"
	ContinuePath    = "/oauth2/authorize/continue"
	ConsentPath     = "/oauth2/consent"
	TokenPath       = "/oauth2/token"
	UserinfoPath    = "/oauth2/userinfo"
	RevokePath      = "/oauth2/revoke"
	IntrospectPath  = "/oauth2/introspect"
	EndSessionPath  = "/oauth2/end_session"
	JWKSPath        = "/.well-known/jwks.json"
	DiscoveryPath   = "/.well-known/openid-configuration"
	ASMetadataPath  = "/.well-known/oauth-authorization-server"
	defaultCodeTTL  = 60 * time.Second
	defaultLoginTTL = 10 * time.Minute
)

// Options configure a Provider.
type Options struct {
	Issuer string // the public URL; iss of every token and of authorization responses
	// CodeTTL is how long an authorization code may be redeemed (60 s at
	// most, RFC 9700 section 4.1 asks for short-lived codes).
	CodeTTL time.Duration
	// LoginTTL is how long a user has to log in and consent.
	LoginTTL time.Duration
	Now      func() time.Time
	Logger   *slog.Logger
}

// Provider is jwtgate's OpenID Provider: the rules of the authorization
// code flow, the token endpoint's grants, userinfo, revocation and
// introspection, over jwtgate's stores, sessions and keys. It implements
// the zitadel/oidc op.Server interface, so the library parses and checks
// every request and encodes every OAuth error, while every decision and
// every token is jwtgate's. Safe for concurrent use.
type Provider struct {
	op.UnimplementedServer
	store   jwtgate.Store
	svc     *auth.Service
	keys    *auth.Keyring
	clients *Clients
	o       Options
	handler http.Handler // the op library's router, built once
}

// New returns a provider. keys is the keyring (the provider needs
// asymmetric keys: it is not offered with a shared secret).
func New(store jwtgate.Store, svc *auth.Service, keys *auth.Keyring, o Options) *Provider {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.CodeTTL <= 0 || o.CodeTTL > defaultCodeTTL {
		o.CodeTTL = defaultCodeTTL
	}
	if o.LoginTTL <= 0 {
		o.LoginTTL = defaultLoginTTL
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.Issuer = strings.TrimRight(o.Issuer, "/")
	p := &Provider{store: store, svc: svc, keys: keys, clients: NewClients(store, o.Now, svc.Record), o: o}
	p.handler = p.newHandler()
	return p
}

// Issuer is the provider's issuer identifier.
func (p *Provider) Issuer() string { return p.o.Issuer }

// Handler serves the endpoints the op library routes: authorization,
// token, userinfo, revocation and introspection, at the paths above.
func (p *Provider) Handler() http.Handler { return p.handler }

func (p *Provider) newHandler() http.Handler {
	ep := op.Endpoints{
		Authorization: op.NewEndpoint(AuthorizePath),
		Token:         op.NewEndpoint(TokenPath),
		Userinfo:      op.NewEndpoint(UserinfoPath),
		Revocation:    op.NewEndpoint(RevokePath),
		Introspection: op.NewEndpoint(IntrospectPath),
	}
	// No CORS from the library: token, userinfo, revocation and
	// introspection answer cross-origin callers through the server's
	// own headers (see internal/server), and authorization is a
	// navigation, never a fetch.
	return op.RegisterServer(p, ep, op.WithServerCORSOptions(nil), op.WithEncoder(issEncoder{issuer: p.o.Issuer}))
}

// Health implements op.Server.
func (p *Provider) Health(context.Context, *op.Request[struct{}]) (*op.Response, error) {
	return op.NewResponse(op.Status{Status: "ok"}), nil
}

// VerifyAuthRequest finds the client and checks the redirect URI exactly
// (MatchRedirectURI) before anything could be sent to it: a failure here is
// answered to the browser, never redirected (RFC 6749 section 4.1.2.1).
func (p *Provider) VerifyAuthRequest(ctx context.Context, r *op.Request[oidc.AuthRequest]) (*op.ClientRequest[oidc.AuthRequest], error) {
	c, err := p.CheckAuthorize(ctx, r.Form)
	if err != nil {
		return nil, err
	}
	return &op.ClientRequest[oidc.AuthRequest]{Request: r, Client: opClient{c}}, nil
}

// CheckAuthorize checks the parts of an authorization request that decide
// whether an error may be sent back to the client at all: the parameters'
// shape (CheckParams), the client and its redirect URI. Its errors are
// *oidc.Error values to show the browser, not to redirect.
func (p *Provider) CheckAuthorize(ctx context.Context, form map[string][]string) (*jwtgate.Client, error) {
	if err := CheckParams(form); err != nil {
		return nil, oidc.ErrInvalidRequest().WithDescription("%s", err.Error())
	}
	id := first(form, "client_id")
	if id == "" {
		return nil, oidc.ErrInvalidRequest().WithDescription("client_id is missing")
	}
	c, err := p.store.Client(ctx, id)
	if errors.Is(err, jwtgate.ErrNotFound) {
		return nil, oidc.ErrInvalidRequest().WithDescription("unknown client_id")
	}
	if err != nil {
		return nil, op.AsStatusError(oidc.ErrServerError().WithParent(err), http.StatusInternalServerError)
	}
	redirect := first(form, "redirect_uri")
	if redirect == "" {
		return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("redirect_uri is missing")
	}
	if !MatchRedirectURI(c, redirect) {
		return nil, oidc.ErrInvalidRequestRedirectURI().WithDescription("redirect_uri is not registered for this client")
	}
	return c, nil
}

func first(form map[string][]string, name string) string {
	if v := form[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// Authorize stores the request and sends the browser to the continuation,
// where the login, consent and code happen. The redirect URI is known good
// here: errors are redirected to the client.
func (p *Provider) Authorize(ctx context.Context, r *op.ClientRequest[oidc.AuthRequest]) (*op.Redirect, error) {
	d := r.Data
	c := r.Client.(opClient).c
	if d.RequestParam != "" || first(r.Form, "request_uri") != "" {
		return nil, oidc.ErrRequestNotSupported()
	}
	if d.ResponseType != oidc.ResponseTypeCode {
		return nil, &oidc.Error{ErrorType: "unsupported_response_type", Description: "only response_type=code is supported (no implicit or hybrid flow)"}
	}
	if d.ResponseMode != "" && d.ResponseMode != oidc.ResponseModeQuery {
		return nil, oidc.ErrInvalidRequest().WithDescription("only response_mode=query is supported")
	}
	if err := checkPKCE(c, d.CodeChallenge, string(d.CodeChallengeMethod)); err != nil {
		return nil, err
	}
	if !slices.Contains(d.Scopes, oidc.ScopeOpenID) {
		return nil, oidc.ErrInvalidScope().WithDescription("the openid scope is required")
	}
	hintSubject, err := p.authorizeHint(c, d.IDTokenHint)
	if err != nil {
		return nil, err
	}
	maxAge := int64(-1)
	if d.MaxAge != nil {
		maxAge = int64(*d.MaxAge)
	}
	now := p.o.Now()
	req := &jwtgate.AuthRequest{
		ID: randomString(24), ClientID: c.ID, RedirectURI: d.RedirectURI, Scopes: allowedScopes(c, d.Scopes),
		State: d.State, Nonce: d.Nonce, CodeChallenge: d.CodeChallenge, Prompt: d.Prompt, MaxAge: maxAge,
		LoginHint: d.LoginHint, HintSubject: hintSubject, CreatedAt: now, ExpiresAt: now.Add(p.o.LoginTTL),
	}
	if err := p.store.CreateAuthRequest(ctx, req); err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return op.NewRedirect(p.o.Issuer + ContinuePath + "?id=" + req.ID), nil
}

// authorizeHint checks an authorization request's id_token_hint and
// returns the subject it names ("" without a hint). The hint must be an
// id_token this provider issued to client c (verifyIDTokenHint: our
// issuer, a key still published; expiry does not matter): anything else is
// invalid_request, answered before the request is stored, so a forged or
// foreign hint never reaches the login page. Requiring c's own id_token
// keeps one client from steering the flow with a token another was given.
func (p *Provider) authorizeHint(c *jwtgate.Client, raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	h, err := p.verifyIDTokenHint(raw)
	if err != nil {
		return "", oidc.ErrInvalidRequest().WithDescription("id_token_hint is not a valid id_token of this provider")
	}
	if h.ClientID != c.ID {
		return "", oidc.ErrInvalidRequest().WithDescription("id_token_hint was not issued to this client")
	}
	if h.Subject == "" {
		return "", oidc.ErrInvalidRequest().WithDescription("id_token_hint has no sub")
	}
	return h.Subject, nil
}

// checkPKCE enforces RFC 9700 section 2.1.1: S256 only (plain and an
// omitted method, which means plain, are refused), required for public
// clients, and a challenge that is what S256 produces (43 base64url
// characters).
func checkPKCE(c *jwtgate.Client, challenge, method string) error {
	if challenge == "" {
		if method != "" {
			return oidc.ErrInvalidRequest().WithDescription("code_challenge_method without code_challenge")
		}
		if c.Public {
			return oidc.ErrInvalidRequest().WithDescription("PKCE is required for public clients: send code_challenge with code_challenge_method=S256")
		}
		return nil
	}
	if method != string(oidc.CodeChallengeMethodS256) {
		return oidc.ErrInvalidRequest().WithDescription("code_challenge_method must be S256 (plain is not allowed)")
	}
	if len(challenge) != 43 || strings.Trim(challenge, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return oidc.ErrInvalidRequest().WithDescription("code_challenge must be the base64url SHA-256 of the verifier (43 characters)")
	}
	return nil
}

// allowedScopes keeps the requested scopes the client may have, in the
// order asked, without repeats (RFC 6749 section 3.3 lets the server grant
// fewer than asked; the token response says which).
func allowedScopes(c *jwtgate.Client, asked []string) []string {
	allowed := c.Scopes
	if len(allowed) == 0 {
		allowed = SupportedScopes
	}
	var out []string
	for _, s := range asked {
		if slices.Contains(allowed, s) && slices.Contains(SupportedScopes, s) && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// VerifyClient authenticates the client of a token, revocation or
// introspection request: client_secret_basic or client_secret_post for a
// confidential client (compared in constant time by Clients.Authenticate),
// the bare client_id for a public one. Every failure is the same
// invalid_client with 401.
func (p *Provider) VerifyClient(ctx context.Context, r *op.Request[op.ClientCredentials]) (op.Client, error) {
	cc := r.Data
	if cc.ClientAssertion != "" || cc.ClientAssertionType != "" {
		return nil, op.NewStatusError(oidc.ErrInvalidClient().WithDescription("private_key_jwt is not supported"), http.StatusUnauthorized)
	}
	c, err := p.authenticate(ctx, cc.ClientID, cc.ClientSecret)
	if err != nil {
		return nil, err
	}
	return opClient{c}, nil
}

func errClientAuth() error {
	return op.NewStatusError(oidc.ErrInvalidClient().WithDescription("client authentication failed"), http.StatusUnauthorized)
}

func (p *Provider) authenticate(ctx context.Context, id, secret string) (*jwtgate.Client, error) {
	if secret == "" {
		c, err := p.store.Client(ctx, id)
		if errors.Is(err, jwtgate.ErrNotFound) {
			return nil, errClientAuth()
		}
		if err != nil {
			return nil, op.AsStatusError(oidc.ErrServerError().WithParent(err), http.StatusInternalServerError)
		}
		if !c.Public {
			return nil, errClientAuth()
		}
		return c, nil
	}
	c, err := p.clients.Authenticate(ctx, id, secret)
	if errors.Is(err, jwtgate.ErrBadCredentials) {
		return nil, errClientAuth()
	}
	if err != nil {
		return nil, op.AsStatusError(oidc.ErrServerError().WithParent(err), http.StatusInternalServerError)
	}
	return c, nil
}

// hashCode is the stored form of an authorization code (256 random bits:
// a plain SHA-256 is enough).
func hashCode(code string) []byte {
	h := sha256.Sum256([]byte(code))
	return h[:]
}

// grantedScope is the space-separated scope string of a token.
func grantedScope(scopes []string) string { return strings.Join(scopes, " ") }

// serverError wraps a store or signing failure as the OAuth server_error.
func serverError(err error, what string) error {
	return oidc.ErrServerError().WithParent(fmt.Errorf("oidc: %s: %w", what, err))
}
