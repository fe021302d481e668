package e2e

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jwtgate/jwtgate/internal/mail/mailtest"
	"github.com/jwtgate/jwtgate/internal/pgtest"
	"github.com/jwtgate/jwtgate/internal/testkit"
)

// emailLink finds the one link to base in m and checks the text and HTML
// parts carry the same.
func emailLink(t *testing.T, m mailtest.Message, base string) string {
	t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(base) + `/[a-z/]+#[a-z]+=[A-Za-z0-9_-]{43}`)
	text, html := re.FindAllString(m.Text, -1), re.FindAllString(m.HTML, -1)
	if len(text) != 1 || len(html) == 0 || html[0] != text[0] {
		t.Fatalf("links to %s in the email: text %q, html %q; want one, the same", base, text, html)
	}
	return text[0]
}

// TestBrowserAccounts drives the self-service flows through the real
// binary, a real SMTP server and Chromium: signup page → email →
// verification link → login; forgotten password → email → reset page →
// the old session is gone → login with the new password.
func TestBrowserAccounts(t *testing.T) {
	smtp := mailtest.Start(t, mailtest.Options{})
	srv := StartServer(t, "", []string{"--signup=open", "--smtp-url=smtp://" + smtp.Addr, "--smtp-from=jwtgate <no-reply@example.test>"})
	b := newBrowser(t, srv, 120*time.Second)

	// Signup.
	b.do("open the signup page", chromedp.Navigate(srv.URL+"/signup"))
	b.waitVisible("#signup-form")
	b.do("fill in the signup form",
		chromedp.SendKeys(chromedp.ID("name"), "dora"),
		chromedp.SendKeys(chromedp.ID("email"), "dora@example.test"),
		chromedp.SendKeys(chromedp.ID("password"), "dora's long password"),
		chromedp.SendKeys(chromedp.ID("confirm-password"), "dora's long password"),
		chromedp.Click(chromedp.ID("submit")),
	)
	b.waitText("#signup-done", "We sent a link to dora@example.test")

	// Before the address is verified, the right password does not log in.
	b.do("open the login page before verifying", chromedp.Navigate(srv.URL+"/login"))
	b.waitVisible("#login-form")
	b.do("log in before verifying",
		chromedp.SendKeys(chromedp.ID("name"), "dora"),
		chromedp.SendKeys(chromedp.ID("password"), "dora's long password"),
		chromedp.Click(chromedp.ID("submit")),
	)
	b.waitText("#login-error", "Confirm your email address first")

	// The verification email, read off the SMTP server, and its link.
	m := smtp.Wait(1, 30*time.Second)[0]
	if m.To[0] != "dora@example.test" || m.Header.Get("Subject") != "Confirm your email address" || m.Header.Get("From") != `"jwtgate" <no-reply@example.test>` {
		t.Errorf("verification email to %v, subject %q, from %q", m.To, m.Header.Get("Subject"), m.Header.Get("From"))
	}
	link := emailLink(t, m, srv.URL)
	b.do("open the verification link", chromedp.Navigate(link))
	b.waitText("#verify-done", "Your email address is confirmed")
	if got := b.evalString(`location.hash`); got != "" {
		t.Errorf("the token stays in the address bar: hash %q", got)
	}

	// Log in from the login page, which now links to the reset page.
	b.do("open the login page", chromedp.Navigate(srv.URL+"/login"))
	b.waitVisible("#forgot-link")
	b.waitVisible("#signup-link")
	b.do("log in",
		chromedp.SendKeys(chromedp.ID("name"), "dora"),
		chromedp.SendKeys(chromedp.ID("password"), "dora's long password"),
		chromedp.Click(chromedp.ID("submit")),
	)
	b.waitPath("/")
	b.waitText("#user-name", "dora")
	b.waitText("#email-current", "dora@example.test (confirmed)")

	// Change the address from the home page: a link goes to the new one,
	// and the old one stays until it is opened.
	b.do("ask to change the address",
		chromedp.SendKeys(chromedp.ID("new-email"), "dora@new.example.test"),
		chromedp.Click(chromedp.ID("email-submit")),
	)
	b.waitText("#email-done", "We sent a link to dora@new.example.test")
	change := smtp.Wait(2, 30*time.Second)[1]
	if change.To[0] != "dora@new.example.test" {
		t.Errorf("change link sent to %v", change.To)
	}
	b.do("open the change link", chromedp.Navigate(emailLink(t, change, srv.URL)))
	b.waitText("#verify-done", "confirmed")
	if notice := smtp.Wait(3, 30*time.Second)[2]; notice.To[0] != "dora@example.test" || notice.Header.Get("Subject") != "Your email address was changed" {
		t.Errorf("third email to %v, subject %q; want the old address told", notice.To, notice.Header.Get("Subject"))
	}

	// Forgot the password: the reset email, its page, a new password.
	b.do("open the forgotten-password page", chromedp.Navigate(srv.URL+"/password/forgot"))
	b.waitVisible("#forgot-form")
	b.do("ask for a link",
		chromedp.SendKeys(chromedp.ID("ident"), "dora@new.example.test"),
		chromedp.Click(chromedp.ID("submit")),
	)
	b.waitText("#forgot-done", "is on its way")
	m = smtp.Wait(4, 30*time.Second)[3]
	if m.Header.Get("Subject") != "Reset your password" {
		t.Errorf("second email subject %q, want the reset", m.Header.Get("Subject"))
	}
	b.do("open the reset link", chromedp.Navigate(emailLink(t, m, srv.URL)))
	b.waitVisible("#reset-form")
	b.do("choose a new password",
		chromedp.SendKeys(chromedp.ID("password"), "dora's new password"),
		chromedp.SendKeys(chromedp.ID("confirm-password"), "dora's new password"),
		chromedp.Click(chromedp.ID("submit")),
	)
	b.waitText("#reset-done", "Your password is changed")
	if n := smtp.Wait(5, 30*time.Second); n[4].Header.Get("Subject") != "Your password was reset" {
		t.Errorf("fifth email subject %q, want the notice", n[4].Header.Get("Subject"))
	}

	// The session from before the reset is gone.
	b.do("open the home page", chromedp.Navigate(srv.URL+"/"))
	b.waitText("#status", "Not logged in")

	// The new password logs in; the old one does not.
	if _, code := Login(t, srv.URL, "dora", "dora's long password"); code != 400 {
		t.Errorf("login with the old password = %d, want 400", code)
	}
	b.do("open the login page again", chromedp.Navigate(srv.URL+"/login"))
	b.waitVisible("#login-form")
	b.do("log in with the new password",
		chromedp.SendKeys(chromedp.ID("name"), "dora"),
		chromedp.SendKeys(chromedp.ID("password"), "dora's new password"),
		chromedp.Click(chromedp.ID("submit")),
	)
	b.waitPath("/")
	b.waitText("#user-name", "dora")
	if got := b.evalString(`JSON.stringify(window.__cspViolations || [])`); got != "[]" {
		t.Errorf("CSP violations: %s", got)
	}
}

