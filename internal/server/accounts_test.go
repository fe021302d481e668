package server

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/accounts"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/mail"
	"github.com/jwtgate/jwtgate/internal/mail/mailtest"
)

// accountsFixture is the real handler with the account flows on a real
// outbox and a real SMTP server.
type accountsFixture struct {
	*fixture
	smtp   *mailtest.Server
	outbox *mail.Outbox
	seen   int
}

func newAccountsFixture(t *testing.T, mode accounts.Mode, requireVerified bool) *accountsFixture {
	t.Helper()
	f := newFixture(t, Options{})
	srv := mailtest.Start(t, mailtest.Options{})
	sender, err := mail.ParseSMTP("smtp://"+srv.Addr, "no-reply@example.test")
	if err != nil {
		t.Fatal(err)
	}
	ob := mail.NewOutbox(f.store, sender, mail.OutboxOptions{})
	// The fixture's auth service again, asking the account flows whether
	// a user may log in, as serve wires it.
	var acc *accounts.Service
	svc, err := auth.New(t.Context(), f.store, f.kr, auth.Options{Issuer: "http://test", Hash: fastHash,
		AllowLogin: func(ctx context.Context, u *jwtgate.User) error { return acc.LoginAllowed(ctx, u) }})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	acc, err = accounts.New(f.store, svc, ob, accounts.Options{PublicURL: "https://auth.example.test", Signup: mode, RequireVerified: requireVerified})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = acc.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	d := fullDeps(f)
	d.Accounts = acc
	f.h = NewServer(d, Options{Issuer: "https://auth.example.test"})
	return &accountsFixture{fixture: f, smtp: srv, outbox: ob}
}

// mail delivers the outbox until n new messages arrived, and returns them.
func (f *accountsFixture) mail(t *testing.T, n int) []mailtest.Message {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := f.outbox.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		got := f.smtp.Messages()[f.seen:]
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) != n {
				t.Fatalf("%d new emails, want %d", len(got), n)
			}
			f.seen += n
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var tokenInLink = regexp.MustCompile(`https://auth\.example\.test/[a-z/]+#[a-z]+=([A-Za-z0-9_-]{43})`)

func linkToken(t *testing.T, m mailtest.Message) string {
	t.Helper()
	got := tokenInLink.FindStringSubmatch(m.Text)
	if got == nil {
		t.Fatalf("no link to https://auth.example.test in %q", m.Text)
	}
	return got[1]
}

func TestSignupVerifyLoginOverHTTP(t *testing.T) {
	f := newAccountsFixture(t, accounts.SignupOpen, true)
	r := f.do(bearer("POST", "/signup", "", `{"name":"dora","password":"dora's long password","email":"dora@example.test"}`))
	if r.code != 201 || r.json(t)["verification_sent"] != true || r.json(t)["email_verified"] != false {
		t.Fatalf("POST /signup = %d %s", r.code, r.body)
	}
	// Not verified: the right password does not log in; a wrong one says
	// only that.
	if r := f.do(bearer("POST", "/login", "", `{"name":"dora","password":"dora's long password"}`)); r.code != 403 || r.json(t)["error"] != "email_unverified" {
		t.Errorf("POST /login before verifying = %d %s, want 403 email_unverified", r.code, r.body)
	}
	if r := f.do(bearer("POST", "/login", "", `{"name":"dora","password":"wrong password"}`)); r.code != 400 {
		t.Errorf("POST /login with a wrong password, unverified = %d %s, want 400", r.code, r.body)
	}
	tok := linkToken(t, f.mail(t, 1)[0])
	if r := f.do(bearer("POST", "/email/verify", "", `{"token":"`+tok+`"}`)); r.code != 200 {
		t.Fatalf("POST /email/verify = %d %s", r.code, r.body)
	}
	if r := f.do(bearer("POST", "/email/verify", "", `{"token":"`+tok+`"}`)); r.code != 400 || r.json(t)["error"] != "invalid_token" {
		t.Errorf("POST /email/verify again = %d %s, want 400 invalid_token", r.code, r.body)
	}
	if r := f.do(bearer("GET", "/user/email", f.login(t, "dora", "dora's long password"), "")); r.code != 200 || r.json(t)["email_verified"] != true {
		t.Errorf("GET /user/email after verifying = %d %s", r.code, r.body)
	}
}

// TestForgotPasswordSameAnswer: the answer for an account, an unknown
// address and an unknown name is byte for byte the same.
func TestForgotPasswordSameAnswer(t *testing.T) {
	f := newAccountsFixture(t, accounts.SignupOpen, false)
	if r := f.do(bearer("POST", "/signup", "", `{"name":"dora","password":"dora's long password","email":"dora@example.test"}`)); r.code != 201 {
		t.Fatalf("POST /signup = %d %s", r.code, r.body)
	}
	f.mail(t, 1)
	var bodies []string
	for _, body := range []string{`{"email":"dora@example.test"}`, `{"email":"nobody@example.test"}`, `{"name":"nobody"}`} {
		r := f.do(bearer("POST", "/password/forgot", "", body))
		if r.code != 202 {
			t.Fatalf("POST /password/forgot %s = %d %s", body, r.code, r.body)
		}
		bodies = append(bodies, string(r.body))
	}
	if bodies[0] != bodies[1] || bodies[1] != bodies[2] {
		t.Errorf("answers differ: %q", bodies)
	}
	m := f.mail(t, 1)[0]
	if m.To[0] != "dora@example.test" {
		t.Errorf("reset email to %v", m.To)
	}
}

