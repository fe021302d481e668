// Package accounts holds the flows by which accounts run themselves:
// signup (open or by invitation), email verification, password reset and
// email change. Every flow that proves something by email works the same
// way: a single-use token, stored only as a hash and good for one purpose,
// is sent as a link built from the configured public URL (never from a
// request's Host header), and the page behind the link posts it back.
//
// Accounts sits beside internal/auth: auth owns passwords, sessions and
// tokens; accounts uses it to create users and set passwords, and adds the
// email side. It knows nothing of HTTP.
package accounts

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/mail"
	"github.com/jwtgate/jwtgate/internal/throttle"
)

// Mode is the --signup setting: who may create an account.
type Mode string

const (
	SignupClosed Mode = "closed" // only admins create accounts (the default)
	SignupOpen   Mode = "open"   // anyone
	SignupInvite Mode = "invite" // anyone holding an invitation
)

// ParseMode parses a --signup value.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case SignupClosed, SignupOpen, SignupInvite:
		return m, nil
	}
	return "", fmt.Errorf("signup mode %q: want closed, open or invite", s)
}

// Errors the HTTP layer maps to status codes; each is wrapped with context.
var (
	// ErrSignupClosed: signup is closed (the route does not exist: 404).
	ErrSignupClosed = errors.New("signup is closed")
	// ErrNoEmail: no SMTP server is configured, so flows that need email are off.
	ErrNoEmail = errors.New("email is not configured on this server")
	// ErrInvalidToken: a link's token is unknown, used, expired, voided, or
	// for another purpose; deliberately one error for all.
	ErrInvalidToken = errors.New("the link is invalid, expired or already used")
	// ErrEmailUnverified: login refused until the address is verified.
	ErrEmailUnverified = errors.New("email address not verified")
	// ErrWeakPassword wraps jwtgate.ErrInvalid for a password on the common list.
	ErrWeakPassword = fmt.Errorf("%w: password is too common", jwtgate.ErrInvalid)
)

// Store is what the flows need from storage.
type Store interface {
	jwtgate.AccountStore
	jwtgate.UserStore
	jwtgate.EmailStore
	jwtgate.OneTimeTokenStore
	jwtgate.AuditStore
}

// Defaults for Options left zero.
const (
	DefaultVerifyTTL = 24 * time.Hour
	DefaultResetTTL  = 30 * time.Minute
	DefaultInviteTTL = 72 * time.Hour
)

// DefaultRequestPolicy limits emails asked for by one account or address
// (reset, resend verification): 3 an hour, then a wait of 15 minutes
// doubling to an hour. DefaultRequestIPPolicy allows one client address
// more, for shared addresses.
var (
	DefaultRequestPolicy   = throttle.Policy{MaxFailures: 3, Window: time.Hour, BanTime: 15 * time.Minute, MaxBan: time.Hour}
	DefaultRequestIPPolicy = throttle.Policy{MaxFailures: 20, Window: time.Hour, BanTime: 15 * time.Minute, MaxBan: time.Hour}
)

// Options configure a Service.
type Options struct {
	// PublicURL is the server's public base URL (the issuer). Every link in
	// an email is built from it alone.
	PublicURL string
	Signup    Mode
	// RequireVerified refuses logins of users whose address is unverified
	// (and users without one, once they signed up with one: see Signup).
	RequireVerified bool
	VerifyTTL       time.Duration
	ResetTTL        time.Duration
	InviteTTL       time.Duration
	// Requests and IPRequests count email requests per account (or
	// submitted identifier) and per client address; nil means in-memory
	// ones with the default policies.
	Requests, IPRequests throttle.Limiter
	Now                  func() time.Time
	Logger               *slog.Logger
}

// Service runs the account flows. It is safe for concurrent use.
type Service struct {
	store  Store
	auth   *auth.Service
	outbox *mail.Outbox // nil: no SMTP, email flows off
	tmpl   *templates
	base   *url.URL
	o      Options
	forgot chan forgotJob
}

