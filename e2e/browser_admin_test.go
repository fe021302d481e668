package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// adminAPI calls the admin API over HTTP with a bearer token and returns
// the reply; body, when not nil, is sent as JSON.
func adminAPI(t *testing.T, tok, method, url string, body any) reply {
	t.Helper()
	var raw []byte
	headers := []string{"Authorization", "Bearer " + tok}
	if body != nil {
		raw, _ = json.Marshal(body)
		headers = append(headers, "Content-Type", "application/json")
	}
	return send(t, method, url, raw, headers...)
}

// allowedHTTPError is a "Failed to load resource" line the flow causes on
// purpose, beyond those expectedHTTPError knows: METHOD-less, by path and
// status.
type allowedHTTPError struct {
	path   string
	status int
}

// checkWatchAllowing is checkWatch for flows that cause 4xx answers of the
// admin API on purpose: Chrome logs those at level error, and the ones
// listed in allowed are not faults. Every other check is checkWatch's.
func (b *browser) checkWatchAllowing(who string, allowed []allowedHTTPError, want ...string) {
	b.t.Helper()
	if got := b.evalString(`JSON.stringify(window.__cspViolations || [])`); got != "[]" {
		b.t.Errorf("%s: CSP violations in the last document: %s", who, got)
	}
	requests, consoleErrors, expected, violations := b.watch.snapshot()
	checkRequests(b.t, requests, want...)
	allowedSeen := 0
	for _, e := range consoleErrors {
		if isAllowedHTTPError(b.base, e, allowed) {
			allowedSeen++
			continue
		}
		b.t.Errorf("%s: console error: %s", who, e)
	}
	b.t.Logf("%s: %d requests, %d expected 4xx log lines, %d allowed admin 4xx log lines", who, len(requests), len(expected), allowedSeen)
	for _, v := range violations {
		b.t.Errorf("%s: CSP violation: %s", who, v)
	}
}

