package mail_test

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/internal/mail"
	"github.com/jwtgate/jwtgate/internal/mail/mailtest"
)

func TestParseSMTP(t *testing.T) {
	tests := []struct {
		name, url, from string
		addr            string // want, if it parses
		errHas          string // want, if it does not
	}{
		{name: "starttls default port", url: "smtp://mail.example.test", from: "no-reply@example.test", addr: "mail.example.test:587"},
		{name: "tls default port", url: "smtps://mail.example.test", from: "no-reply@example.test", addr: "mail.example.test:465"},
		{name: "port and credentials", url: "smtp://u:p%40ss@mail.example.test:2525", from: "jwtgate <no-reply@example.test>", addr: "mail.example.test:2525"},
		{name: "other scheme", url: "http://mail.example.test", from: "a@example.test", errHas: "scheme"},
		{name: "no host", url: "smtp://", from: "a@example.test", errHas: "no host"},
		{name: "path", url: "smtp://mail.example.test/x", from: "a@example.test", errHas: "no path"},
		{name: "query", url: "smtp://mail.example.test?tls=off", from: "a@example.test", errHas: "no path or query"},
		{name: "bad port", url: "smtp://mail.example.test:99999", from: "a@example.test", errHas: "port"},
		{name: "bad from", url: "smtp://mail.example.test", from: "nope", errHas: "from address"},
		{name: "from with CRLF", url: "smtp://mail.example.test", from: "a@example.test\r\nBcc: x@example.test", errHas: "from address"},
		{name: "password never echoed", url: "smtp://u:s3cret@mail example.test", from: "a@example.test", errHas: "not a URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := mail.ParseSMTP(tt.url, tt.from)
			if tt.errHas == "" {
				if err != nil || s.Addr() != tt.addr {
					t.Fatalf("ParseSMTP(%q) = %v, %v; want %s", tt.url, s, err, tt.addr)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("ParseSMTP(%q) error = %v, want one saying %q", tt.url, err, tt.errHas)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("ParseSMTP error %q repeats the password", err)
			}
		})
	}
}

// dialTo sends every connection to addr, whatever host the sender asked for.
func dialTo(addr string) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
}

func TestSMTPSend(t *testing.T) {
	msg := &mail.Message{To: "alice@example.test", Subject: "Verify your email", Text: "Open https://auth.example.test/verify#t=abc", HTML: "<p>Open <a href=\"https://auth.example.test/verify#t=abc\">this link</a></p>"}
	tests := []struct {
		name      string
		srv       mailtest.Options
		url       string // HOST is replaced by the server's address (loopback) or name
		name2host bool   // reach the server under a non-loopback name
		ok        bool
	}{
		{name: "loopback relay without TLS", srv: mailtest.Options{}, url: "smtp://HOST", ok: true},
		{name: "STARTTLS and AUTH PLAIN", srv: mailtest.Options{TLS: true, TLSHost: "mail.example.test", User: "jwtgate", Password: "pw"}, url: "smtp://jwtgate:pw@mail.example.test:PORT", name2host: true, ok: true},
		{name: "remote relay without STARTTLS is refused", srv: mailtest.Options{}, url: "smtp://mail.example.test:PORT", name2host: true},
		{name: "wrong password", srv: mailtest.Options{TLS: true, TLSHost: "mail.example.test", User: "jwtgate", Password: "pw"}, url: "smtp://jwtgate:nope@mail.example.test:PORT", name2host: true},
		{name: "certificate for another name", srv: mailtest.Options{TLS: true, TLSHost: "other.example.test"}, url: "smtp://mail.example.test:PORT", name2host: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := mailtest.Start(t, tt.srv)
			url := strings.ReplaceAll(strings.ReplaceAll(tt.url, "HOST", srv.Addr), "PORT", srv.Port())
			opts := []mail.SMTPOption{mail.WithTLSConfig(&tls.Config{RootCAs: srv.RootCAs})}
			if tt.name2host {
				opts = append(opts, mail.WithDialer(dialTo(srv.Addr)))
			}
			s, err := mail.ParseSMTP(url, "jwtgate <no-reply@example.test>", opts...)
			if err != nil {
				t.Fatal(err)
			}
			err = s.Send(t.Context(), msg)
			if !tt.ok {
				if err == nil || len(srv.Messages()) != 0 {
					t.Fatalf("Send() = %v with %d messages delivered; want an error and none", err, len(srv.Messages()))
				}
				if strings.Contains(err.Error(), "nope") || strings.Contains(err.Error(), "pw") {
					t.Errorf("Send error %q repeats a password", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Send() = %v", err)
			}
			got := srv.Wait(1, 0)[0]
			for _, c := range []struct{ what, got, want string }{
				{"envelope from", got.From, "no-reply@example.test"},
				{"envelope to", strings.Join(got.To, ","), "alice@example.test"},
				{"From", got.Header.Get("From"), `"jwtgate" <no-reply@example.test>`},
				{"To", got.Header.Get("To"), "<alice@example.test>"},
				{"Subject", got.Header.Get("Subject"), "Verify your email"},
				{"text part", strings.TrimSpace(got.Text), msg.Text},
				{"html part", strings.TrimSpace(got.HTML), msg.HTML},
			} {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.what, c.got, c.want)
				}
			}
			if got.Header.Get("Message-Id") == "" || got.Header.Get("Date") == "" {
				t.Errorf("headers %v lack Message-Id or Date", got.Header)
			}
		})
	}
}
