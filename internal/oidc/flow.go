package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
)

// StepKind says what the browser does next in an authorization.
type StepKind int

const (
	// StepLogin: the user must log in (again); URL is the login page,
	// which returns to the continuation.
	StepLogin StepKind = iota + 1
	// StepConsent: the user must approve the client for Scopes.
	StepConsent
	// StepRedirect: back to the client, with a code or an error (URL).
	StepRedirect
)

// Step is the answer of Continue and Decide.
type Step struct {
	Kind      StepKind
	URL       string
	RequestID string
	Client    *jwtgate.Client
	Scopes    []string
	LoginHint string
}

// Browser is the browser's jwtgate session, as its session cookie shows it
// (nil: none, or not valid).
type Browser struct {
	SessionID string
	AMR       []string
}

// ErrRequestGone means the authorization request is unknown, expired or
// already answered: the browser can only go back to the app and start over.
var ErrRequestGone = errors.New("this sign-in request is unknown, expired or already used; go back to the app and start again")

// Continue decides the next step of authorization request id for a browser
// with session b (nil when not logged in):
//
//   - log in when there is no live session, when prompt=login and the
//     session began before the request, or when the session's login is
//     older than max_age (prompt=none answers login_required instead);
//   - log in, too, when the request's id_token_hint names another user
//     than the session's and the session began before the request, as for
//     prompt=login (prompt=none answers login_required: OpenID Connect
//     Core section 3.1.2.1). After that fresh login the flow goes on even
//     if the user is still not the hinted one: the person at the browser
//     chose whom to sign in as, and the client, which checks the
//     id_token's sub against the hint's, decides what to do with another
//     user; refusing would only loop the browser through the login page;
//   - consent when the client is not trusted and the user has not approved
//     it for these scopes, or prompt=consent (prompt=none answers
//     consent_required);
//   - otherwise a code, single-use and valid CodeTTL, is issued and the
//     browser sent back to the client with it, its state and iss.
func (p *Provider) Continue(ctx context.Context, id string, b *Browser) (*Step, error) {
	req, c, err := p.pending(ctx, id)
	if err != nil {
		return nil, err
	}
	return p.next(ctx, req, c, b, false)
}

// next is Continue's decision; consented means the user approved on the
// consent page just now.
func (p *Provider) next(ctx context.Context, req *jwtgate.AuthRequest, c *jwtgate.Client, b *Browser, consented bool) (*Step, error) {
	now := p.o.Now()
	var err error
	var sess *jwtgate.Session
	var u *jwtgate.User
	if b != nil {
		sess, u, err = p.svc.LiveSession(ctx, b.SessionID)
		if err != nil && !errors.Is(err, auth.ErrInvalidGrant) {
			return nil, err
		}
	}
	none := slices.Contains(req.Prompt, "none")
	otherUser := sess != nil && req.HintSubject != "" && req.HintSubject != formatID(u.ID)
	if otherUser && none {
		return p.refuse(ctx, req, "login_required", "the logged-in user is not the one the id_token_hint names")
	}
	needLogin := sess == nil ||
		((slices.Contains(req.Prompt, "login") || otherUser) && sess.CreatedAt.Before(req.CreatedAt)) ||
		(req.MaxAge >= 0 && now.Sub(sess.CreatedAt) > time.Duration(req.MaxAge)*time.Second)
	if needLogin {
		if none {
			return p.refuse(ctx, req, "login_required", "the user is not logged in")
		}
		return &Step{Kind: StepLogin, URL: p.loginURL(req), RequestID: req.ID, Client: c, LoginHint: req.LoginHint}, nil
	}
	if !c.Trusted && !consented {
		consent, err := p.store.Consent(ctx, u.ID, c.ID)
		if err != nil && !errors.Is(err, jwtgate.ErrNotFound) {
			return nil, err
		}
		covered := consent != nil && !slices.ContainsFunc(req.Scopes, func(s string) bool { return !slices.Contains(consent.Scopes, s) })
		if !covered || slices.Contains(req.Prompt, "consent") {
			if none {
				return p.refuse(ctx, req, "consent_required", "the user has not approved this application")
			}
			return &Step{Kind: StepConsent, URL: p.o.Issuer + ConsentPath + "?id=" + url.QueryEscape(req.ID), RequestID: req.ID, Client: c, Scopes: req.Scopes}, nil
		}
	}
	return p.issueCode(ctx, req, u, sess, b.AMR)
}

