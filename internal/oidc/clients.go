// Package oidc makes jwtgate an OpenID Provider. This file holds the
// client registry's rules: what a client may register, how its secret is
// made and checked, and how a redirect URI from a request is matched
// against the registered ones (exactly, as OAuth 2.0 Security BCP, RFC
// 9700 §4.1.3, requires, with RFC 8252's loopback ports for native apps).
package oidc

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jwtgate/jwtgate"
)

// Scopes jwtgate supports.
var SupportedScopes = []string{"openid", "profile", "email", "offline_access"}

// ID token algorithms a client may ask for.
var SupportedIDTokenAlgs = []string{"RS256", "EdDSA", "ES256"}

// Limits on what a client registers.
const (
	MaxRedirectURIs  = 20
	MaxRedirectURI   = 2000
	MaxClientNameLen = 64
)

// ClientSpec is what an admin registers.
type ClientSpec struct {
	Name                   string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	Public                 bool
	Scopes                 []string // empty: SupportedScopes
	Trusted                bool
	IDTokenAlg             string
}

// Clients manages the client registry. Safe for concurrent use.
type Clients struct {
	store jwtgate.ClientStore
	now   func() time.Time
	audit func(context.Context, jwtgate.AuditEvent)
	// revoke, when set, ends sessions by ID (auth.Service.RevokeSessionIDs):
	// deleting a client then ends every session it holds, so its access
	// tokens die at once rather than at their expiry.
	revoke func(ctx context.Context, ids ...string) (int, error)
}

// RevokingWith makes Delete end the deleted client's sessions with
// revoke (auth.Service.RevokeSessionIDs) and returns cs. The store must
// then be a jwtgate.OIDCStore too.
func (cs *Clients) RevokingWith(revoke func(ctx context.Context, ids ...string) (int, error)) *Clients {
	cs.revoke = revoke
	return cs
}

// NewClients returns a registry over store; audit may be nil.
func NewClients(store jwtgate.ClientStore, now func() time.Time, audit func(context.Context, jwtgate.AuditEvent)) *Clients {
	if now == nil {
		now = time.Now
	}
	if audit == nil {
		audit = func(context.Context, jwtgate.AuditEvent) {}
	}
	return &Clients{store: store, now: now, audit: audit}
}

// Create validates spec and registers a client. It returns the client and,
// for a confidential one, its secret, shown this once. Errors wrap
// jwtgate.ErrInvalid (naming the problem) or jwtgate.ErrConflict (name taken).
func (cs *Clients) Create(ctx context.Context, spec ClientSpec) (*jwtgate.Client, string, error) {
	if err := spec.validate(); err != nil {
		return nil, "", err
	}
	now := cs.now()
	c := &jwtgate.Client{
		ID: newClientID(), Name: spec.Name, Public: spec.Public, RedirectURIs: spec.RedirectURIs,
		PostLogoutRedirectURIs: spec.PostLogoutRedirectURIs, Scopes: spec.Scopes, Trusted: spec.Trusted,
		IDTokenAlg: spec.IDTokenAlg, CreatedAt: now, UpdatedAt: now,
	}
	var secret string
	if !spec.Public {
		secret = randomString(32)
		c.SecretHash = hashSecret(secret)
	}
	if err := cs.store.CreateClient(ctx, c); err != nil {
		return nil, "", fmt.Errorf("oidc: register client: %w", err)
	}
	cs.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventClientCreated, Name: c.Name, Detail: "client " + c.ID})
	return c, secret, nil
}

// Find returns the client with this ID or, failing that, this name.
func (cs *Clients) Find(ctx context.Context, idOrName string) (*jwtgate.Client, error) {
	c, err := cs.store.Client(ctx, idOrName)
	if err == nil || !errors.Is(err, jwtgate.ErrNotFound) {
		return c, err
	}
	all, err := cs.store.Clients(ctx)
	if err != nil {
		return nil, err
	}
	for i := range all {
		if strings.EqualFold(all[i].Name, idOrName) {
			return &all[i], nil
		}
	}
	return nil, fmt.Errorf("oidc: client %q: %w", idOrName, jwtgate.ErrNotFound)
}

// List returns every client, ordered by name.
func (cs *Clients) List(ctx context.Context) ([]jwtgate.Client, error) { return cs.store.Clients(ctx) }

// RotateSecret gives a confidential client a new secret, returned once;
// the old one stops working at once. Errors wrap jwtgate.ErrNotFound or
// jwtgate.ErrInvalid (a public client has no secret).
func (cs *Clients) RotateSecret(ctx context.Context, idOrName string) (string, error) {
	c, err := cs.Find(ctx, idOrName)
	if err != nil {
		return "", err
	}
	if c.Public {
		return "", fmt.Errorf("%w: client %s is public and has no secret", jwtgate.ErrInvalid, c.Name)
	}
	secret := randomString(32)
	if err := cs.store.SetClientSecret(ctx, c.ID, hashSecret(secret), cs.now()); err != nil {
		return "", fmt.Errorf("oidc: rotate secret: %w", err)
	}
	cs.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventClientSecretRotated, Name: c.Name, Detail: "client " + c.ID})
	return secret, nil
}

// Delete removes a client.
func (cs *Clients) Delete(ctx context.Context, idOrName string) error {
	c, err := cs.Find(ctx, idOrName)
	if err != nil {
		return err
	}
	var sessions []string
	if os, ok := cs.store.(jwtgate.OIDCStore); ok && cs.revoke != nil {
		if sessions, err = os.ClientSessionIDs(ctx, c.ID); err != nil {
			return fmt.Errorf("oidc: delete client: %w", err)
		}
	}
	if err := cs.store.DeleteClient(ctx, c.ID); err != nil {
		return fmt.Errorf("oidc: delete client: %w", err)
	}
	if len(sessions) > 0 {
		if _, err := cs.revoke(ctx, sessions...); err != nil {
			return fmt.Errorf("oidc: delete client: revoke its sessions: %w", err)
		}
	}
	cs.audit(ctx, jwtgate.AuditEvent{Type: jwtgate.EventClientDeleted, Name: c.Name, Detail: "client " + c.ID})
	return nil
}