// TestResetEndsSessionsOnOtherInstance: two instances on one PostgreSQL
// database; a password reset through one ends the session the user has
// on the other.
func TestResetEndsSessionsOnOtherInstance(t *testing.T) {
	db := pgtest.FreshSchema(t)
	smtp := mailtest.Start(t, mailtest.Options{})
	args := []string{"--db", db, "--issuer", "http://jwtgate.cluster", "--signup=open", "--smtp-url=smtp://" + smtp.Addr}
	a := StartServer(t, "", args)
	b := StartServer(t, "", args)

	r := send(t, "POST", a.URL+"/signup", []byte(`{"name":"dora","password":"dora's long password","email":"dora@example.test"}`), "Content-Type", "application/json")
	if r.status != 201 {
		t.Fatalf("signup on A = %d %s", r.status, r.body)
	}
	verify := emailLink(t, smtp.Wait(1, 30*time.Second)[0], "http://jwtgate.cluster")
	tok := verify[strings.LastIndex(verify, "=")+1:]
	if r := send(t, "POST", b.URL+"/email/verify", []byte(`{"token":"`+tok+`"}`), "Content-Type", "application/json"); r.status != 200 {
		t.Fatalf("verify on B = %d %s", r.status, r.body)
	}
	session := loginToken(t, b.URL, "dora", "dora's long password")
	if code, _ := userName(t, b.URL, session); code != 200 {
		t.Fatalf("GET /user on B = %d", code)
	}

	if r := send(t, "POST", a.URL+"/password/forgot", []byte(`{"name":"dora"}`), "Content-Type", "application/json"); r.status != 202 {
		t.Fatalf("forgot on A = %d %s", r.status, r.body)
	}
	reset := emailLink(t, smtp.Wait(2, 30*time.Second)[1], "http://jwtgate.cluster")
	tok = reset[strings.LastIndex(reset, "=")+1:]
	if r := send(t, "POST", a.URL+"/password/reset", []byte(`{"token":"`+tok+`","password":"dora's new password"}`), "Content-Type", "application/json"); r.status != 204 {
		t.Fatalf("reset on A = %d %s", r.status, r.body)
	}
	took := testkit.Eventually(t, "B to refuse the session from before the reset", func() bool {
		code, _ := userName(t, b.URL, session)
		return code == 401
	})
	t.Logf("B refused the old session %v after the reset on A", took)
	if r := send(t, "POST", b.URL+"/password/reset", []byte(`{"token":"`+tok+`","password":"another password"}`), "Content-Type", "application/json"); r.status != 400 {
		t.Errorf("the same reset link on B = %d %s, want 400", r.status, r.body)
	}
}