// pending loads a request that can still be continued, and its client.
func (p *Provider) pending(ctx context.Context, id string) (*jwtgate.AuthRequest, *jwtgate.Client, error) {
	if id == "" || len(id) > 64 {
		return nil, nil, ErrRequestGone
	}
	req, err := p.store.AuthRequest(ctx, id)
	if errors.Is(err, jwtgate.ErrNotFound) {
		return nil, nil, ErrRequestGone
	}
	if err != nil {
		return nil, nil, fmt.Errorf("oidc: auth request: %w", err)
	}
	if req.Done() || !p.o.Now().Before(req.ExpiresAt) {
		return nil, nil, ErrRequestGone
	}
	c, err := p.store.Client(ctx, req.ClientID)
	if errors.Is(err, jwtgate.ErrNotFound) {
		return nil, nil, ErrRequestGone
	}
	if err != nil {
		return nil, nil, fmt.Errorf("oidc: client: %w", err)
	}
	return req, c, nil
}

// loginURL is the login page, returning to the continuation; a login_hint
// prefills the name.
func (p *Provider) loginURL(req *jwtgate.AuthRequest) string {
	back := p.o.Issuer + ContinuePath + "?id=" + url.QueryEscape(req.ID)
	u := p.o.Issuer + "/login?return_to=" + url.QueryEscape(back)
	if req.LoginHint != "" {
		u += "&login_hint=" + url.QueryEscape(truncate(req.LoginHint, 256))
	}
	return u
}

// issueCode completes the request with a fresh code and sends the browser
// back to the client with it (RFC 6749 section 4.1.2, RFC 9207 iss).
func (p *Provider) issueCode(ctx context.Context, req *jwtgate.AuthRequest, u *jwtgate.User, sess *jwtgate.Session, amr []string) (*Step, error) {
	code := randomString(32)
	now := p.o.Now()
	if len(sess.AMR) > 0 {
		amr = sess.AMR // what the browser's login earned (second factor included)
	}
	if len(amr) == 0 {
		amr = []string{"pwd"}
	}
	err := p.store.CompleteAuthRequest(ctx, req.ID, jwtgate.AuthCompletion{
		UserID: u.ID, SessionID: sess.ID, AuthTime: sess.CreatedAt, AMR: amr,
		CodeHash: hashCode(code), CodeExpiresAt: now.Add(p.o.CodeTTL),
	})
	if errors.Is(err, jwtgate.ErrConflict) || errors.Is(err, jwtgate.ErrNotFound) {
		return nil, ErrRequestGone
	}
	if err != nil {
		return nil, fmt.Errorf("oidc: complete auth request: %w", err)
	}
	q := url.Values{"code": {code}, "iss": {p.o.Issuer}}
	if req.State != "" {
		q.Set("state", req.State)
	}
	return &Step{Kind: StepRedirect, URL: withQuery(req.RedirectURI, q)}, nil
}

// refuse answers the request with an OAuth error, once: the request is
// closed with a code nobody is told (and that has expired), so neither
// the consent page nor the continuation can answer it again.
func (p *Provider) refuse(ctx context.Context, req *jwtgate.AuthRequest, code, description string) (*Step, error) {
	now := p.o.Now()
	err := p.store.CompleteAuthRequest(ctx, req.ID, jwtgate.AuthCompletion{CodeHash: hashCode(randomString(32)), CodeExpiresAt: now, AuthTime: now})
	if errors.Is(err, jwtgate.ErrConflict) || errors.Is(err, jwtgate.ErrNotFound) {
		return nil, ErrRequestGone
	}
	if err != nil {
		return nil, fmt.Errorf("oidc: close auth request: %w", err)
	}
	return p.errorStep(req, code, description), nil
}

// errorStep sends the browser back to the client with an OAuth error.
func (p *Provider) errorStep(req *jwtgate.AuthRequest, code, description string) *Step {
	q := url.Values{"error": {code}, "error_description": {description}, "iss": {p.o.Issuer}}
	if req.State != "" {
		q.Set("state", req.State)
	}
	return &Step{Kind: StepRedirect, URL: withQuery(req.RedirectURI, q)}
}

