package accounts_test

import (
	"context"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/accounts"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/mail"
	"github.com/jwtgate/jwtgate/internal/mail/mailtest"
	"github.com/jwtgate/jwtgate/internal/password"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/token"
)

const publicURL = "https://auth.example.test/base"

var fastHash = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// env is a real SQLite store, the real auth rules, the real outbox and a
// real SMTP server on loopback.
type env struct {
	t      *testing.T
	store  *sqlite.DB
	auth   *auth.Service
	acc    *accounts.Service
	outbox *mail.Outbox
	smtp   *mailtest.Server
	clk    *clock
	seen   int // messages already read from smtp
}

func newEnv(t *testing.T, o accounts.Options) *env {
	t.Helper()
	ctx := t.Context()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "jwtgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	clk := &clock{t: time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)}
	kr, err := auth.NewKeyring(ctx, store, auth.KeyringOptions{Alg: token.EdDSA, PublishDelay: 10 * time.Minute, TokenLifetime: time.Hour, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	authSvc, err := auth.New(ctx, store, kr, auth.Options{Issuer: publicURL, Hash: fastHash, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	srv := mailtest.Start(t, mailtest.Options{})
	sender, err := mail.ParseSMTP("smtp://"+srv.Addr, "jwtgate <no-reply@example.test>")
	if err != nil {
		t.Fatal(err)
	}
	ob := mail.NewOutbox(store, sender, mail.OutboxOptions{Now: clk.Now})
	o.PublicURL, o.Now = publicURL, clk.Now
	acc, err := accounts.New(store, authSvc, ob, o)
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { acc.Run(runCtx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return &env{t: t, store: store, auth: authSvc, acc: acc, outbox: ob, smtp: srv, clk: clk}
}

// mail delivers what the outbox holds and returns the next n messages.
func (e *env) mail(n int) []mailtest.Message {
	e.t.Helper()
	if _, err := e.outbox.Flush(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
	got := e.smtp.Messages()[e.seen:]
	if len(got) != n {
		e.t.Fatalf("%d new emails, want %d: %+v", len(got), n, got)
	}
	e.seen += n
	return got
}

// waitMail waits for the reset worker, then delivers.
func (e *env) waitMail(n int) []mailtest.Message {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := e.outbox.Flush(e.t.Context()); err != nil {
			e.t.Fatal(err)
		}
		if len(e.smtp.Messages())-e.seen >= n || time.Now().After(deadline) {
			return e.mail(n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var linkRE = regexp.MustCompile(`https://auth\.example\.test/base(/[a-z/]+)#([a-z]+)=([A-Za-z0-9_-]{43})`)

// link finds the one link in m, checks the text and HTML parts agree, and
// returns its path, fragment parameter and token.
func link(t *testing.T, m mailtest.Message) (path, param, tok string) {
	t.Helper()
	texts := linkRE.FindAllStringSubmatch(m.Text, -1)
	htmls := linkRE.FindAllStringSubmatch(m.HTML, -1)
	if len(texts) != 1 || len(htmls) == 0 || htmls[0][0] != texts[0][0] {
		t.Fatalf("links in text %q and html %q: want one, the same", texts, htmls)
	}
	return texts[0][1], texts[0][2], texts[0][3]
}

func TestSignupVerifyLogin(t *testing.T) {
	e := newEnv(t, accounts.Options{Signup: accounts.SignupOpen, RequireVerified: true})
	ctx := t.Context()
	res, err := e.acc.Signup(ctx, accounts.SignupInput{Name: "alice", Password: "a-long-password", Email: "Alice@Example.TEST"})
	if err != nil || !res.VerificationSent || res.Email.Address != "Alice@example.test" || res.Email.Verified() {
		t.Fatalf("Signup() = %+v, %v; want an unverified Alice@example.test and an email", res, err)
	}
	if err := e.acc.LoginAllowed(ctx, res.User); !errors.Is(err, accounts.ErrEmailUnverified) {
		t.Errorf("LoginAllowed(before verifying) = %v, want ErrEmailUnverified", err)
	}
	m := e.mail(1)[0]
	if m.To[0] != "Alice@example.test" || m.Header.Get("Subject") != "Confirm your email address" || !strings.Contains(m.Text, "Hello alice") {
		t.Errorf("verification email to %v, subject %q, text %q", m.To, m.Header.Get("Subject"), m.Text)
	}
	path, param, tok := link(t, m)
	if path != "/email/verify" || param != "token" {
		t.Fatalf("link path %s#%s=, want /email/verify#token=", path, param)
	}
	// A verification token is no reset token.
	if err := e.acc.ResetPassword(ctx, tok, "another-long-password"); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Errorf("ResetPassword(verification token) = %v, want ErrInvalidToken", err)
	}
	if u, err := e.acc.VerifyEmail(ctx, tok); err != nil || u.ID != res.User.ID {
		t.Fatalf("VerifyEmail() = %+v, %v", u, err)
	}
	if err := e.acc.LoginAllowed(ctx, res.User); err != nil {
		t.Errorf("LoginAllowed(after verifying) = %v", err)
	}
	if _, err := e.acc.VerifyEmail(ctx, tok); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Errorf("VerifyEmail(again) = %v, want ErrInvalidToken", err)
	}
	if err := e.acc.ResendVerification(ctx, res.User.ID); !errors.Is(err, jwtgate.ErrConflict) {
		t.Errorf("ResendVerification(verified) = %v, want ErrConflict", err)
	}
}

func TestSignupRefusals(t *testing.T) {
	ctx := context.Background()
	closed := newEnv(t, accounts.Options{})
	if _, err := closed.acc.Signup(ctx, accounts.SignupInput{Name: "x", Password: "a-long-password"}); !errors.Is(err, accounts.ErrSignupClosed) {
		t.Errorf("Signup(closed) = %v, want ErrSignupClosed", err)
	}
	invite := newEnv(t, accounts.Options{Signup: accounts.SignupInvite})
	for _, inv := range []string{"", "x", strings.Repeat("A", 43), "../../etc/passwd"} {
		if _, err := invite.acc.Signup(ctx, accounts.SignupInput{Name: "x", Password: "a-long-password", Invitation: inv}); !errors.Is(err, accounts.ErrInvalidToken) {
			t.Errorf("Signup(invite mode, invitation %q) = %v, want ErrInvalidToken", inv, err)
		}
	}

	e := newEnv(t, accounts.Options{Signup: accounts.SignupOpen, RequireVerified: true})
	if _, err := e.acc.Signup(ctx, accounts.SignupInput{Name: "alice", Password: "a-long-password", Email: "alice@example.test"}); err != nil {
		t.Fatal(err)
	}
	e.mail(1)
	for _, tt := range []struct {
		name string
		in   accounts.SignupInput
		want error
	}{
		{"common password", accounts.SignupInput{Name: "bob", Password: "Password123", Email: "bob@example.test"}, jwtgate.ErrInvalid},
		{"password is the name", accounts.SignupInput{Name: "bobbybobby", Password: "BobbyBobby", Email: "bob@example.test"}, jwtgate.ErrInvalid},
		{"short password", accounts.SignupInput{Name: "bob", Password: "short", Email: "bob@example.test"}, jwtgate.ErrInvalid},
		{"no email when required", accounts.SignupInput{Name: "bob", Password: "a-long-password"}, jwtgate.ErrInvalid},
		{"header injection in email", accounts.SignupInput{Name: "bob", Password: "a-long-password", Email: "bob@example.test\r\nBcc: x@example.test"}, jwtgate.ErrInvalid},
		{"over-long email", accounts.SignupInput{Name: "bob", Password: "a-long-password", Email: strings.Repeat("b", 250) + "@example.test"}, jwtgate.ErrInvalid},
		{"control character in name", accounts.SignupInput{Name: "bob\r\nX", Password: "a-long-password", Email: "bob@example.test"}, jwtgate.ErrInvalid},
		{"email taken, other case", accounts.SignupInput{Name: "bob", Password: "a-long-password", Email: "ALICE@example.test"}, jwtgate.ErrConflict},
		{"name taken", accounts.SignupInput{Name: "Alice", Password: "a-long-password", Email: "bob@example.test"}, jwtgate.ErrConflict},
	} {
		if _, err := e.acc.Signup(ctx, tt.in); !errors.Is(err, tt.want) {
			t.Errorf("Signup(%s) = %v, want %v", tt.name, err, tt.want)
		}
	}
	if users, _ := e.store.ListUsers(ctx); len(users) != 1 {
		t.Errorf("%d users after refused signups, want 1", len(users))
	}
	e.mail(0)
}

func TestInvitation(t *testing.T) {
	e := newEnv(t, accounts.Options{Signup: accounts.SignupInvite})
	ctx := t.Context()
	inv, lnk, err := e.acc.Invite(ctx, 1, "carol@example.test", []string{"dev"}, 0)
	if err != nil || inv.Email != "carol@example.test" || !inv.ExpiresAt.Equal(e.clk.Now().Add(72*time.Hour)) {
		t.Fatalf("Invite() = %+v, %v", inv, err)
	}
	m := e.mail(1)[0]
	path, param, tok := link(t, m)
	if path != "/signup" || param != "invitation" || !strings.HasSuffix(lnk, tok) || m.Header.Get("Subject") != "You are invited" {
		t.Fatalf("invitation email: link %s#%s=, subject %q; returned link %q", path, param, m.Header.Get("Subject"), lnk)
	}
	if got, err := e.acc.CheckInvitation(ctx, tok); err != nil || got.Email != "carol@example.test" || len(got.Roles) != 1 {
		t.Errorf("CheckInvitation() = %+v, %v", got, err)
	}
	// The address comes from the invitation, not the form.
	res, err := e.acc.Signup(ctx, accounts.SignupInput{Name: "carol", Password: "a-long-password", Email: "mallory@example.test", Invitation: tok})
	if err != nil || res.Email.Address != "carol@example.test" || !res.Email.Verified() || !res.User.HasRole("dev") || res.VerificationSent {
		t.Fatalf("Signup(invitation) = %+v, %v; want carol@, verified, role dev", res, err)
	}
	if _, err := e.acc.Signup(ctx, accounts.SignupInput{Name: "carol2", Password: "a-long-password", Invitation: tok}); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Errorf("Signup(used invitation) = %v, want ErrInvalidToken", err)
	}
	if _, err := e.acc.CheckInvitation(ctx, tok); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Errorf("CheckInvitation(used) = %v, want ErrInvalidToken", err)
	}
	if _, _, err := e.acc.Invite(ctx, 1, "CAROL@example.test", nil, 0); !errors.Is(err, jwtgate.ErrConflict) {
		t.Errorf("Invite(an account's address) = %v, want ErrConflict", err)
	}

	// Revoked and expired invitations fail, and a taken name burns none.
	inv2, _, err := e.acc.Invite(ctx, 1, "dave@example.test", nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	_, _, tok2 := link(t, e.mail(1)[0])
	if _, err := e.acc.Signup(ctx, accounts.SignupInput{Name: "carol", Password: "a-long-password", Invitation: tok2}); !errors.Is(err, jwtgate.ErrConflict) {
		t.Errorf("Signup(taken name) = %v, want ErrConflict", err)
	}
	if _, err := e.acc.CheckInvitation(ctx, tok2); err != nil {
		t.Errorf("CheckInvitation() after a taken name = %v, want it still open", err)
	}
	if list, err := e.acc.Invitations(ctx); err != nil || len(list) != 1 || list[0].ID != inv2.ID {
		t.Errorf("Invitations() = %+v, %v; want dave's", list, err)
	}
	if err := e.acc.RevokeInvitation(ctx, 1, inv2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.acc.Signup(ctx, accounts.SignupInput{Name: "dave", Password: "a-long-password", Invitation: tok2}); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Errorf("Signup(revoked invitation) = %v, want ErrInvalidToken", err)
	}
	if _, _, err := e.acc.Invite(ctx, 1, "erin@example.test", nil, time.Hour); err != nil {
		t.Fatal(err)
	}
	_, _, tok3 := link(t, e.mail(1)[0])
	e.clk.Add(time.Hour)
	if _, err := e.acc.Signup(ctx, accounts.SignupInput{Name: "erin", Password: "a-long-password", Invitation: tok3}); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Errorf("Signup(expired invitation) = %v, want ErrInvalidToken", err)
	}
}

func TestPasswordReset(t *testing.T) {
	e := newEnv(t, accounts.Options{Signup: accounts.SignupOpen})
	ctx := auth.WithClient(t.Context(), auth.Client{IP: "203.0.113.9", UserAgent: "test"})
	res, err := e.acc.Signup(ctx, accounts.SignupInput{Name: "alice", Password: "a-long-password", Email: "alice@example.test"})
	if err != nil {
		t.Fatal(err)
	}
	e.mail(1) // verification
	sess, err := e.auth.Login(ctx, "alice", "a-long-password", auth.Client{})
	if err != nil {
		t.Fatal(err)
	}

	// By address, then by name: the second link voids the first.
	if err := e.acc.ForgotPassword(ctx, "ALICE@example.test"); err != nil {
		t.Fatal(err)
	}
	_, _, first := link(t, e.waitMail(1)[0])
	if err := e.acc.ForgotPassword(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	m := e.waitMail(1)[0]
	path, param, tok := link(t, m)
	if path != "/password/reset" || param != "token" || m.To[0] != "alice@example.test" || !strings.Contains(m.Text, "30 minutes") {
		t.Fatalf("reset email to %v, link %s#%s=", m.To, path, param)
	}
	if err := e.acc.ResetPassword(ctx, first, "brand-new-password"); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Errorf("ResetPassword(older link) = %v, want ErrInvalidToken", err)
	}
	if err := e.acc.ResetPassword(ctx, tok, "password123"); !errors.Is(err, jwtgate.ErrInvalid) {
		t.Errorf("ResetPassword(common password) = %v, want ErrInvalid", err)
	}
	if _, err := e.acc.VerifyEmail(ctx, tok); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Errorf("VerifyEmail(reset token) = %v, want ErrInvalidToken", err)
	}
	if err := e.acc.ResetPassword(ctx, tok, "brand-new-password"); err != nil {
		t.Fatalf("ResetPassword() after a refused password = %v, want the link still good", err)
	}
	if err := e.acc.ResetPassword(ctx, tok, "another-new-password"); !errors.Is(err, accounts.ErrInvalidToken) {
		t.Errorf("ResetPassword(used link) = %v, want ErrInvalidToken", err)
	}
	if _, err := e.auth.Login(ctx, "alice", "a-long-password", auth.Client{}); err == nil {
		t.Error("Login(old password) succeeded after the reset")
	}
	if _, err := e.auth.Login(ctx, "alice", "brand-new-password", auth.Client{}); err != nil {
		t.Errorf("Login(new password) = %v", err)
	}
	if _, err := e.auth.Refresh(ctx, sess.Refresh, auth.Client{}); err == nil {
		t.Error("Refresh(session from before the reset) succeeded; want every session ended")
	}
	notice := e.mail(1)[0]
	if notice.Header.Get("Subject") != "Your password was reset" || linkRE.MatchString(notice.Text) {
		t.Errorf("notice subject %q, text %q; want the reset notice without a link", notice.Header.Get("Subject"), notice.Text)
	}
	if em, _ := e.store.UserEmail(ctx, res.User.ID); !em.Verified() {
		t.Error("address not verified by a completed reset")
	}
	events, _ := e.store.Audit(ctx, jwtgate.AuditFilter{UserID: res.User.ID})
	var types []string
	for _, ev := range events {
		types = append(types, ev.Type)
		if strings.Contains(ev.Detail, tok) || strings.Contains(ev.Detail, first) {
			t.Errorf("audit event %+v holds a token", ev)
		}
	}
	for _, want := range []string{jwtgate.EventPasswordResetRequested, jwtgate.EventPasswordResetCompleted} {
		if !strings.Contains(strings.Join(types, " "), want) {
			t.Errorf("audit %v lacks %s", types, want)
		}
	}
}

// TestForgotPasswordUnknown: an unknown account gets the same answer and
// no email; the throttle counts what was asked, not what exists.
func TestForgotPasswordUnknown(t *testing.T) {
	e := newEnv(t, accounts.Options{Signup: accounts.SignupOpen})
	ctx := t.Context()
	for _, ident := range []string{"nobody@example.test", "nobody"} {
		if err := e.acc.ForgotPassword(ctx, ident); err != nil {
			t.Errorf("ForgotPassword(%q) = %v, want nil like a real account", ident, err)
		}
	}
	for _, bad := range []string{"", "  ", "\xff", strings.Repeat("a", 300)} {
		if err := e.acc.ForgotPassword(ctx, bad); !errors.Is(err, jwtgate.ErrInvalid) {
			t.Errorf("ForgotPassword(%q) = %v, want ErrInvalid", bad, err)
		}
	}
	for i := range 3 {
		if err := e.acc.ForgotPassword(ctx, "someone@example.test"); err != nil {
			t.Fatalf("ForgotPassword #%d = %v", i+1, err)
		}
	}
	if err := e.acc.ForgotPassword(ctx, "someone@example.test"); !errors.Is(err, jwtgate.ErrThrottled) {
		t.Errorf("ForgotPassword #4 for one address = %v, want ErrThrottled", err)
	}
	time.Sleep(50 * time.Millisecond) // let the worker look the requests up
	e.mail(0)
}

func TestChangeEmail(t *testing.T) {
	e := newEnv(t, accounts.Options{Signup: accounts.SignupOpen})
	ctx := t.Context()
	res, err := e.acc.Signup(ctx, accounts.SignupInput{Name: "alice", Password: "a-long-password", Email: "alice@example.test"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, vtok := link(t, e.mail(1)[0])
	if _, err := e.acc.VerifyEmail(ctx, vtok); err != nil {
		t.Fatal(err)
	}
	if _, err := e.acc.Signup(ctx, accounts.SignupInput{Name: "bob", Password: "a-long-password", Email: "bob@example.test"}); err != nil {
		t.Fatal(err)
	}
	e.mail(1)
	if err := e.acc.ChangeEmail(ctx, res.User.ID, "BOB@example.test"); !errors.Is(err, jwtgate.ErrConflict) {
		t.Errorf("ChangeEmail(bob's address) = %v, want ErrConflict", err)
	}
	if err := e.acc.ChangeEmail(ctx, res.User.ID, "alice@new.example.test"); err != nil {
		t.Fatal(err)
	}
	m := e.mail(1)[0]
	if m.To[0] != "alice@new.example.test" {
		t.Fatalf("change link went to %v", m.To)
	}
	if cur, _ := e.store.UserEmail(ctx, res.User.ID); cur.Address != "alice@example.test" {
		t.Errorf("address before the link is opened = %q, want the old one", cur.Address)
	}
	_, _, tok := link(t, m)
	if _, err := e.acc.VerifyEmail(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if cur, _ := e.store.UserEmail(ctx, res.User.ID); cur.Address != "alice@new.example.test" || !cur.Verified() {
		t.Errorf("address after the link = %+v, want the new one, verified", cur)
	}
	notice := e.mail(1)[0]
	if notice.To[0] != "alice@example.test" || !strings.Contains(notice.Text, "alice@new.example.test") {
		t.Errorf("notice to %v text %q; want the old address told of the new", notice.To, notice.Text)
	}
}

// TestLinksFromPublicURLOnly: links are built from the configured public
// URL; nothing in a request can change them (the API takes no host).
func TestLinksFromPublicURLOnly(t *testing.T) {
	e := newEnv(t, accounts.Options{Signup: accounts.SignupOpen})
	_, lnk, err := e.acc.Invite(t.Context(), 1, "x@example.test", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(lnk, publicURL+"/signup#invitation=") {
		t.Errorf("link %q, want it under %s", lnk, publicURL)
	}
}

func TestNoEmail(t *testing.T) {
	e := newEnv(t, accounts.Options{Signup: accounts.SignupOpen})
	acc, err := accounts.New(e.store, e.auth, nil, accounts.Options{PublicURL: publicURL, Signup: accounts.SignupOpen})
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	res, err := acc.Signup(ctx, accounts.SignupInput{Name: "alice", Password: "a-long-password", Email: "alice@example.test"})
	if err != nil || res.VerificationSent {
		t.Errorf("Signup(no SMTP) = %+v, %v; want the account, no email", res, err)
	}
	for name, err := range map[string]error{
		"ForgotPassword":     acc.ForgotPassword(ctx, "alice"),
		"ResendVerification": acc.ResendVerification(ctx, res.User.ID),
		"ChangeEmail":        acc.ChangeEmail(ctx, res.User.ID, "a@example.test"),
	} {
		if !errors.Is(err, accounts.ErrNoEmail) {
			t.Errorf("%s(no SMTP) = %v, want ErrNoEmail", name, err)
		}
	}
}

// TestInvitationRace spends one invitation from many signups at once:
// exactly one account is made, with its address and one acceptance
// event, and the losers leave nothing behind.
func TestInvitationRace(t *testing.T) {
	e := newEnv(t, accounts.Options{Signup: accounts.SignupInvite})
	ctx := t.Context()
	if _, _, err := e.acc.Invite(ctx, 1, "carol@example.test", nil, 0); err != nil {
		t.Fatal(err)
	}
	_, _, tok := link(t, e.mail(1)[0])
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = e.acc.Signup(ctx, accounts.SignupInput{Name: "carol" + strings.Repeat("x", i), Password: "a-long-password", Invitation: tok})
		})
	}
	wg.Wait()
	won := 0
	for i, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, accounts.ErrInvalidToken) && !errors.Is(err, jwtgate.ErrConflict):
			// A loser that reads the invitation before the winner spends
			// it may find its address taken by the winner's account.
			t.Errorf("Signup(%d) = %v, want nil, ErrInvalidToken or ErrConflict", i, err)
		}
	}
	users, err := e.store.ListUsers(ctx)
	if won != 1 || err != nil || len(users) != 1 {
		t.Fatalf("%d signups won, %d users (%v); want 1 and 1", won, len(users), err)
	}
	if got, err := e.store.UserEmail(ctx, users[0].ID); err != nil || got.Address != "carol@example.test" || !got.Verified() {
		t.Errorf("UserEmail(winner) = %+v, %v; want carol@example.test, verified", got, err)
	}
	evs, err := e.store.Audit(ctx, jwtgate.AuditFilter{Type: jwtgate.EventInvitationAccepted})
	if err != nil || len(evs) != 1 || evs[0].UserID != users[0].ID {
		t.Errorf("invitation.accepted events = %+v, %v; want one, for the winner", evs, err)
	}
}