// New returns a Service. outbox may be nil when no SMTP server is
// configured: signup without verification still works, the rest answer
// ErrNoEmail. Call Run to process password-reset requests.
func New(store Store, authSvc *auth.Service, outbox *mail.Outbox, o Options) (*Service, error) {
	base, err := url.Parse(o.PublicURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("accounts: public URL %q must be an absolute http(s) URL", o.PublicURL)
	}
	if o.Signup == "" {
		o.Signup = SignupClosed
	}
	if o.VerifyTTL <= 0 {
		o.VerifyTTL = DefaultVerifyTTL
	}
	if o.ResetTTL <= 0 {
		o.ResetTTL = DefaultResetTTL
	}
	if o.InviteTTL <= 0 {
		o.InviteTTL = DefaultInviteTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Requests == nil {
		o.Requests = throttle.NewMemoryCap(DefaultRequestPolicy, o.Now, 100_000)
	}
	if o.IPRequests == nil {
		o.IPRequests = throttle.NewMemoryCap(DefaultRequestIPPolicy, o.Now, 100_000)
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	return &Service{store: store, auth: authSvc, outbox: outbox, tmpl: tmpl, base: base, o: o, forgot: make(chan forgotJob, 256)}, nil
}

// Mode reports the signup mode.
func (s *Service) Mode() Mode { return s.o.Signup }

// EmailEnabled reports whether email flows work (an SMTP server is set).
func (s *Service) EmailEnabled() bool { return s.outbox != nil }

// newToken returns a fresh 256-bit token, URL-safe, and its SHA-256.
func newToken() (string, []byte) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	return tok, hashToken(tok)
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// validToken screens a token from a request before any store look-up: the
// form newToken makes, nothing else.
func validToken(tok string) bool {
	if len(tok) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(tok)
	return err == nil
}

// link builds a link to path on the public URL with the token in the
// fragment: the fragment never reaches a server (no access log, no
// Referer), and a mail scanner that fetches the link spends nothing,
// because only the page's script posts the token.
func (s *Service) link(path, param, tok string) string {
	u := *s.base
	u.Path = joinPath(s.base.Path, path)
	u.RawQuery = ""
	u.Fragment = param + "=" + tok
	return u.String()
}

func joinPath(base, p string) string {
	for len(base) > 0 && base[len(base)-1] == '/' {
		base = base[:len(base)-1]
	}
	return base + p
}

// send renders an email of kind and stores it in the outbox.
func (s *Service) send(ctx context.Context, kind, to string, d emailData) error {
	m, err := s.message(kind, to, d)
	if err != nil {
		return err
	}
	return s.outbox.Enqueue(ctx, kind, m)
}

// message renders an email of kind.
func (s *Service) message(kind, to string, d emailData) (mail.Message, error) {
	if s.outbox == nil {
		return mail.Message{}, ErrNoEmail
	}
	d.Site = s.base.Host
	return s.tmpl.render(kind, to, d)
}

// prepare renders and seals an email of kind for the outbox, for the
// caller to store with the change it announces.
func (s *Service) prepare(kind, to string, d emailData) (*jwtgate.OutboxEmail, error) {
	m, err := s.message(kind, to, d)
	if err != nil {
		return nil, err
	}
	return s.outbox.Prepare(kind, m)
}

// audit records e with the request's origin.
func (s *Service) audit(ctx context.Context, e jwtgate.AuditEvent) {
	ev := s.event(ctx, e)
	if err := s.store.AppendAudit(context.WithoutCancel(ctx), ev); err != nil {
		s.o.Logger.Error("audit event not stored", "event", e.Type, "err", err)
	}
	s.logEvent(ctx, ev)
}

// event is e with the request's origin and time, for the caller to store
// with the change it records (then logEvent), or alone by audit.
func (s *Service) event(ctx context.Context, e jwtgate.AuditEvent) *jwtgate.AuditEvent {
	c := auth.ClientFrom(ctx)
	e.At, e.IP, e.UserAgent = s.o.Now(), c.IP, truncate(c.UserAgent, 256)
	return &e
}

// logEvent writes a stored audit event to the log.
func (s *Service) logEvent(ctx context.Context, e *jwtgate.AuditEvent) {
	s.o.Logger.LogAttrs(ctx, slog.LevelInfo, "audit", slog.String("event", e.Type), slog.Int64("user_id", e.UserID), slog.String("name", e.Name), slog.String("ip", e.IP))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// checkNewPassword applies the password policy of self-service flows: the
// length rules every password follows, not one of the most common
// passwords, and not the account's own name or address.
func checkNewPassword(pw, name, email string) error {
	if err := jwtgate.ValidatePassword(pw, auth.MinPasswordLen); err != nil {
		return err
	}
	if common(pw) {
		return ErrWeakPassword
	}
	if lower(pw) == lower(name) || (email != "" && lower(pw) == lower(email)) {
		return fmt.Errorf("%w: password must not be the name or email", jwtgate.ErrInvalid)
	}
	return nil
}

// throttle counts one request for each key and refuses if any key is
// over its limit, with an *auth.ThrottledError saying how long to wait.
func (s *Service) throttle(ctx context.Context, accountKey, ip string) error {
	checks := []struct {
		l   throttle.Limiter
		key string
	}{{s.o.Requests, accountKey}, {s.o.IPRequests, "ip:" + ip}}
	for _, c := range checks {
		if c.key == "" || c.key == "ip:" {
			continue
		}
		wait, err := c.l.Check(ctx, c.key)
		if err != nil {
			return fmt.Errorf("accounts: throttle: %w", err)
		}
		if wait > 0 {
			return &auth.ThrottledError{Wait: wait}
		}
	}
	for _, c := range checks {
		if c.key == "" || c.key == "ip:" {
			continue
		}
		if _, err := c.l.Fail(context.WithoutCancel(ctx), c.key); err != nil {
			return fmt.Errorf("accounts: throttle: %w", err)
		}
	}
	return nil
}

// RequireVerified reports whether signup needs an address that must be
// verified before the account may log in.
func (s *Service) RequireVerified() bool { return s.o.RequireVerified }