// withQuery adds q to the query of a registered redirect URI, keeping the
// query it has (RFC 6749 section 3.1.2).
func withQuery(redirect string, q url.Values) string {
	u, err := url.Parse(redirect)
	if err != nil { // registered URIs parse; CheckRedirectURI made sure
		return redirect
	}
	merged := u.Query()
	for k, v := range q {
		merged[k] = v
	}
	u.RawQuery = merged.Encode()
	return u.String()
}

// Decide records the user's answer on the consent page. Approving
// remembers the scopes (with any approved before) and continues;
// refusing sends the browser back to the client with access_denied.
func (p *Provider) Decide(ctx context.Context, id string, b *Browser, approve bool) (*Step, error) {
	req, c, err := p.pending(ctx, id)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return p.next(ctx, req, c, nil, false)
	}
	_, u, err := p.svc.LiveSession(ctx, b.SessionID)
	if errors.Is(err, auth.ErrInvalidGrant) {
		return p.next(ctx, req, c, nil, false)
	}
	if err != nil {
		return nil, err
	}
	if !approve {
		return p.refuse(ctx, req, "access_denied", "the user refused the request")
	}
	now := p.o.Now()
	scopes := slices.Clone(req.Scopes)
	created := now
	if old, err := p.store.Consent(ctx, u.ID, c.ID); err == nil {
		created = old.CreatedAt
		for _, s := range old.Scopes {
			if !slices.Contains(scopes, s) {
				scopes = append(scopes, s)
			}
		}
	}
	if err := p.store.SaveConsent(ctx, &jwtgate.Consent{UserID: u.ID, ClientID: c.ID, Scopes: scopes, CreatedAt: created, UpdatedAt: now}); err != nil {
		return nil, fmt.Errorf("oidc: save consent: %w", err)
	}
	p.svc.Record(ctx, jwtgate.AuditEvent{Type: jwtgate.EventClientAuthorized, UserID: u.ID, Name: u.Name,
		Detail: "client " + c.ID + " scopes " + grantedScope(req.Scopes)})
	return p.next(ctx, req, c, b, true)
}

// ConsentInfo is what the consent page shows.
func (p *Provider) ConsentInfo(ctx context.Context, id string) (*jwtgate.AuthRequest, *jwtgate.Client, error) {
	return p.pending(ctx, id)
}

