package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strconv"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// SMTP sends messages to one SMTP server. It opens a connection per batch
// of messages; jwtgate sends few emails, and a long-lived connection would
// need its own keep-alive and reconnect logic for no gain.
type SMTP struct {
	host     string
	port     int
	implicit bool // smtps: TLS from the first byte
	policy   gomail.TLSPolicy
	user     string
	pass     string
	fromName string
	fromAddr string
	tls      *tls.Config
	dial     gomail.DialContextFunc
	timeout  time.Duration
}

// SMTPOption adjusts an SMTP sender; tests use them to trust their own CA.
type SMTPOption func(*SMTP)

// WithTLSConfig makes the sender trust the certificates of tc.RootCAs (and
// nothing else of tc): for tests and private mail relays.
func WithTLSConfig(tc *tls.Config) SMTPOption { return func(s *SMTP) { s.tls = tc } }

// WithDialer makes the sender connect through dial instead of the
// network: tests use it to reach a loopback server under a real-looking
// host name, so the rules for remote relays (STARTTLS required) apply.
func WithDialer(dial func(ctx context.Context, network, addr string) (net.Conn, error)) SMTPOption {
	return func(s *SMTP) { s.dial = dial }
}

// ParseSMTP builds a sender from the operator's settings:
//
//	smtp://[USER:PASS@]HOST[:PORT]   STARTTLS, required (port 587 by default)
//	smtps://[USER:PASS@]HOST[:PORT]  TLS from the start (port 465 by default)
//
// STARTTLS is required because the messages carry single-use links and the
// URL may carry a password; only a relay on a loopback address may answer
// without it (nothing crosses a network there). from is the From address,
// optionally with a display name ("jwtgate <no-reply@example.com>").
// Errors never repeat the URL, which may hold a password.
func ParseSMTP(rawURL, from string, opts ...SMTPOption) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, errors.New("mail: SMTP URL is not a URL (want smtp://HOST:PORT or smtps://HOST:PORT)")
	}
	s := &SMTP{host: u.Hostname(), timeout: 30 * time.Second}
	switch u.Scheme {
	case "smtp":
		s.port, s.policy = 587, gomail.TLSMandatory
	case "smtps":
		s.port, s.implicit = 465, true
	default:
		return nil, fmt.Errorf("mail: SMTP URL scheme %q: want smtp (STARTTLS) or smtps (TLS)", u.Scheme)
	}
	if s.host == "" {
		return nil, errors.New("mail: SMTP URL has no host")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return nil, errors.New("mail: SMTP URL must be scheme://[user:password@]host[:port], with no path or query")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("mail: SMTP URL port %q is not a port number", p)
		}
		s.port = n
	}
	if s.policy == gomail.TLSMandatory && isLoopback(s.host) {
		s.policy = gomail.TLSOpportunistic
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return nil, fmt.Errorf("mail: SMTP from address %q: %w", from, err)
	}
	if _, err := CheckAddress(a.Address); err != nil {
		return nil, fmt.Errorf("mail: SMTP from address: %w", err)
	}
	s.fromName, s.fromAddr = a.Name, a.Address
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Addr is the server's host:port, for logs.
func (s *SMTP) Addr() string { return net.JoinHostPort(s.host, strconv.Itoa(s.port)) }

// Send delivers m, as a text part and, when m.HTML is set, an HTML
// alternative.
func (s *SMTP) Send(ctx context.Context, m *Message) error {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	var err error
	if s.fromName != "" {
		err = msg.FromFormat(s.fromName, s.fromAddr)
	} else {
		err = msg.From(s.fromAddr)
	}
	if err != nil {
		return fmt.Errorf("mail: from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("mail: to: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	msg.SetMessageID()
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}

	// go-mail bounds each network step by its own timeout, not by ctx:
	// keep that timeout within ctx's deadline, so a relay that stalls
	// costs the caller no more than it allowed.
	timeout := s.timeout
	if dl, ok := ctx.Deadline(); ok {
		timeout = min(timeout, max(time.Until(dl), time.Millisecond))
	}
	opts := []gomail.Option{gomail.WithPort(s.port), gomail.WithTimeout(timeout)}
	if s.implicit {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(s.policy))
	}
	tc := &tls.Config{ServerName: s.host, MinVersion: tls.VersionTLS12}
	if s.tls != nil {
		tc.RootCAs = s.tls.RootCAs
	}
	opts = append(opts, gomail.WithTLSConfig(tc))
	if s.dial != nil {
		opts = append(opts, gomail.WithDialContextFunc(s.dial))
	}
	if s.user != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(s.user), gomail.WithPassword(s.pass))
	}
	c, err := gomail.NewClient(s.host, opts...)
	if err != nil {
		return fmt.Errorf("mail: SMTP client for %s: %w", s.Addr(), err)
	}
	if err := c.DialAndSendWithContext(ctx, msg); err != nil {
		return fmt.Errorf("mail: send via %s: %w", s.Addr(), err)
	}
	return nil
}