func isAllowedHTTPError(base, line string, allowed []allowedHTTPError) bool {
	if !strings.HasPrefix(line, "browser log (network) ") {
		return false
	}
	rest := strings.TrimPrefix(line, "browser log (network) ")
	raw, text, ok := strings.Cut(rest, ": ")
	if !ok || !strings.HasPrefix(raw, base) {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil {
		return false
	}
	for _, a := range allowed {
		if u.Path == a.path && strings.Contains(text, fmt.Sprintf("status of %d", a.status)) {
			return true
		}
	}
	return false
}

// rowSel is the CSS selector of a user's row in the users table, or of a
// button in it.
func rowSel(name string, action ...string) string {
	sel := fmt.Sprintf(`#users tr[data-name=%q]`, name)
	if len(action) > 0 {
		sel += fmt.Sprintf(` button[data-action=%q]`, action[0])
	}
	return sel
}

// TestBrowserAdmin runs the administration page as an administrator: users
// (create, search, roles, disable and enable, password reset, sign out
// everywhere, delete), key rotation and the audit log, each checked against
// the server over HTTP; then as a user without the admin role, who is told
// so while the page calls no admin route.
func TestBrowserAdmin(t *testing.T) {
	started := time.Now()
	srv := StartServer(t, "", []string{"--demo"})
	base := srv.URL
	// The flow takes about 30 s on a shared 2-core machine: the limit
	// leaves room for a loaded one.
	b := newBrowser(t, srv, 90*time.Second)

	const (
		carolPassword = "carol-first-1"
		carolReset    = "carol-second-2"
		davePassword  = "dave-password-1"
		// A name that is markup: the page must show it as text.
		trickyName = `<img src=x id=injected>`
	)

	// Over HTTP, as admin: dave, without roles.
	adminTok := loginToken(t, base, "admin", "1234")
	if r := adminAPI(t, adminTok, "POST", base+"/admin/users", map[string]any{"name": "dave", "password": davePassword}); r.status != http.StatusCreated {
		t.Fatalf("POST /admin/users dave: %d %s", r.status, r.body)
	}

	// 1. Admin logs in; the home page links to the admin page.
	b.login("admin", "1234")
	b.waitVisible("#admin-link")
	b.do("follow the Admin link", chromedp.Click(chromedp.ID("admin-link")))
	b.waitPath("/admin")
	b.waitVisible("#admin")
	b.waitText("#signed-in-name", "admin")
	b.waitJS("the users table lists admin and dave", `document.querySelectorAll("#users tr[data-name]").length === 2`)
	b.waitText("#users-count", "2 users")
	b.waitText("#keys", "active")
	b.waitText("#audit", "login.succeeded")

	// Accessibility basics: labelled fields, column headers with scope,
	// row headers, live regions.
	if got := b.evalString(`[...document.querySelectorAll("#admin input:not([type=hidden]), #admin select")]
		.filter(i => !i.labels || i.labels.length === 0).map(i => i.id).join(",")`); got != "" {
		t.Errorf("fields without a label: %s", got)
	}
	if got := b.evalString(`[...document.querySelectorAll("#admin thead th")].filter(th => th.scope !== "col").length + "/" +
		document.querySelectorAll("#admin thead th").length`); got != "0/20" {
		t.Errorf("column headers without scope=col / all: %s, want 0/20", got)
	}
	if got := b.evalString(`document.querySelector("#users tr[data-name] th").scope`); got != "row" {
		t.Errorf("the user's name cell has scope %q, want row", got)
	}
	if got := b.evalString(`["users-count", "users-done", "audit-count"].map(id => document.getElementById(id).getAttribute("aria-live")).join(",")`); got != "polite,polite,polite" {
		t.Errorf("aria-live of the counts and results = %s, want polite", got)
	}

	// 2. Create carol. The same name again is refused (409).
	b.do("create carol",
		chromedp.SendKeys(chromedp.ID("create-name"), "carol"),
		chromedp.SendKeys(chromedp.ID("create-password"), carolPassword),
		chromedp.SendKeys(chromedp.ID("create-roles"), "staff"),
		chromedp.Click(chromedp.ID("create-submit")),
	)
	b.waitText("#users-done", "Created carol with the roles staff")
	b.waitVisible(rowSel("carol"))
	b.waitText(rowSel("carol"), "staff")
	if got := b.evalString(`document.getElementById("create-name").value + "|" + document.getElementById("create-password").value`); got != "|" {
		t.Errorf("the create form after success = %q, want it emptied", got)
	}
	b.do("create carol again",
		chromedp.SendKeys(chromedp.ID("create-name"), "Carol"),
		chromedp.SendKeys(chromedp.ID("create-password"), carolPassword),
		chromedp.Click(chromedp.ID("create-submit")),
	)
	b.waitText("#create-error", "The name Carol is taken")
	if got := b.evalString(`document.activeElement.id + " " + document.activeElement.getAttribute("aria-invalid")`); got != "create-name true" {
		t.Errorf("after a taken name, focus and aria-invalid = %q, want create-name true", got)
	}
	// A short password is caught in the page.
	b.eval(`document.getElementById("create-form").reset()`)
	b.do("create with a short password",
		chromedp.SendKeys(chromedp.ID("create-name"), "erin"),
		chromedp.SendKeys(chromedp.ID("create-password"), "short"),
		chromedp.Click(chromedp.ID("create-submit")),
	)
	b.waitText("#create-error", "at least 8 characters")
	b.eval(`document.getElementById("create-form").reset()`)

	// 3. Search: "car" leaves carol alone.
	b.do("search for car", chromedp.SendKeys(chromedp.ID("user-search"), "car"))
	b.waitJS("only carol is listed", `[...document.querySelectorAll("#users tr[data-name]")].map(tr => tr.dataset.name).join(",") === "carol"`)
	b.waitText("#users-count", "1 user matches “car”")

	// 4. Roles: a dialog; carol gets "ops".
	b.do("edit carol's roles", chromedp.Click(chromedp.CSS(rowSel("carol", "roles"))))
	b.waitJS("the roles dialog is open", `document.getElementById("roles-dialog").open`)
	if got := b.evalString(`document.activeElement.id + "|" + document.activeElement.value`); got != "roles-input|staff" {
		t.Errorf("focus in the roles dialog = %q, want roles-input|staff", got)
	}
	b.shots.takeQuick(b, "admin-roles-dialog.png")
	b.eval(`document.getElementById("roles-input").value = ""`)
	b.do("set the roles to ops",
		chromedp.SendKeys(chromedp.ID("roles-input"), "ops"),
		chromedp.Click(chromedp.ID("roles-submit")),
	)
	b.waitJS("the roles dialog is closed", `!document.getElementById("roles-dialog").open`)
	b.waitText("#users-done", "carol now has the roles ops")
	b.waitJS("carol's row shows ops", fmt.Sprintf(`[...document.querySelectorAll(%q)].map(li => li.textContent).join(",") === "ops"`, rowSel("carol")+" .chips li"))
	if got := b.evalString(`document.activeElement.dataset.action + " " + document.activeElement.closest("tr").dataset.name`); got != "roles carol" {
		t.Errorf("focus after the roles dialog = %q, want carol's roles button", got)
	}
	if r := adminAPI(t, adminTok, "GET", base+"/admin/users?q=carol", nil); !strings.Contains(string(r.body), `"roles":["ops"]`) {
		t.Errorf("GET /admin/users?q=carol after the change: %d %s, want roles [ops]", r.status, r.body)
	}

	// 5. Disable carol: she cannot log in; enable: she can.
	b.do("disable carol", chromedp.Click(chromedp.CSS(rowSel("carol", "toggle"))))
	b.waitText("#users-done", "carol is disabled")
	b.waitVisible(rowSel("carol") + ".is-disabled")
	b.waitText(rowSel("carol", "toggle"), "Enable")
	if out, code := Login(t, base, "carol", carolPassword); code != http.StatusBadRequest {
		t.Errorf("login as disabled carol: %d %v, want 400", code, out)
	}
	b.do("enable carol", chromedp.Click(chromedp.CSS(rowSel("carol", "toggle"))))
	b.waitText("#users-done", "carol is enabled again")
	b.waitText(rowSel("carol", "toggle"), "Disable")
	if got := b.evalString(`document.activeElement.dataset.action + " " + document.activeElement.closest("tr").dataset.name`); got != "toggle carol" {
		t.Errorf("focus after enabling = %q, want carol's status button", got)
	}
	loginToken(t, base, "carol", carolPassword)

	// 6. Reset carol's password in a dialog: the old one fails, the new works.
	b.do("reset carol's password", chromedp.Click(chromedp.CSS(rowSel("carol", "password"))))
	b.waitJS("the password dialog is open", `document.getElementById("password-dialog").open`)
	b.waitText("#password-dialog-lead", "signs carol out everywhere")
	if got := b.evalString(`document.activeElement.id`); got != "reset-password" {
		t.Errorf("focus in the password dialog = %q, want reset-password", got)
	}
	b.do("type two different passwords",
		chromedp.SendKeys(chromedp.ID("reset-password"), carolReset),
		chromedp.SendKeys(chromedp.ID("reset-confirm"), carolReset+"!"),
		chromedp.Click(chromedp.ID("reset-submit")),
	)
	b.waitText("#reset-error", "do not match")
	b.eval(`document.getElementById("reset-confirm").value = ""`)
	b.do("confirm the password",
		chromedp.SendKeys(chromedp.ID("reset-confirm"), carolReset),
		chromedp.Click(chromedp.ID("reset-submit")),
	)
	b.waitJS("the password dialog is closed", `!document.getElementById("password-dialog").open`)
	b.waitText("#users-done", "The password of carol was reset")
	if out, code := Login(t, base, "carol", carolPassword); code != http.StatusBadRequest {
		t.Errorf("login as carol with the old password: %d %v, want 400", code, out)
	}
	loginToken(t, base, "carol", carolReset)

	// 7. Sign carol out everywhere: the one session of the login above.
	b.do("sign carol out everywhere", chromedp.Click(chromedp.CSS(rowSel("carol", "signout"))))
	b.waitText("#users-done", "Signed carol out everywhere: 1 session ended")

	// 8. The admin cannot disable themselves: the 409 "self" is shown.
	b.eval(`(() => { const s = document.getElementById("user-search"); s.value = ""; s.dispatchEvent(new Event("input")); })()`)
	b.waitJS("all users are listed again", `document.querySelectorAll("#users tr[data-name]").length === 3`)
	b.do("disable admin", chromedp.Click(chromedp.CSS(rowSel("admin", "toggle"))))
	b.waitText("#users-error", "You cannot disable your own account")
	b.waitText(rowSel("admin", "toggle"), "Disable")

	// 9. Rotate the signing key: a pending key, and two keys in the JWKS
	// (four: the RS256 id_token key rotates with it).
	b.do("rotate the key", chromedp.Click(chromedp.ID("rotate")))
	b.waitText("#keys-done", "It signs from")
	b.waitJS("the keys table shows a pending key", `!!document.querySelector('#keys tr[data-state="pending"]') && !!document.querySelector('#keys tr[data-state="active"]')`)
	b.waitText(`#keys tr[data-state="pending"]`, "pending")
	var jwks struct {
		Keys []map[string]any `json:"keys"`
	}
	r := send(t, "GET", base+"/.well-known/jwks.json", nil)
	if err := json.Unmarshal(r.body, &jwks); err != nil || len(jwks.Keys) != 4 {
		t.Errorf("JWKS after the rotation: %d %s, want 4 keys (EdDSA and RS256, current and pending)", r.status, r.body)
	}

	// 10. The audit log shows what happened; the filter narrows it.
	b.waitText("#audit", "key.rotated")
	b.waitText("#audit", "user.created")
	b.waitText("#audit", "user.password_reset")
	b.eval(`(() => { const s = document.getElementById("audit-type"); s.value = "user.created"; s.dispatchEvent(new Event("change")); })()`)
	b.waitJS("only user.created events", `(() => { const rows = [...document.querySelectorAll("#audit tr[data-type]")];
		return rows.length === 3 && rows.every(tr => tr.dataset.type === "user.created"); })()`)
	b.waitText("#audit-count", "3 events of type user.created")
	b.eval(`(() => { const s = document.getElementById("audit-type"); s.value = ""; s.dispatchEvent(new Event("change")); })()`)
	b.waitJS("all events again", `new Set([...document.querySelectorAll("#audit tr[data-type]")].map(tr => tr.dataset.type)).size > 3`)

	// The picture, at rest: no hover, no focus ring, no notices.
	b.eval(`["users-done", "users-error", "keys-done"].forEach(id => document.getElementById(id).replaceChildren())`)
	b.do("move the mouse away", chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, 1, 1))
	b.eval(`document.activeElement && document.activeElement.blur()`)
	b.shots.takeFull(b, "admin.png", true)
	b.checkFits(360, 740)

	// A name that is markup shows as text, in the users table and in the
	// audit log: no element came of it.
	if r := adminAPI(t, adminTok, "POST", base+"/admin/users", map[string]any{"name": trickyName, "password": "tricky-password-1"}); r.status != http.StatusCreated {
		t.Fatalf("POST /admin/users %s: %d %s", trickyName, r.status, r.body)
	}
	b.do("reload the users", chromedp.Click(chromedp.ID("users-reload")))
	b.do("reload the audit log", chromedp.Click(chromedp.ID("audit-reload")))
	b.waitVisible(rowSel(trickyName))
	b.waitText("#audit", trickyName)
	if got := b.evalString(fmt.Sprintf(`document.querySelector(%q).textContent`, rowSel(trickyName)+" .user-cell-name")); got != trickyName {
		t.Errorf("the markup name shows as %q, want %q", got, trickyName)
	}
	if got := b.evalString(`String(document.querySelectorAll("#injected, #admin img").length)`); got != "0" {
		t.Errorf("%s became %s element(s): server text must go in with textContent", trickyName, got)
	}
	if r := adminAPI(t, adminTok, "DELETE", base+"/admin/users/"+url.PathEscape(trickyName), nil); r.status != http.StatusNoContent {
		t.Fatalf("DELETE %s: %d %s", trickyName, r.status, r.body)
	}
	b.do("reload the users", chromedp.Click(chromedp.ID("users-reload")))
	b.waitJS("the markup name is gone", fmt.Sprintf(`!document.querySelector(%q)`, rowSel(trickyName)))

	// The audit log goes back page by page (before=): 50 events more over
	// HTTP fill the newest page, and "Older events" shows the rest.
	for i := 0; i < 50; i++ {
		if r := adminAPI(t, adminTok, "DELETE", base+"/admin/users/dave/sessions", nil); r.status != http.StatusOK {
			t.Fatalf("DELETE /admin/users/dave/sessions: %d %s", r.status, r.body)
		}
	}
	b.do("reload the audit log", chromedp.Click(chromedp.ID("audit-reload")))
	b.waitJS("a full page of events", `document.querySelectorAll("#audit tr[data-id]").length === 50 && !document.getElementById("audit-more").hidden`)
	b.waitText("#audit-count", "The latest 50 events")
	b.do("show older events", chromedp.Click(chromedp.ID("audit-more")))
	b.waitJS("the older events are there", `document.getElementById("audit-more").hidden && document.querySelectorAll("#audit tr[data-id]").length > 50`)
	b.waitText("#audit-count", "all there are")
	if got := b.evalString(`(() => { const ids = [...document.querySelectorAll("#audit tr[data-id]")].map(tr => Number(tr.dataset.id));
		return ids.every((id, i) => i === 0 || id < ids[i - 1]) ? "ok" : ids.join(","); })()`); got != "ok" {
		t.Errorf("audit event ids, newest first without repeats: %s", got)
	}
	if got := b.evalString(`document.activeElement.id`); got != "audit-title" {
		t.Errorf("focus after the last page of events = %q, want the log's heading", got)
	}

	// The users table pages by 10: ten more users over HTTP make two pages.
	for i := 1; i <= 10; i++ {
		u := map[string]any{"name": fmt.Sprintf("user%02d", i), "password": "user-password-1"}
		if r := adminAPI(t, adminTok, "POST", base+"/admin/users", u); r.status != http.StatusCreated {
			t.Fatalf("POST /admin/users %v: %d %s", u["name"], r.status, r.body)
		}
	}
	b.do("reload the users", chromedp.Click(chromedp.ID("users-reload")))
	b.waitText("#users-page", "1–10 of 13")
	b.waitVisible("#users-pager")
	b.do("next page", chromedp.Click(chromedp.ID("users-next")))
	b.waitText("#users-page", "11–13 of 13")
	if got := b.evalString(`[...document.querySelectorAll("#users tr[data-name]")].map(tr => tr.dataset.name).join(",") + " " +
		document.getElementById("users-next").disabled + " " + document.activeElement.id`); got != "user08,user09,user10 true users-prev" {
		t.Errorf("the second page: names, Next disabled, focus = %q, want user08,user09,user10 true users-prev", got)
	}
	b.do("previous page", chromedp.Click(chromedp.ID("users-prev")))
	b.waitText("#users-page", "1–10 of 13")

	// 11. Delete carol: a dialog that wants her name typed. Escape first.
	b.do("open the delete dialog", chromedp.Click(chromedp.CSS(rowSel("carol", "delete"))))
	b.waitJS("the delete dialog is open", `document.getElementById("delete-dialog").open`)
	b.do("press Escape", chromedp.KeyEvent(kb.Escape))
	b.waitJS("the delete dialog is closed", `!document.getElementById("delete-dialog").open`)
	if got := b.evalString(`document.activeElement.dataset.action + " " + document.activeElement.closest("tr").dataset.name`); got != "delete carol" {
		t.Errorf("focus after Escape = %q, want carol's delete button", got)
	}
	b.do("open the delete dialog again", chromedp.Click(chromedp.CSS(rowSel("carol", "delete"))))
	b.waitJS("the delete dialog is open", `document.getElementById("delete-dialog").open`)
	b.waitText("#delete-dialog-title", "Delete carol?")
	if got := b.evalString(`document.activeElement.id + " " + document.getElementById("delete-submit").disabled`); got != "delete-confirm true" {
		t.Errorf("delete dialog: focus and submit disabled = %q, want delete-confirm true", got)
	}
	b.do("type carol", chromedp.SendKeys(chromedp.ID("delete-confirm"), "carol"))
	b.waitJS("Delete is enabled", `!document.getElementById("delete-submit").disabled`)
	b.shots.takeQuick(b, "admin-delete-dialog.png")
	b.do("delete carol", chromedp.Click(chromedp.ID("delete-submit")))
	b.waitJS("the delete dialog is closed", `!document.getElementById("delete-dialog").open`)
	b.waitText("#users-done", "Deleted carol")
	b.waitJS("carol is gone", fmt.Sprintf(`!document.querySelector(%q)`, rowSel("carol")))
	b.waitText("#users-count", "12 users")
	if got := b.evalString(`document.activeElement.id`); got != "users-title" {
		t.Errorf("focus after deleting carol = %q, want the users heading", got)
	}
	if out, code := Login(t, base, "carol", carolReset); code != http.StatusBadRequest {
		t.Errorf("login as deleted carol: %d %v, want 400", code, out)
	}
	b.do("reload the audit log", chromedp.Click(chromedp.ID("audit-reload")))
	b.waitText("#audit", "user.deleted")

	b.checkWatchAllowing("admin", []allowedHTTPError{
		{"/admin/users", http.StatusConflict},               // Carol: the name is taken
		{"/admin/users/admin/disable", http.StatusConflict}, // you cannot disable yourself
	},
		"GET /admin", "GET /assets/lib/session.js", "GET /assets/admin.js",
		"GET /admin/users", "POST /admin/users", "PUT /admin/users/carol/roles",
		"POST /admin/users/carol/disable", "POST /admin/users/carol/enable", "POST /admin/users/carol/password",
		"DELETE /admin/users/carol/sessions", "DELETE /admin/users/carol", "POST /admin/users/admin/disable",
		"GET /admin/keys", "POST /admin/keys/rotate", "GET /admin/audit",
	)

	// 12. dave, without the admin role, in a second profile. Logged out,
	// /admin goes to the login page like the home page does.
	d := b.newProfile()
	d.do("dave opens /admin", chromedp.Navigate(base+"/admin"))
	d.waitText("#status", "Not logged in")
	d.waitPath("/login")
	d.do("dave logs in",
		chromedp.SendKeys(chromedp.ID("name"), "dave"),
		chromedp.SendKeys(chromedp.ID("password"), davePassword),
		chromedp.Click(chromedp.ID("submit")),
	)
	d.waitPath("/")
	d.waitText("#status", "Logged in as dave")
	if got := d.evalString(`String(document.getElementById("admin-link").closest("nav").hidden)`); got != "true" {
		t.Errorf("dave's home page: Admin link hidden = %s, want true", got)
	}
	d.do("dave opens /admin", chromedp.Navigate(base+"/admin"))
	d.waitText("#status", "You need the admin role")
	d.waitText("#forbidden-message", "You are logged in as dave")
	d.waitVisible("#go-home")
	if got := d.evalString(`String(document.getElementById("admin").hidden) + " " + document.getElementById("go-home").getAttribute("href")`); got != "true /" {
		t.Errorf("dave's admin page: admin hidden and home link = %q, want true /", got)
	}
	d.shots.takeQuick(d, "admin-forbidden.png")
	// The page made no admin call; the API refuses one anyway.
	calls := func() []string {
		var out []string
		for _, l := range d.watch.responseLog() {
			if strings.Contains(l, " /admin/") {
				out = append(out, l)
			}
		}
		return out
	}
	if c := calls(); len(c) != 0 {
		t.Errorf("dave's admin page called the admin API: %v", c)
	}
	status, err := chromedp.Run(d.ctx, chromedp.Evaluate[string](`fetch("/admin/users", {cache: "no-store"}).then(r => String(r.status))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch /admin/users from dave's page: %v", err)
	}
	if status != "403" {
		t.Errorf("GET /admin/users from dave's page = %s, want 403", status)
	}
	for _, c := range calls() {
		if !strings.HasSuffix(c, " 403") {
			t.Errorf("dave: %s, want every /admin/ request answered 403", c)
		}
	}
	d.checkWatchAllowing("dave", []allowedHTTPError{{"/admin/users", http.StatusForbidden}},
		"GET /admin", "GET /user", "POST /login")

	t.Logf("admin flow took %v", time.Since(started).Round(100*time.Millisecond))
}
