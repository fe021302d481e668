package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
)

// The browser tests of the session lifecycle run the server with a 4 s
// access token, so that the home page has to refresh it a few times.
const browserAccessTTL = 4 * time.Second

func startShortLivedServer(t *testing.T) *Server {
	t.Helper()
	return StartServer(t, "", []string{"--demo", "--access-ttl", browserAccessTTL.String()})
}

// count returns how many entries of log start with prefix.
func count(log []string, prefix string) int {
	n := 0
	for _, l := range log {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// fetchUser runs GET /user from the page (with its cookies) and returns the
// status and the name.
func (b *browser) fetchUser() (int, string) {
	b.t.Helper()
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`fetch("/user", {cache: "no-store", headers: {Accept: "application/json"}})
		.then(async (r) => JSON.stringify({status: r.status, body: r.ok ? await r.json() : null}))`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("fetch /user from the page: %v", err)
	}
	var got struct {
		Status int `json:"status"`
		Body   *struct {
			Name string `json:"name"`
			Exp  int64  `json:"exp"`
		} `json:"body"`
	}
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		b.t.Fatalf("fetch /user from the page: %v (%s)", err, raw)
	}
	if got.Body == nil {
		return got.Status, ""
	}
	if got.Body.Exp <= time.Now().Add(-time.Second).Unix() {
		b.t.Errorf("GET /user from the page: exp %d is in the past", got.Body.Exp)
	}
	return got.Status, got.Body.Name
}

// checkStorage asserts that no token is in reach of the page's scripts.
func (b *browser) checkStorage() {
	b.t.Helper()
	if got := b.evalString(`document.cookie`); got != "" {
		b.t.Errorf("document.cookie = %q, want empty: the session must be HttpOnly", got)
	}
	if got := b.evalString(`String(localStorage.length) + "," + String(sessionStorage.length)`); got != "0,0" {
		b.t.Errorf("localStorage,sessionStorage lengths = %s, want 0,0", got)
	}
}

// TestBrowserSilentRefresh stays on the home page for two lifetimes of the
// access token: the page must refresh it in the background (POST
// /token/refresh with the refresh cookie), never let a request fail with
// 401, and still show the user at the end.
func TestBrowserSilentRefresh(t *testing.T) {
	srv := startShortLivedServer(t)
	b := newBrowser(t, srv, 45*time.Second)

	b.login("admin", "1234")
	b.checkCookies()
	b.checkStorage()
	before := len(b.watch.responseLog())

	// Wait about two lifetimes of the access token, checking all along that
	// the page still shows the user.
	wait := 2*browserAccessTTL + time.Second
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if got := b.evalString(`document.getElementById("status").textContent`); got != "Logged in as admin" {
			t.Fatalf("after %v on the home page, #status = %q, want Logged in as admin", wait-time.Until(deadline), got)
		}
		time.Sleep(250 * time.Millisecond)
	}
	during := b.watch.responseLog()[before:]
	t.Logf("responses while waiting %v: %v", wait, during)
	if n := count(during, "POST /token/refresh 200"); n < 1 {
		t.Errorf("no successful POST /token/refresh in %v with a %v access token; responses: %v", wait, browserAccessTTL, during)
	} else {
		t.Logf("%d refreshes in %v", n, wait)
	}
	for _, r := range during {
		if strings.HasSuffix(r, " 401") || strings.HasSuffix(r, " 400") {
			t.Errorf("while logged in, %s: the page let its access token expire", r)
		}
	}

	// A request of the page's own still works, and so does a reload.
	if status, name := b.fetchUser(); status != http.StatusOK || name != "admin" {
		t.Errorf("GET /user from the page after %v: %d %q, want 200 admin", wait, status, name)
	}
	b.do("reload", chromedp.Reload())
	b.waitText("#user-name", "admin")
	b.checkCookies()
	b.checkStorage()

	// Logout goes to the login page, and the home page is logged out again.
	b.do("click Logout", chromedp.Click(chromedp.ID("logout")))
	b.waitPath("/login")
	b.waitVisible("#login-form")
	for _, c := range b.cookies() {
		t.Errorf("cookie %q still set after logout", c.Name)
	}
	b.do("open / again", chromedp.Navigate(b.base+"/"))
	b.waitText("#status", "Not logged in")
	b.do("stay on the page", chromedp.Click(chromedp.ID("stay")))

	b.checkWatch("the tab", "GET /", "GET /user", "POST /login", "POST /token/refresh", "GET /user/sessions", "POST /logout")
}