// Authenticate checks a confidential client's secret in constant time.
// Every failure (unknown client, public client, wrong secret) is the same
// jwtgate.ErrBadCredentials.
func (cs *Clients) Authenticate(ctx context.Context, id, secret string) (*jwtgate.Client, error) {
	c, err := cs.store.Client(ctx, id)
	if errors.Is(err, jwtgate.ErrNotFound) {
		subtle.ConstantTimeCompare(hashSecret(secret), make([]byte, sha256.Size)) // same work as a real check
		return nil, jwtgate.ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	if c.Public || len(c.SecretHash) != sha256.Size || subtle.ConstantTimeCompare(hashSecret(secret), c.SecretHash) != 1 {
		return nil, jwtgate.ErrBadCredentials
	}
	return c, nil
}

// newClientID returns a random client_id (128 bits) that does not start
// with "-", so that it is never read as a flag when passed to the CLI.
func newClientID() string {
	for {
		if id := randomString(16); id[0] != '-' {
			return id
		}
	}
}

func hashSecret(s string) []byte { h := sha256.Sum256([]byte(s)); return h[:] }

func randomString(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func (s *ClientSpec) validate() error {
	if !utf8.ValidString(s.Name) || strings.TrimSpace(s.Name) != s.Name || s.Name == "" || utf8.RuneCountInString(s.Name) > MaxClientNameLen ||
		strings.ContainsFunc(s.Name, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return fmt.Errorf("%w: client name must be 1 to %d characters, no control characters or surrounding spaces", jwtgate.ErrInvalid, MaxClientNameLen)
	}
	if len(s.RedirectURIs) == 0 {
		return fmt.Errorf("%w: a client needs at least one redirect URI", jwtgate.ErrInvalid)
	}
	if len(s.RedirectURIs) > MaxRedirectURIs || len(s.PostLogoutRedirectURIs) > MaxRedirectURIs {
		return fmt.Errorf("%w: at most %d redirect URIs of each kind", jwtgate.ErrInvalid, MaxRedirectURIs)
	}
	for _, u := range append(slices.Clone(s.RedirectURIs), s.PostLogoutRedirectURIs...) {
		if err := CheckRedirectURI(u, s.Public); err != nil {
			return err
		}
	}
	for _, sc := range s.Scopes {
		if !slices.Contains(SupportedScopes, sc) {
			return fmt.Errorf("%w: scope %q is not one of %s", jwtgate.ErrInvalid, sc, strings.Join(SupportedScopes, ", "))
		}
	}
	if s.IDTokenAlg != "" && !slices.Contains(SupportedIDTokenAlgs, s.IDTokenAlg) {
		return fmt.Errorf("%w: id_token algorithm %q is not one of %s", jwtgate.ErrInvalid, s.IDTokenAlg, strings.Join(SupportedIDTokenAlgs, ", "))
	}
	return nil
}

// CheckRedirectURI says whether raw may be registered: an absolute URI
// without fragment, user info or wildcard, using https, or http on a
// loopback host (RFC 8252 §7.3), or, for a public (native) client only, a
// private-use scheme in reverse-domain form (RFC 8252 §7.1).
func CheckRedirectURI(raw string, public bool) error {
	bad := func(why string) error {
		return fmt.Errorf("%w: redirect URI %q: %s", jwtgate.ErrInvalid, truncate(raw, 80), why)
	}
	if len(raw) > MaxRedirectURI || !utf8.ValidString(raw) || strings.ContainsFunc(raw, func(r rune) bool { return r <= 0x20 || r == 0x7f }) {
		return bad("too long, or has spaces or control characters")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return bad("not an absolute URI")
	}
	switch {
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return bad("has a fragment")
	case u.User != nil:
		return bad("has user info")
	case strings.Contains(raw, "*"):
		return bad("has a wildcard")
	}
	switch u.Scheme {
	case "https":
		if u.Host == "" {
			return bad("has no host")
		}
	case "http":
		if !isLoopback(u.Hostname()) {
			return bad("plain http is allowed only on a loopback address")
		}
	default:
		if !public || !strings.Contains(u.Scheme, ".") {
			return bad("must be https (or, for a public native client, a reverse-domain scheme such as com.example.app)")
		}
	}
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// MatchRedirectURI reports whether got is one of the client's registered
// redirect URIs: byte for byte, except that for a loopback IP literal
// (http://127.0.0.1 or [::1]) of a public client the port may differ, as
// RFC 8252 §7.3 requires for native apps that listen on an ephemeral port.
func MatchRedirectURI(c *jwtgate.Client, got string) bool {
	if slices.Contains(c.RedirectURIs, got) {
		return true
	}
	if !c.Public {
		return false
	}
	g, err := url.Parse(got)
	if err != nil || g.Scheme != "http" || net.ParseIP(g.Hostname()) == nil || !net.ParseIP(g.Hostname()).IsLoopback() {
		return false
	}
	for _, r := range c.RedirectURIs {
		u, err := url.Parse(r)
		if err != nil || u.Scheme != "http" || u.Hostname() != g.Hostname() {
			continue
		}
		if u.Path == g.Path && u.RawQuery == g.RawQuery && g.User == nil && g.Fragment == "" {
			return true
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