// TestBrowserInvitation: an admin invites from the admin page of a server
// without email, hands the link over, and the invited person signs up in
// another browser profile with the invited address, already verified; the
// used link then shows a clear page.
func TestBrowserInvitation(t *testing.T) {
	srv := StartServer(t, "", []string{"--demo", "--signup=invite"})
	admin := newBrowser(t, srv, 120*time.Second)
	admin.do("open the login page", chromedp.Navigate(srv.URL+"/login"))
	admin.waitVisible("#login-form")
	if got := admin.evalString(`String(!!document.getElementById("signup-link"))`); got != "false" {
		t.Errorf("the login page links to signup in invite mode")
	}
	admin.do("log in as admin",
		chromedp.SendKeys(chromedp.ID("name"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), "1234"),
		chromedp.Click(chromedp.ID("submit")),
	)
	admin.waitPath("/")
	admin.do("open the admin page", chromedp.Navigate(srv.URL+"/admin"))
	admin.waitText("#invitations", "No open invitations")
	admin.do("invite erin",
		chromedp.SendKeys(chromedp.ID("invite-email"), "erin@example.test"),
		chromedp.SendKeys(chromedp.ID("invite-roles"), "dev"),
		chromedp.Click(chromedp.ID("invite")),
	)
	admin.waitText("#invitations-done", "hand over this link")
	admin.waitText("#invitations", "erin@example.test")
	link := admin.evalString(`document.querySelector("#invitations-done .invite-link").textContent`)
	if !strings.HasPrefix(link, srv.URL+"/signup#invitation=") {
		t.Fatalf("invitation link %q", link)
	}

	erin := admin.newProfile()
	erin.do("open the invitation", chromedp.Navigate(link))
	erin.waitVisible("#signup-form")
	waitValue := func(b *browser, id, want string) {
		t.Helper()
		testkit.Eventually(t, id+" to be "+want, func() bool {
			return b.evalString(`document.getElementById("`+id+`").value`) == want
		})
	}
	waitValue(erin, "email", "erin@example.test")
	erin.do("sign up",
		chromedp.SendKeys(chromedp.ID("name"), "erin"),
		chromedp.SendKeys(chromedp.ID("password"), "erin's long password"),
		chromedp.SendKeys(chromedp.ID("confirm-password"), "erin's long password"),
		chromedp.Click(chromedp.ID("submit")),
	)
	erin.waitText("#signup-done", "You can log in now")
	tok := loginToken(t, srv.URL, "erin", "erin's long password")
	r := send(t, "GET", srv.URL+"/user/email", nil, "Authorization", "Bearer "+tok)
	if r.status != 200 || r.jsonBody()["email"] != "erin@example.test" || r.jsonBody()["email_verified"] != true {
		t.Errorf("erin's address = %d %s, want erin@example.test, verified", r.status, r.body)
	}
	if r := send(t, "GET", srv.URL+"/user", nil, "Authorization", "Bearer "+tok); !strings.Contains(string(r.body), `"dev"`) {
		t.Errorf("erin's roles: %s, want dev from the invitation", r.body)
	}

	// The used link says so, and offers no form. (From another page: from
	// /signup itself, the link would only change the fragment.)
	erin.do("leave the signup page", chromedp.Navigate(srv.URL+"/login"))
	erin.waitVisible("#login-form")
	erin.do("open the invitation again", chromedp.Navigate(link))
	erin.waitText("#signup-error", "invalid, has expired or was already used")
	if got := erin.evalString(`String(document.getElementById("signup-form").hidden)`); got != "true" {
		t.Error("the signup form is shown for a used invitation")
	}
	admin.do("reload the invitations", chromedp.Click(chromedp.ID("invitations-reload")))
	admin.waitText("#invitations", "No open invitations")
}

// TestBrowserSignupClosed: with signup closed (the default) the signup
// page says so instead of offering a form the server would refuse.
func TestBrowserSignupClosed(t *testing.T) {
	srv := StartServer(t, "", []string{"--demo"})
	b := newBrowser(t, srv, 60*time.Second)
	b.do("open the signup page", chromedp.Navigate(srv.URL+"/signup"))
	b.waitText("#signup-error", "does not take signups")
	if got := b.evalString(`String(document.getElementById("signup-form").hidden)`); got != "true" {
		t.Error("the signup form is shown with signup closed")
	}
}