// TestBrowserRevokeOtherSession logs in from two profiles of the browser
// (two devices, for the server); the first signs the second out from its
// sessions list, and the second page notices when its next refresh fails.
func TestBrowserRevokeOtherSession(t *testing.T) {
	srv := startShortLivedServer(t)
	a := newBrowser(t, srv, 50*time.Second)
	other := a.newProfile()

	a.login("admin", "1234")
	other.login("admin", "1234")

	// A's list shows both sessions once reloaded: its own first, marked.
	a.do("reload the sessions list", chromedp.Click(chromedp.ID("sessions-reload")))
	a.waitJS("the list shows 2 sessions", `document.querySelectorAll("#sessions .session").length === 2`)
	a.waitText("#sessions-status", "2 active sessions")
	rows := a.evalString(`[...document.querySelectorAll("#sessions .session")].map(li =>
		(li.classList.contains("is-current") ? "current" : "other") + "|" +
		li.querySelector(".session-name").textContent + "|" +
		li.querySelector(".session-meta").textContent + "|" +
		(li.querySelector("button") ? li.querySelector("button").textContent.trim() : "")).join("\n")`)
	t.Logf("sessions list:\n%s", rows)
	lines := strings.Split(rows, "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "current|") || !strings.HasPrefix(lines[1], "other|") {
		t.Fatalf("sessions list = %q, want this device first, then the other", rows)
	}
	for _, l := range lines {
		f := strings.Split(l, "|")
		if !strings.HasSuffix(f[1], " on Linux") {
			t.Errorf("device %q, want a short name like Chrome on Linux", f[1])
		}
		if !strings.Contains(f[2], "127.0.0.1") || !strings.Contains(f[2], "last active") {
			t.Errorf("session details %q, want the IP and last active", f[2])
		}
	}
	if got := a.evalString(`document.querySelector("#sessions .is-current .badge").textContent`); got != "This device" {
		t.Errorf("badge of the current session = %q, want This device", got)
	}
	if f := strings.Split(lines[0], "|"); f[3] != "" {
		t.Errorf("the current session has a button %q, want none (Log out is for this device)", f[3])
	}
	if f := strings.Split(lines[1], "|"); !strings.HasPrefix(f[3], "Sign out") {
		t.Errorf("the other session's button = %q, want Sign out …", f[3])
	}
	// The picture shows the page at rest: no hover, no focus ring.
	a.do("move the mouse away", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 1, 1))
	a.eval(`document.activeElement && document.activeElement.blur()`)
	a.shots.takeFull(a, "home.png", true)
	a.checkFits(360, 740)

	// A signs B out.
	revokedAt := time.Now()
	a.do("sign out the other session", chromedp.Click(chromedp.CSS("#sessions .session:not(.is-current) .session-signout")))
	a.waitJS("the list shows 1 session", `document.querySelectorAll("#sessions .session").length === 1`)
	a.waitText("#sessions-status", "Signed out")
	if got := a.evalString(`document.activeElement && document.activeElement.id`); got != "sessions-title" {
		t.Errorf("focus after signing out the last other session = %q, want the list's heading", got)
	}

	// B's page finds out at its next refresh, at the latest about one
	// lifetime of the access token later, says so and goes to the login page.
	other.waitText("#status", "Your session has ended")
	other.waitVisible("#ended-reason")
	other.shots.takeQuick(other, "home-session-ended.png")
	t.Logf("B noticed after %v", time.Since(revokedAt).Round(100*time.Millisecond))
	if d := time.Since(revokedAt); d > browserAccessTTL+3*time.Second {
		t.Errorf("B noticed the revocation after %v, want within the access TTL (%v) and a little", d, browserAccessTTL)
	}
	other.waitPath("/login")
	other.waitVisible("#login-form")
	for _, c := range other.cookies() {
		t.Errorf("B: cookie %q still set after the session ended", c.Name)
	}
	other.do("B opens / again", chromedp.Navigate(other.base+"/"))
	other.waitText("#status", "Not logged in")
	if got := other.evalString(`String(document.getElementById("ended-reason").hidden)`); got != "true" {
		t.Errorf("B: #ended-reason hidden = %s on a plain logged-out page, want true", got)
	}
	other.do("B stays on the page", chromedp.Click(chromedp.ID("stay")))

	// A is still logged in, and keeps refreshing.
	a.waitText("#status", "Logged in as admin")
	if status, name := a.fetchUser(); status != http.StatusOK || name != "admin" {
		t.Errorf("A: GET /user after signing B out: %d %q, want 200 admin", status, name)
	}
	a.checkCookies()
	a.checkStorage()
	other.checkStorage()

	a.checkWatch("A", "GET /user/sessions")
	if n := count(a.watch.responseLog(), "DELETE /user/sessions/"); n != 1 {
		t.Errorf("A: %d DELETE /user/sessions/{id}, want 1; responses: %v", n, a.watch.responseLog())
	}
	other.checkWatch("B", "POST /token/refresh")
	if n := count(other.watch.responseLog(), "POST /token/refresh 401"); n < 1 {
		t.Errorf("B: no POST /token/refresh answered 401; responses: %v", other.watch.responseLog())
	}
}

