package e2e

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jwtgate/jwtgate/internal/testkit"
)

// TestBrowserTOTP enrols an authenticator app on the home page (the codes
// computed here from the key the page shows, per RFC 6238, apart from the
// server's code), logs out, logs in with the password and a code on the
// same login page, then with a recovery code, and turns the app off. The
// server runs on 127.0.0.1, so without passkeys: the pages offer none.
func TestBrowserTOTP(t *testing.T) {
	srv := StartServer(t, "", []string{"--demo"})
	base := srv.URL
	b := newBrowser(t, srv, 90*time.Second)

	b.login("admin", "1234")
	b.waitVisible("#totp-card")
	b.waitText("#totp-status", "Off.")
	if got := b.evalString(`String(!!document.getElementById("passkeys-card")) + " " + String(!!document.getElementById("passkey-login"))`); got != "false false" {
		t.Errorf("passkey panel, passkey button on a server without passkeys = %q, want neither", got)
	}

	// 1. Set it up: a QR code and the key, then a code from the "app".
	b.do("set up an authenticator app", chromedp.Click(chromedp.ID("totp-start")))
	b.waitVisible("#totp-enrol")
	b.waitJS("the QR code has loaded", `document.getElementById("totp-qr").complete && document.getElementById("totp-qr").naturalWidth > 0`)
	if got := b.evalString(`document.activeElement && document.activeElement.id`); got != "totp-code" {
		t.Errorf("focus after Set up = %q, want the code field", got)
	}
	shown := strings.ReplaceAll(b.evalString(`document.getElementById("totp-secret").textContent`), " ", "")
	if len(shown) < 16 {
		t.Fatalf("the page shows the key %q, want a base32 secret", shown)
	}
	// What a user types into an app by hand: the key, with the defaults.
	uri := "otpauth://totp/jwtgate:admin?secret=" + shown + "&issuer=jwtgate"
	code := func(steps int) string {
		t.Helper()
		c, err := testkit.TOTPStep(uri, time.Now(), steps)
		if err != nil {
			t.Fatalf("TOTP from %s: %v", uri, err)
		}
		return c
	}
	b.shots.takeQuick(b, "home-totp-enrol.png")
	b.do("a wrong code", chromedp.SendKeys(chromedp.ID("totp-code"), "12345a\n"))
	b.waitText("#totp-error", "Enter the six digits")
	b.eval(`document.getElementById("totp-code").value = ""`)
	// Each code works once, and the server takes the steps -1, 0 and +1:
	// enrol with the previous step's, log in with the current one's, make
	// new recovery codes with the next one's, so that the three never
	// repeat a step, with no wait for the clock.
	b.do("type the app's code", chromedp.SendKeys(chromedp.ID("totp-code"), code(-1)+"\n"))
	b.waitVisible("#recovery")
	b.waitText("#totp-done", "The authenticator app is on")
	var recovery []string
	raw := b.evalString(`JSON.stringify([...document.querySelectorAll("#recovery-codes li")].map((li) => li.textContent))`)
	if err := json.Unmarshal([]byte(raw), &recovery); err != nil || len(recovery) != 10 {
		t.Fatalf("recovery codes shown: %s (%v), want 10", raw, err)
	}
	b.shots.takeQuick(b, "home-recovery-codes.png")
	b.do("saved them", chromedp.Click(chromedp.ID("recovery-saved")))
	b.waitText("#totp-status", "On. 10 recovery codes left.")
	if got := b.evalString(`String(document.getElementById("recovery-codes").children.length)`); got != "0" {
		t.Errorf("recovery codes still in the page after Saved: %s", got)
	}

	// Changing the password is a step-up change: this session began with
	// the password alone, so the form asks for a code; a recovery code
	// does.
	const newPassword = "a much longer password"
	b.do("change the password",
		chromedp.SendKeys(chromedp.ID("current-password"), "1234"),
		chromedp.SendKeys(chromedp.ID("new-password"), newPassword),
		chromedp.SendKeys(chromedp.ID("confirm-password"), newPassword),
		chromedp.Click(chromedp.ID("password-submit")),
	)
	b.waitText("#password-error", "This change needs a fresh second factor")
	if got := b.evalString(`document.activeElement.id`); got != "password-code" {
		t.Errorf("focus after the step-up refusal = %q, want the code field", got)
	}
	b.do("give a recovery code", chromedp.SendKeys(chromedp.ID("password-code"), recovery[9]),
		chromedp.Click(chromedp.ID("password-submit")))
	b.waitText("#password-done", "Your password was changed")
	if got := b.evalString(`String(document.getElementById("password-code-field").hidden)`); got != "true" {
		t.Errorf("the code field after the change: hidden = %s, want true", got)
	}

	// 2. Log out; the password now asks for a code, on the same page.
	logInWithCode := func(step, code, wantError string) {
		t.Helper()
		b.do("open /login", chromedp.Navigate(base+"/login"))
		b.waitVisible("#login-form")
		b.eval(`window.__samePage = "yes"`)
		b.do(step+": the password",
			chromedp.SendKeys(chromedp.ID("name"), "admin"),
			chromedp.SendKeys(chromedp.ID("password"), newPassword),
			chromedp.Click(chromedp.ID("submit")),
		)
		b.waitVisible("#mfa-code")
		b.shots.takeQuick(b, "login-second-step-code.png")
		if got := b.evalString(`window.__samePage + " " + document.activeElement.id + " " + document.getElementById("mfa-passkey").hidden`); got != "yes mfa-code true" {
			t.Errorf("%s: after the password: %q, want the same document, the code field focused, no passkey button", step, got)
		}
		if wantError != "" {
			b.do(step+": a wrong code", chromedp.SendKeys(chromedp.ID("mfa-code"), "000000\n"))
			b.waitText("#login-error", wantError)
			if got := b.evalString(`document.getElementById("mfa-code").getAttribute("aria-invalid") + " " + document.activeElement.id`); got != "true mfa-code" {
				t.Errorf("%s: after a wrong code: %q, want the code field invalid and focused", step, got)
			}
		}
		b.do(step+": the code", chromedp.SendKeys(chromedp.ID("mfa-code"), code+"\n"))
		b.waitPath("/")
		b.waitText("#status", "Logged in as admin")
	}
	logOut := func() {
		t.Helper()
		b.do("log out", chromedp.Click(chromedp.ID("logout")))
		b.waitPath("/login")
	}
	logOut()
	logInWithCode("TOTP", code(0), "That code is not right")
	if got := b.userAMR(); got != "pwd otp mfa" {
		t.Errorf("amr after password and TOTP = %q, want pwd otp mfa", got)
	}

	// 3. Lost the phone: a recovery code, once.
	logOut()
	logInWithCode("recovery code", recovery[0], "")
	b.waitText("#totp-status", "On. 8 recovery codes left.")
	logOut()
	logInWithCode("used recovery code", recovery[1], "")
	b.waitText("#totp-status", "On. 7 recovery codes left.")
	logOut()
	b.do("open /login", chromedp.Navigate(base+"/login"))
	b.waitVisible("#login-form")
	b.do("the password again",
		chromedp.SendKeys(chromedp.ID("name"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), newPassword),
		chromedp.Click(chromedp.ID("submit")),
	)
	b.waitVisible("#mfa-code")
	b.do("a spent recovery code", chromedp.SendKeys(chromedp.ID("mfa-code"), recovery[0]+"\n"))
	b.waitText("#login-error", "That code is not right")
	// Start over goes back to the password.
	b.do("start over", chromedp.Click(chromedp.ID("mfa-back")))
	b.waitVisible("#login-form")
	if got := b.evalString(`document.activeElement.id + " " + document.getElementById("mfa-form").hidden`); got != "password true" {
		t.Errorf("after Start over: %q, want the password focused and the code form hidden", got)
	}
	b.do("the password, then a fresh recovery code",
		chromedp.SendKeys(chromedp.ID("password"), newPassword),
		chromedp.Click(chromedp.ID("submit")),
	)
	b.waitVisible("#mfa-code")
	b.do("a fresh recovery code", chromedp.SendKeys(chromedp.ID("mfa-code"), recovery[2]+"\n"))
	b.waitPath("/")

	// 4. New recovery codes void the old ones; then turn the app off with
	// the password and a recovery code.
	b.waitVisible("#recovery-form")
	b.do("new recovery codes", chromedp.SendKeys(chromedp.ID("recovery-code"), code(1)+"\n"))
	b.waitText("#totp-done", "New recovery codes")
	raw = b.evalString(`JSON.stringify([...document.querySelectorAll("#recovery-codes li")].map((li) => li.textContent))`)
	var fresh []string
	if err := json.Unmarshal([]byte(raw), &fresh); err != nil || len(fresh) != 10 || fresh[0] == recovery[0] {
		t.Fatalf("new recovery codes: %s (%v), want 10 new ones", raw, err)
	}
	b.do("saved them", chromedp.Click(chromedp.ID("recovery-saved")))
	b.waitVisible("#totp-disable-form")
	b.do("turn it off",
		chromedp.SendKeys(chromedp.ID("totp-disable-password"), newPassword),
		chromedp.SendKeys(chromedp.ID("totp-disable-code"), fresh[0]),
		chromedp.Click(chromedp.ID("totp-disable")),
	)
	b.waitText("#totp-done", "The authenticator app is off")
	b.waitText("#totp-status", "Off.")

	// The password alone logs in again.
	logOut()
	b.login("admin", newPassword)
	b.checkWatch("totp", "GET /user/factors", "POST /user/totp", "GET /user/totp/qr.png", "POST /user/totp/confirm",
		"POST /login/mfa", "POST /user/recovery-codes", "DELETE /user/totp")
}

