package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/jwtgate/jwtgate/internal/oidc"
	"github.com/jwtgate/jwtgate/internal/sqlite"
)

// clientRowSel is the CSS selector of an app's row in the admin page's
// apps table, or of a button in it.
func clientRowSel(name string, action ...string) string {
	sel := fmt.Sprintf(`#clients tr[data-name=%q]`, name)
	if len(action) > 0 {
		sel += fmt.Sprintf(` button[data-action=%q]`, action[0])
	}
	return sel
}

// TestBrowserAdminClients runs the admin page's apps panel against the real
// binary: a refused registration names its problem at the field; a
// confidential app shows its secret once, and that secret (read back from
// the page) is the one the server's store accepts; a public app shows
// none; a new secret replaces the old one after a confirmation; a deletion
// removes the app. Each step is checked over HTTP or in the store, and a
// name that is markup stays text.
func TestBrowserAdminClients(t *testing.T) {
	srv := StartServer(t, "", []string{"--demo"})
	base := srv.URL
	b := newBrowser(t, srv, 60*time.Second)
	adminTok := loginToken(t, base, "admin", "1234")

	store, err := sqlite.Open(context.Background(), filepath.Join(srv.Dir, "jwtgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	registry := oidc.NewClients(store, nil, nil)
	authenticates := func(id, secret string) bool {
		_, err := registry.Authenticate(context.Background(), id, secret)
		return err == nil
	}
	listed := func() map[string]map[string]any {
		r := adminAPI(t, adminTok, "GET", base+"/admin/clients", nil)
		var out struct {
			Clients []map[string]any `json:"clients"`
		}
		if err := json.Unmarshal(r.body, &out); r.status != http.StatusOK || err != nil {
			t.Fatalf("GET /admin/clients: %d %s", r.status, r.body)
		}
		m := map[string]map[string]any{}
		for _, c := range out.Clients {
			m[c["name"].(string)] = c
		}
		return m
	}

	b.login("admin", "1234")
	b.do("open /admin", chromedp.Navigate(base+"/admin"))
	b.waitVisible("#admin")
	b.waitText("#clients", "No apps are registered.")

	// A plain-http redirect URI is refused by the server; the page says
	// why at the field.
	b.do("register with a plain-http redirect URI",
		chromedp.SendKeys(chromedp.ID("client-name"), "wiki"),
		chromedp.SendKeys(chromedp.ID("client-redirects"), "http://wiki.example.test/oauth2/callback"),
		chromedp.Click(chromedp.ID("client-submit")),
	)
	b.waitText("#client-error", "plain http is allowed only on a loopback address")
	if got := b.evalString(`document.activeElement.id + " " + document.activeElement.getAttribute("aria-invalid")`); got != "client-redirects true" {
		t.Errorf("after a refused redirect URI, focus and aria-invalid = %q, want client-redirects true", got)
	}
	if got := listed(); len(got) != 0 {
		t.Fatalf("a refused registration stored %v", got)
	}

	// A confidential app, with two redirect URIs and a logout URI.
	b.eval(`document.getElementById("client-redirects").value = ""`)
	b.do("register wiki",
		chromedp.SendKeys(chromedp.ID("client-redirects"), "https://wiki.example.test/oauth2/callback\nhttps://wiki.example.test/alt"),
		chromedp.SendKeys(chromedp.ID("client-post-logout"), "https://wiki.example.test/"),
		chromedp.Click(chromedp.ID("client-submit")),
	)
	b.waitText("#clients-done", "Registered wiki.")
	b.waitVisible(clientRowSel("wiki"))
	wikiID := b.evalString(`document.querySelector("#clients-done .client-id-shown").textContent`)
	secret := b.evalString(`document.querySelector("#clients-done .client-secret").textContent`)
	if len(secret) < 40 || !authenticates(wikiID, secret) {
		t.Fatalf("the secret the page shows (%q) does not authenticate client %q", secret, wikiID)
	}
	wiki := listed()["wiki"]
	if wiki == nil || wiki["client_id"] != wikiID || wiki["public"] != false || wiki["trusted"] != false ||
		fmt.Sprint(wiki["redirect_uris"]) != "[https://wiki.example.test/oauth2/callback https://wiki.example.test/alt]" ||
		fmt.Sprint(wiki["post_logout_redirect_uris"]) != "[https://wiki.example.test/]" {
		t.Errorf("GET /admin/clients wiki = %v", wiki)
	}
	if got := b.evalString(`document.getElementById("client-name").value + "|" + document.getElementById("client-redirects").value`); got != "|" {
		t.Errorf("the form after success = %q, want it emptied", got)
	}
	b.waitText(clientRowSel("wiki"), wikiID)
	b.waitText(clientRowSel("wiki"), "Confidential")
	// The list never shows a secret.
	b.do("reload the apps", chromedp.Click(chromedp.ID("clients-reload")))
	b.waitVisible(clientRowSel("wiki"))
	if got := b.evalString(`document.getElementById("clients").textContent`); strings.Contains(got, secret) {
		t.Error("the apps table shows the secret")
	}

	// A public, trusted app: no secret, no "New secret" button.
	b.do("register a public app",
		chromedp.SendKeys(chromedp.ID("client-name"), "desktop"),
		chromedp.SendKeys(chromedp.ID("client-redirects"), "http://127.0.0.1/callback"),
		chromedp.Click(chromedp.ID("client-public")),
		chromedp.Click(chromedp.ID("client-trusted")),
		chromedp.Click(chromedp.ID("client-submit")),
	)
	b.waitText("#clients-done", "Registered desktop.")
	b.waitText(clientRowSel("desktop"), "Public, trusted")
	if got := b.evalString(`String(!!document.querySelector("#clients-done .client-secret")) + " " + String(!!document.querySelector(` +
		fmt.Sprintf("%q", clientRowSel("desktop", "rotate")) + `))`); got != "false false" {
		t.Errorf("public app: secret shown, rotate button = %s, want false false", got)
	}
	if d := listed()["desktop"]; d == nil || d["public"] != true || d["trusted"] != true {
		t.Errorf("GET /admin/clients desktop = %v, want public and trusted", d)
	}

	// The same name again (other case) is refused: 409, said at the name.
	b.do("register Wiki again",
		chromedp.SendKeys(chromedp.ID("client-name"), "Wiki"),
		chromedp.SendKeys(chromedp.ID("client-redirects"), "https://other.example.test/cb"),
		chromedp.Click(chromedp.ID("client-submit")),
	)
	b.waitText("#client-error", "A client named Wiki already exists")
	if got := b.evalString(`document.activeElement.id`); got != "client-name" {
		t.Errorf("focus after a taken name = %q, want client-name", got)
	}
	b.eval(`document.getElementById("client-form").reset()`)

	// A new secret: a confirmation first (Escape backs out, giving the
	// focus back), then the new secret once; the old one stops working.
	b.do("ask for a new secret", chromedp.Click(chromedp.CSS(clientRowSel("wiki", "rotate"))))
	b.waitJS("the confirmation is open", `document.getElementById("client-dialog").open`)
	b.waitText("#client-dialog-title", "New secret for wiki?")
	b.shots.takeQuick(b, "admin-client-dialog.png")
	b.do("press Escape", chromedp.KeyEvent(kb.Escape))
	b.waitJS("the confirmation is closed", `!document.getElementById("client-dialog").open`)
	if got := b.evalString(`document.activeElement.dataset.action + " " + document.activeElement.closest("tr").dataset.name`); got != "rotate wiki" {
		t.Errorf("focus after Escape = %q, want wiki's rotate button", got)
	}
	if !authenticates(wikiID, secret) {
		t.Fatal("backing out of the confirmation changed the secret")
	}
	b.do("ask for a new secret again", chromedp.Click(chromedp.CSS(clientRowSel("wiki", "rotate"))))
	b.waitJS("the confirmation is open", `document.getElementById("client-dialog").open`)
	b.do("confirm", chromedp.Click(chromedp.ID("client-dialog-submit")))
	b.waitText("#clients-done", "wiki has a new secret; the old one no longer works.")
	newSecret := b.evalString(`document.querySelector("#clients-done .client-secret").textContent`)
	if newSecret == secret || !authenticates(wikiID, newSecret) || authenticates(wikiID, secret) {
		t.Errorf("after rotation: new secret differs %v, works %v; old works %v; want true, true, false",
			newSecret != secret, authenticates(wikiID, newSecret), authenticates(wikiID, secret))
	}

	// Delete the public app.
	b.do("delete desktop", chromedp.Click(chromedp.CSS(clientRowSel("desktop", "delete"))))
	b.waitJS("the confirmation is open", `document.getElementById("client-dialog").open`)
	b.waitText("#client-dialog-title", "Delete desktop?")
	b.do("confirm", chromedp.Click(chromedp.ID("client-dialog-submit")))
	b.waitText("#clients-done", "desktop is deleted.")
	b.waitJS("desktop is gone", fmt.Sprintf(`!document.querySelector(%q)`, clientRowSel("desktop")))
	if _, ok := listed()["desktop"]; ok {
		t.Error("GET /admin/clients still lists desktop after the page deleted it")
	}
	if got := b.evalString(`document.activeElement.id`); got != "clients-title" {
		t.Errorf("focus after deleting desktop = %q, want the apps heading", got)
	}

	// The audit log has the three kinds of event.
	b.do("reload the audit log", chromedp.Click(chromedp.ID("audit-reload")))
	for _, ev := range []string{"client.created", "client.secret_rotated", "client.deleted"} {
		b.waitText("#audit", ev)
	}

	// A name that is markup shows as text.
	const tricky = `<img src=x id=injected-client>`
	if r := adminAPI(t, adminTok, "POST", base+"/admin/clients", map[string]any{"name": tricky, "redirect_uris": []string{"https://x.example.test/cb"}}); r.status != http.StatusCreated {
		t.Fatalf("POST /admin/clients %s: %d %s", tricky, r.status, r.body)
	}
	b.do("reload the apps", chromedp.Click(chromedp.ID("clients-reload")))
	b.waitVisible(clientRowSel(tricky))
	if got := b.evalString(`String(document.querySelectorAll("#injected-client").length) + " " + document.querySelector(` +
		fmt.Sprintf("%q", clientRowSel(tricky)+" th") + `).textContent`); got != "0 "+tricky {
		t.Errorf("the markup name: elements made, text = %q, want 0 and the text", got)
	}

	b.eval(`["clients-done", "clients-error"].forEach(id => document.getElementById(id).replaceChildren())`)
	b.eval(`document.activeElement && document.activeElement.blur()`)
	b.do("scroll to the apps", chromedp.ScrollIntoView(chromedp.ID("clients-card")))
	b.shots.takeQuick(b, "admin-clients.png")
	b.checkFits(360, 740)

	b.checkWatchAllowing("admin clients", []allowedHTTPError{
		{"/admin/clients", http.StatusBadRequest}, // the plain-http redirect URI
		{"/admin/clients", http.StatusConflict},   // Wiki: the name is taken
	},
		"GET /admin", "GET /assets/admin/clients.js", "GET /admin/clients", "POST /admin/clients",
		"POST /admin/clients/"+wikiID+"/secret", "GET /admin/audit",
	)
}