// ConnectedApp is a client the user approved, for the user page.
type ConnectedApp struct {
	ClientID  string    `json:"client_id"`
	Name      string    `json:"name"`
	Scopes    []string  `json:"scopes"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ConnectedApps lists the clients the user approved.
func (p *Provider) ConnectedApps(ctx context.Context, userID int64) ([]ConnectedApp, error) {
	consents, err := p.store.ConsentsByUser(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("oidc: consents: %w", err)
	}
	out := []ConnectedApp{}
	for _, cs := range consents {
		c, err := p.store.Client(ctx, cs.ClientID)
		if err != nil {
			continue
		}
		out = append(out, ConnectedApp{ClientID: c.ID, Name: c.Name, Scopes: cs.Scopes, CreatedAt: cs.CreatedAt, UpdatedAt: cs.UpdatedAt})
	}
	return out, nil
}

// Disconnect forgets the user's consent for a client and ends every
// session the client holds for the user (its refresh and access tokens
// die with them). ErrNotFound if the user had not approved the client and
// it holds no session.
func (p *Provider) Disconnect(ctx context.Context, userID int64, clientID string) error {
	err := p.store.DeleteConsent(ctx, userID, clientID)
	if err != nil && !errors.Is(err, jwtgate.ErrNotFound) {
		return fmt.Errorf("oidc: disconnect: %w", err)
	}
	ids, lerr := p.store.ClientGrantSessions(ctx, userID, clientID)
	if lerr != nil {
		return fmt.Errorf("oidc: disconnect: %w", lerr)
	}
	n, rerr := p.svc.RevokeSessionIDs(ctx, ids...)
	if rerr != nil {
		return fmt.Errorf("oidc: disconnect: %w", rerr)
	}
	if errors.Is(err, jwtgate.ErrNotFound) && n == 0 {
		return fmt.Errorf("oidc: app %q: %w", truncate(clientID, 40), jwtgate.ErrNotFound)
	}
	p.svc.Record(ctx, jwtgate.AuditEvent{Type: jwtgate.EventConsentRevoked, UserID: userID,
		Detail: fmt.Sprintf("client %s; %d sessions revoked", truncate(clientID, 40), n)})
	return nil
}

// Logout is RP-initiated logout (OpenID Connect RP-Initiated Logout
// 1.0). hint is the id_token_hint (required: it proves which login the
// client ends, so a cross-site link cannot log anyone out). The client's
// session named by the hint ends, and so does the browser's session b
// when it is the same user's. The browser goes to post_logout_redirect_uri
// only when it is registered for the client, byte for byte; redirect is ""
// otherwise. extra are the sessions to revoke that the caller knows of
// (the browser's).
func (p *Provider) Logout(ctx context.Context, hint, clientID, postLogout, state string, b *Browser) (redirect string, err error) {
	h, err := p.verifyIDTokenHint(hint)
	if err != nil {
		return "", fmt.Errorf("%w: a valid id_token_hint is required", jwtgate.ErrInvalid)
	}
	if clientID != "" && clientID != h.ClientID {
		return "", fmt.Errorf("%w: client_id does not match the id_token_hint", jwtgate.ErrInvalid)
	}
	c, err := p.store.Client(ctx, h.ClientID)
	if err != nil {
		return "", fmt.Errorf("%w: the id_token_hint's client is unknown", jwtgate.ErrInvalid)
	}
	if postLogout != "" && !slices.Contains(c.PostLogoutRedirectURIs, postLogout) {
		return "", fmt.Errorf("%w: post_logout_redirect_uri is not registered for this client", jwtgate.ErrInvalid)
	}
	ids := []string{}
	if g, err := p.store.ClientGrant(ctx, h.SID); err == nil && g.ClientID == c.ID && strconv.FormatInt(g.UserID, 10) == h.Subject {
		ids = append(ids, h.SID)
	}
	if b != nil {
		if sess, _, err := p.svc.LiveSession(ctx, b.SessionID); err == nil && strconv.FormatInt(sess.UserID, 10) == h.Subject {
			ids = append(ids, sess.ID)
		}
	}
	if _, err := p.svc.RevokeSessionIDs(ctx, ids...); err != nil {
		return "", err
	}
	if postLogout == "" {
		return "", nil
	}
	q := url.Values{}
	if state != "" {
		q.Set("state", state)
	}
	if len(q) == 0 {
		return postLogout, nil
	}
	return withQuery(postLogout, q), nil
}

func formatID(id int64) string { return strconv.FormatInt(id, 10) }

// Maintain deletes authorization requests nobody can continue or redeem
// any more, every interval until ctx ends.
func (p *Provider) Maintain(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// A day's grace keeps a replayed code recognisable (and its
			// session revocable) well after the code expired.
			if _, err := p.store.DeleteAuthRequestsBefore(ctx, p.o.Now().Add(-24*time.Hour)); err != nil && ctx.Err() == nil {
				p.o.Logger.Warn("purging old authorization requests", "err", err)
			}
		}
	}
}

// LogoutTarget checks a logout request without an id_token_hint: the
// post_logout_redirect_uri, when given, must be registered for client_id
// byte for byte. It returns where the browser may go afterwards ("" for
// nowhere); errors wrap jwtgate.ErrInvalid.
func (p *Provider) LogoutTarget(ctx context.Context, clientID, postLogout, state string) (string, error) {
	if postLogout == "" {
		return "", nil
	}
	if clientID == "" {
		return "", fmt.Errorf("%w: post_logout_redirect_uri needs client_id or id_token_hint", jwtgate.ErrInvalid)
	}
	c, err := p.store.Client(ctx, clientID)
	if errors.Is(err, jwtgate.ErrNotFound) {
		return "", fmt.Errorf("%w: unknown client_id", jwtgate.ErrInvalid)
	}
	if err != nil {
		return "", err
	}
	if !slices.Contains(c.PostLogoutRedirectURIs, postLogout) {
		return "", fmt.Errorf("%w: post_logout_redirect_uri is not registered for this client", jwtgate.ErrInvalid)
	}
	if state == "" {
		return postLogout, nil
	}
	return withQuery(postLogout, url.Values{"state": {state}}), nil
}

// EndBrowserSession ends the browser's session b (a logout the user
// confirmed on jwtgate's own page).
func (p *Provider) EndBrowserSession(ctx context.Context, b *Browser) error {
	if b == nil {
		return nil
	}
	_, err := p.svc.RevokeSessionIDs(ctx, b.SessionID)
	return err
}
