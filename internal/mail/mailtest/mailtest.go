// Package mailtest runs a real SMTP server (emersion/go-smtp) on loopback
// for tests: it speaks the protocol a real relay speaks (EHLO, STARTTLS,
// AUTH PLAIN, DATA), keeps what it receives, and parses each message into
// its headers and text and HTML parts, so a test can read the link in an
// email and follow it.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Options configure a Server.
type Options struct {
	// TLS offers STARTTLS with a certificate for 127.0.0.1, localhost and
	// TLSHost, signed by the server's own CA (Server.RootCAs).
	TLS     bool
	TLSHost string
	// User and Password, if set, are required (AUTH PLAIN, over TLS only
	// unless TLS is off).
	User, Password string
}

// Stall makes the server hold every message's DATA until release is
// closed (nil: no stall): a relay that is up but too slow to answer.
func (s *Server) Stall(release chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stall = release
}

// Message is one received email.
type Message struct {
	From   string
	To     []string
	Header mail.Header
	Text   string // the text/plain part, decoded
	HTML   string // the text/html part, decoded ("" if none)
	Raw    []byte
}

// Server is a running SMTP server. Its methods are safe for concurrent use.
type Server struct {
	Addr    string // host:port it listens on
	RootCAs *x509.CertPool

	srv   *smtp.Server
	l     net.Listener
	mu    sync.Mutex
	msgs  []Message
	fail  error
	stall chan struct{}
	got   chan struct{}
	t     testing.TB
}

// Start starts a server on 127.0.0.1 and stops it when the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	s := &Server{got: make(chan struct{}, 1000), t: t}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{s: s, o: o}, nil
	}))
	s.srv.Domain = "mailtest.local"
	s.srv.ReadTimeout, s.srv.WriteTimeout = 10*time.Second, 10*time.Second
	s.srv.MaxMessageBytes = 1 << 20
	s.srv.AllowInsecureAuth = !o.TLS
	if o.TLS {
		cfg, pool, err := selfSigned(o.TLSHost)
		if err != nil {
			t.Fatalf("mailtest: certificate: %v", err)
		}
		s.srv.TLSConfig, s.RootCAs = cfg, pool
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("mailtest: listen: %v", err)
	}
	s.Addr, s.l = l.Addr().String(), l
	go s.srv.Serve(l)
	t.Cleanup(s.Close)
	return s
}

// Port is the port the server listens on.
func (s *Server) Port() string {
	_, p, _ := net.SplitHostPort(s.Addr)
	return p
}

// FailWith makes every following transaction fail at MAIL FROM with err
// (nil restores normal service): a relay refusing mail for a while.
func (s *Server) FailWith(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = err
}

// TempFailure is the answer of a relay that is up but cannot take mail now.
var TempFailure = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}

// Close stops the server: connections are refused from then on.
// It closes the listener itself too, in case Serve has not yet taken it.
func (s *Server) Close() {
	s.l.Close()
	s.srv.Close()
}

// Messages returns every message received so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Wait waits up to timeout for n messages in all and returns them; it
// fails the test if fewer arrive.
func (s *Server) Wait(n int, timeout time.Duration) []Message {
	s.t.Helper()
	deadline := time.After(timeout)
	for {
		if m := s.Messages(); len(m) >= n {
			return m
		}
		select {
		case <-s.got:
		case <-deadline:
			s.t.Fatalf("mailtest: %d messages arrived within %v, want %d", len(s.Messages()), timeout, n)
			return nil
		}
	}
}

type session struct {
	s      *Server
	o      Options
	authed bool
	from   string
	to     []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.o.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, user, pass string) error {
		if user != ss.o.User || pass != ss.o.Password {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.o.User != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	ss.s.mu.Lock()
	fail := ss.s.fail
	ss.s.mu.Unlock()
	if fail != nil {
		return fail
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	stall := ss.s.stall
	ss.s.mu.Unlock()
	if stall != nil {
		<-stall
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "too slow, try again"}
	}
	m, err := Parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "unparsable message: " + err.Error()}
	}
	m.From, m.To = ss.from, ss.to
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, *m)
	ss.s.mu.Unlock()
	select {
	case ss.s.got <- struct{}{}:
	default:
	}
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// Parse reads a raw message into its headers and decoded text and HTML
// parts (a single part, or multipart/alternative or /mixed one level deep).
func Parse(raw []byte) (*Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	m := &Message{Header: msg.Header, Raw: raw}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(mt, "multipart/") {
		body, err := decodePart(msg.Body, msg.Header.Get("Content-Transfer-Encoding"))
		if err != nil {
			return nil, err
		}
		m.setPart(mt, body)
		return m, nil
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return m, nil
		}
		if err != nil {
			return nil, err
		}
		pt, _, err := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if err != nil {
			return nil, err
		}
		body, err := decodePart(p, p.Header.Get("Content-Transfer-Encoding"))
		if err != nil {
			return nil, err
		}
		m.setPart(pt, body)
	}
}

func (m *Message) setPart(mediaType, body string) {
	switch mediaType {
	case "text/plain":
		m.Text = body
	case "text/html":
		m.HTML = body
	}
}

func decodePart(r io.Reader, cte string) (string, error) {
	switch strings.ToLower(cte) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		b, err := io.ReadAll(r)
		if err != nil {
			return "", err
		}
		return decodeBase64(b)
	}
	b, err := io.ReadAll(r)
	return string(b), err
}

// selfSigned makes a CA-less certificate (self-signed, usable as its own
// root) for the loopback names and extra.
func selfSigned(extra string) (*tls.Config, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mailtest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	if extra != "" {
		tmpl.DNSNames = append(tmpl.DNSNames, extra)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}, pool, nil
}