// TestBrowserChangePassword changes the password on the home page: the
// form checks what it can before sending, reports the server's refusal, and
// on success signs out the other sessions; then only the new password works.
func TestBrowserChangePassword(t *testing.T) {
	srv := startShortLivedServer(t)
	b := newBrowser(t, srv, 45*time.Second)
	const newPassword = "correct horse 42"

	// Another session, outside the browser, that the change must end.
	other, status := Login(t, srv.URL, "admin", "1234")
	if status != http.StatusOK {
		t.Fatalf("login outside the browser: %d %v", status, other)
	}
	otherRefresh, _ := other["refresh_token"].(string)

	b.login("admin", "1234")
	b.waitJS("the list shows 2 sessions", `document.querySelectorAll("#sessions .session").length === 2`)

	// The form: visible labels, the autocomplete password managers need
	// (the step-up code field stays hidden until the server asks for it).
	if got := b.evalString(`[...document.querySelectorAll("#password-form label")].filter(l => l.checkVisibility()).map(l => l.htmlFor + ":" + l.textContent.trim()).join(",")`); got != "current-password:Current password,new-password:New password,confirm-password:Confirm new password" {
		t.Errorf("password form labels = %q", got)
	}
	if got := b.evalString(`[...document.querySelectorAll("#password-form input:not(#password-code)")].map(i => i.autocomplete).join(",")`); got != "username,current-password,new-password,new-password" {
		t.Errorf("password form autocomplete = %q, want username,current-password,new-password,new-password", got)
	}
	if got := b.evalString(`document.getElementById("password-username").value`); got != "admin" {
		t.Errorf("the form's hidden username = %q, want admin", got)
	}

	fill := func(step, current, next, confirm string) {
		t.Helper()
		b.eval(`document.getElementById("password-form").reset()`)
		b.do(step,
			chromedp.SendKeys(chromedp.ID("current-password"), current),
			chromedp.SendKeys(chromedp.ID("new-password"), next),
			chromedp.SendKeys(chromedp.ID("confirm-password"), confirm),
			chromedp.Click(chromedp.ID("password-submit")),
		)
	}
	posts := func() int { return count(b.watch.responseLog(), "POST /user/password ") }

	// Checked in the page, not sent: a mismatch, a short password.
	fill("submit two different new passwords", "1234", newPassword, newPassword+"!")
	b.waitText("#password-error", "do not match")
	if got := b.evalString(`document.activeElement.id + " " + document.activeElement.getAttribute("aria-invalid")`); got != "confirm-password true" {
		t.Errorf("after a mismatch, focus and aria-invalid = %q, want confirm-password true", got)
	}
	fill("submit a short new password", "1234", "short", "short")
	b.waitText("#password-error", "at least 8 characters")
	if n := posts(); n != 0 {
		t.Errorf("%d POST /user/password for input the page can check itself, want 0", n)
	}

	// Refused by the server: the wrong current password.
	fill("submit a wrong current password", "wrong", newPassword, newPassword)
	b.waitText("#password-error", "current password is not right")
	if got := b.evalString(`document.activeElement.id + " " + document.getElementById("current-password").value`); got != "current-password " {
		t.Errorf("after a wrong current password, focus and its value = %q, want the emptied current-password field", got)
	}
	b.shots.takeQuick(b, "home-password-error.png")

	// The right one.
	fill("change the password", "1234", newPassword, newPassword)
	b.waitText("#password-done", "Your password was changed")
	if got := b.evalString(`document.getElementById("password-error").textContent`); got != "" {
		t.Errorf("#password-error = %q after the change, want empty", got)
	}
	if got := b.evalString(`["current-password", "new-password", "confirm-password"].map(id => document.getElementById(id).value).join("|")`); got != "||" {
		t.Errorf("password fields after the change = %q, want all empty", got)
	}
	if got := b.evalString(`document.getElementById("password-done").getAttribute("role")`); got != "status" {
		t.Errorf("#password-done role = %q, want status (a live region)", got)
	}
	// The other session is gone, from the list and for real.
	b.waitJS("the list shows 1 session", `document.querySelectorAll("#sessions .session").length === 1`)
	body := fmt.Sprintf(`{"refresh_token":%q}`, otherRefresh)
	if r := send(t, "POST", srv.URL+"/token/refresh", []byte(body), "Content-Type", "application/json"); r.status != http.StatusUnauthorized {
		t.Errorf("refresh of the other session after the change: %d %s, want 401", r.status, r.body)
	}
	b.shots.takeQuick(b, "home-password-changed.png")

	// This session goes on.
	if status, name := b.fetchUser(); status != http.StatusOK || name != "admin" {
		t.Errorf("GET /user after the change: %d %q, want 200 admin", status, name)
	}

	// Log out; the old password fails, the new one works.
	b.do("click Logout", chromedp.Click(chromedp.ID("logout")))
	b.waitPath("/login")
	b.waitVisible("#login-form")
	b.do("log in with the old password",
		chromedp.SendKeys(chromedp.ID("name"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), "1234"),
		chromedp.Click(chromedp.ID("submit")),
	)
	b.waitText("#login-error", "Invalid name or password")
	b.do("log in with the new password",
		chromedp.SendKeys(chromedp.ID("password"), newPassword),
		chromedp.Click(chromedp.ID("submit")),
	)
	b.waitPath("/")
	b.waitText("#status", "Logged in as admin")
	b.checkCookies()
	b.checkStorage()

	b.checkWatch("the tab", "POST /user/password", "POST /logout", "POST /login")
}