// TestResetLinkIgnoresHost: a spoofed Host or X-Forwarded-Host changes
// nothing in the emailed link (host-header poisoning of reset links).
func TestResetLinkIgnoresHost(t *testing.T) {
	f := newAccountsFixture(t, accounts.SignupOpen, false)
	if r := f.do(bearer("POST", "/signup", "", `{"name":"dora","password":"dora's long password","email":"dora@example.test"}`)); r.code != 201 {
		t.Fatal(r.code)
	}
	f.mail(t, 1)
	req := bearer("POST", "/password/forgot", "", `{"email":"dora@example.test"}`)
	req.Host = "evil.example.test"
	req.Header.Set("X-Forwarded-Host", "evil.example.test")
	req.Header.Set("Forwarded", "host=evil.example.test")
	if r := f.do(req); r.code != 202 {
		t.Fatal(r.code)
	}
	m := f.mail(t, 1)[0]
	if strings.Contains(m.Text+m.HTML, "evil") {
		t.Errorf("the email follows the spoofed host: %q", m.Text)
	}
	tok := linkToken(t, m)

	// The reset ends the session dora had.
	sess := f.login(t, "dora", "dora's long password")
	if r := f.do(bearer("POST", "/password/reset", "", `{"token":"`+tok+`","password":"a brand new password"}`)); r.code != 204 {
		t.Fatalf("POST /password/reset = %d %s", r.code, r.body)
	}
	if r := f.do(bearer("GET", "/user", sess, "")); r.code != 401 {
		t.Errorf("GET /user with a session from before the reset = %d, want 401", r.code)
	}
	if notice := f.mail(t, 1)[0]; notice.Header.Get("Subject") != "Your password was reset" {
		t.Errorf("notice subject %q", notice.Header.Get("Subject"))
	}
}

func TestAccountsRoutesOff(t *testing.T) {
	f := newFixture(t, Options{})
	h := NewServer(Deps{Logger: slog.New(slog.DiscardHandler), Auth: f.svc, Keys: f.kr, Ready: f.store.Ping}, Options{Issuer: "http://test"})
	for _, path := range []string{"/signup", "/password/forgot", "/password/reset", "/email/verify"} {
		r := serve(h, bearer("POST", path, "", `{}`))
		if r.code != 404 {
			t.Errorf("POST %s without account flows = %d, want 404", path, r.code)
		}
	}
	page := httptest.NewRecorder()
	h.ServeHTTP(page, httptest.NewRequest("GET", "/login", nil))
	if b := page.Body.String(); strings.Contains(b, `href="/signup"`) || strings.Contains(b, `href="/password/forgot"`) {
		t.Error("the login page links to signup or reset on a server without them")
	}
}

func TestAdminSetsEmail(t *testing.T) {
	f := newAccountsFixture(t, accounts.SignupClosed, false)
	admin := f.login(t, "admin", "admin-pass")
	if r := f.do(bearer("PUT", "/admin/users/alice/email", admin, `{"email":"Alice@Example.TEST"}`)); r.code != 200 || r.json(t)["email_verified"] != false {
		t.Fatalf("PUT email = %d %s", r.code, r.body)
	}
	// Unverified: alice gets a link to confirm it.
	if m := f.mail(t, 1)[0]; m.To[0] != "Alice@example.test" || m.Header.Get("Subject") != "Confirm your email address" {
		t.Errorf("email to %v, subject %q", m.To, m.Header.Get("Subject"))
	}
	r := f.do(bearer("GET", "/admin/users?q=alice", admin, ""))
	users, _ := r.json(t)["users"].([]any)
	if len(users) != 1 || users[0].(map[string]any)["email"] != "Alice@example.test" || users[0].(map[string]any)["email_verified"] != false {
		t.Errorf("GET /admin/users?q=alice = %s, want alice with her address", r.body)
	}
	if r := f.do(bearer("PUT", "/admin/users/alice/email", admin, `{"email":null}`)); r.code != 200 {
		t.Fatalf("PUT email null = %d %s", r.code, r.body)
	}
	r = f.do(bearer("GET", "/admin/users?q=alice", admin, ""))
	if u := r.json(t)["users"].([]any)[0].(map[string]any); u["email"] != nil {
		t.Errorf("after removing, email = %v", u["email"])
	}
	if r := f.do(bearer("PUT", "/admin/users/alice/email", f.login(t, "alice", "alice-pass"), `{"email":"x@example.test"}`)); r.code != 403 {
		t.Errorf("PUT email as a non-admin = %d, want 403", r.code)
	}
}