// TestBrowserAdminResetFactors: the admin page shows which second factors
// a user has, and "Reset second factors" (a lost phone) removes them and
// ends the user's sessions, so the password alone logs in again.
func TestBrowserAdminResetFactors(t *testing.T) {
	srv := StartServer(t, "", []string{"--demo"})
	base := srv.URL
	admin := loginToken(t, base, "admin", "1234")
	auth := func(tok string) []string {
		return []string{"Authorization", "Bearer " + tok, "Content-Type", "application/json"}
	}
	if r := send(t, "POST", base+"/admin/users", []byte(`{"name":"alice","password":"alice's password"}`), auth(admin)...); r.status != 201 {
		t.Fatalf("POST /admin/users = %d %s", r.status, r.body)
	}
	alice := loginToken(t, base, "alice", "alice's password")
	r := send(t, "POST", base+"/user/totp", nil, auth(alice)...)
	uri, _ := r.jsonBody()["uri"].(string)
	if r.status != 200 || uri == "" {
		t.Fatalf("POST /user/totp = %d %s", r.status, r.body)
	}
	code, err := testkit.TOTP(uri, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r := send(t, "POST", base+"/user/totp/confirm", []byte(`{"code":"`+code+`"}`), auth(alice)...); r.status != 200 {
		t.Fatalf("POST /user/totp/confirm = %d %s", r.status, r.body)
	}
	if out, status := Login(t, base, "alice", "alice's password"); status != 401 || out["error"] != "mfa_required" {
		t.Fatalf("alice's password after TOTP = %d %v, want 401 mfa_required", status, out)
	}

	b := newBrowser(t, srv, 60*time.Second)
	b.login("admin", "1234")
	b.do("open /admin", chromedp.Navigate(base+"/admin"))
	row := `#users tr[data-name="alice"]`
	b.waitText(row, "Second factors: authenticator app")
	b.do("reset alice's second factors", chromedp.Click(chromedp.CSS(row+` button[data-action="factors"]`)))
	b.waitText("#users-done", "alice has no second factor any more")
	b.waitJS("the reset button is gone", `!!document.querySelector('`+row+`') && !document.querySelector('`+row+` button[data-action="factors"]')`)
	if got := b.evalString(`document.querySelector('` + row + `').textContent`); strings.Contains(got, "Second factors") {
		t.Errorf("alice's row after the reset still says %q", got)
	}
	if status, _ := userName(t, base, alice); status != 401 {
		t.Errorf("alice's old token after the reset: GET /user = %d, want 401 (sessions ended)", status)
	}
	if _, status := Login(t, base, "alice", "alice's password"); status != 200 {
		t.Errorf("alice's password alone after the reset = %d, want 200", status)
	}
	b.checkWatch("admin reset", "DELETE /admin/users/alice/factors")
}
