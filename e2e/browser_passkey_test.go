package e2e

import (
	"net"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// WebAuthn needs a domain name: browsers refuse an IP address as the
// relying party, and so does jwtgate (it runs without passkeys then). The
// passkey tests run the server with the issuer http://localhost:PORT, a
// secure context for Chromium without TLS, and browse it there.

// startLocalhostServer runs jwtgate --demo on 127.0.0.1 with the public
// URL http://localhost:PORT, plus args; it returns the server and that URL.
func startLocalhostServer(t *testing.T, args ...string) (*Server, string) {
	t.Helper()
	addr := freeAddr(t)
	_, port, _ := net.SplitHostPort(addr)
	base := "http://localhost:" + port
	srv := StartServer(t, "", append([]string{"--demo", "--addr", addr, "--issuer", base}, args...))
	return srv, base
}

// addAuthenticator gives the tab a virtual platform authenticator, as a
// laptop's fingerprint reader: CTAP2, internal transport, discoverable
// credentials, user verification that succeeds, presence confirmed at
// once. It returns its ID.
func (b *browser) addAuthenticator() webauthn.AuthenticatorID {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		b.t.Fatalf("WebAuthn.enable: %v", err)
	}
	res, err := chromedp.Call(b.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol:                    webauthn.AuthenticatorProtocolCtap2,
			Ctap2version:                webauthn.Ctap2versionCtap21,
			Transport:                   webauthn.AuthenticatorTransportInternal,
			HasResidentKey:              true,
			HasUserVerification:         true,
			IsUserVerified:              true,
			AutomaticPresenceSimulation: true,
		},
	})
	if err != nil {
		b.t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	return res.AuthenticatorID
}

// credentials returns the credentials the virtual authenticator holds.
func (b *browser) credentials(id webauthn.AuthenticatorID) []*webauthn.Credential {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
	if err != nil {
		b.t.Fatalf("WebAuthn.getCredentials: %v", err)
	}
	return res.Credentials
}

// checkPageHealth asserts that the tab saw no CSP violation and no
// console error other than the 4xx answers the flow asks for, and that
// every request stayed on base's host.
func (b *browser) checkPageHealth(who, base string) {
	b.t.Helper()
	if got := b.evalString(`JSON.stringify(window.__cspViolations || [])`); got != "[]" {
		b.t.Errorf("%s: CSP violations in the last document: %s", who, got)
	}
	requests, consoleErrors, _, violations := b.watch.snapshot()
	host := strings.TrimPrefix(base, "http://")
	for _, r := range requests {
		_, raw, _ := strings.Cut(r, " ")
		if strings.HasPrefix(raw, "data:") {
			continue
		}
		if u, err := url.Parse(raw); err != nil || u.Host != host {
			b.t.Errorf("%s: request left the server: %s", who, r)
		}
	}
	for _, e := range consoleErrors {
		b.t.Errorf("%s: console error: %s", who, e)
	}
	for _, v := range violations {
		b.t.Errorf("%s: CSP violation: %s", who, v)
	}
}

// TestBrowserPasskeys registers a passkey on the home page with Chromium's
// virtual authenticator, renames it, logs out, and signs in with the
// passkey alone.
func TestBrowserPasskeys(t *testing.T) {
	srv, base := startLocalhostServer(t)
	b := startBrowser(t, srv.Stderr, base, 90*time.Second)
	auth := b.addAuthenticator()

	b.login("admin", "1234")
	b.waitVisible("#passkeys-card")
	b.waitText("#passkeys", "No passkeys yet.")

	// 1. Add a passkey: the browser asks the authenticator, which makes a
	// discoverable credential for this site.
	b.do("name and add a passkey",
		chromedp.SendKeys(chromedp.ID("passkey-name"), "Laptop"),
		chromedp.Click(chromedp.ID("passkey-add")),
	)
	b.waitText("#passkeys-done", "Added Laptop")
	b.waitText("#passkeys", "Laptop")
	b.waitText("#passkeys", "never used")
	b.shots.takeQuick(b, "home-passkeys.png")
	creds := b.credentials(auth)
	if len(creds) != 1 {
		t.Fatalf("the authenticator holds %d credentials, want 1", len(creds))
	}
	if !creds[0].IsResidentCredential || creds[0].RpID != "localhost" {
		t.Errorf("credential: resident %v, RP ID %q; want a discoverable credential for localhost", creds[0].IsResidentCredential, creds[0].RpID)
	}
	if got := b.evalString(`document.getElementById("passkey-name").value`); got != "" {
		t.Errorf("the name field after adding = %q, want it cleared", got)
	}

	// A second one is a step-up change: the password-only session must
	// give a code or sign in again with the passkey, and the page asks so.
	b.do("add another", chromedp.Click(chromedp.ID("passkey-add")))
	b.waitText("#passkeys-error", "This change needs a fresh second factor")
	b.waitVisible("#passkey-code")

	// 2. Rename it in place.
	b.do("rename", chromedp.Click(chromedp.CSS("#passkeys .passkey-rename")))
	b.waitVisible("#passkeys .rename-input")
	if got := b.evalString(`document.activeElement && document.activeElement.className`); got != "rename-input" {
		t.Errorf("focus after Rename = %q, want the name field", got)
	}
	b.eval(`document.querySelector("#passkeys .rename-input").value = ""`)
	b.do("type the new name and save",
		chromedp.SendKeys(chromedp.CSS("#passkeys .rename-input"), "Work laptop\n"),
	)
	b.waitText("#passkeys-done", "Renamed to Work laptop")
	b.waitText("#passkeys .passkey-name", "Work laptop")

	// 3. Log out, and sign in with the passkey alone.
	b.do("log out", chromedp.Click(chromedp.ID("logout")))
	b.waitPath("/login")
	b.waitVisible("#passkey-login")
	b.shots.takeQuick(b, "login-passkey.png")
	b.do("sign in with a passkey", chromedp.Click(chromedp.ID("passkey-login")))
	b.waitPath("/")
	b.waitText("#status", "Logged in as admin")
	b.waitText("#passkeys", "last used")
	if got := b.userAMR(); got != "swk user mfa" && got != "hwk user mfa" {
		t.Errorf("amr after a passkey sign-in = %q, want hwk or swk, user, mfa", got)
	}

	// Fresh from a sign-in with a second factor, adding needs no code; the
	// browser itself refuses this authenticator again (the server excludes
	// the credentials the user has).
	b.do("add the same authenticator again", chromedp.Click(chromedp.ID("passkey-add")))
	b.waitText("#passkeys-error", "holds one of your passkeys already")
	if n := len(b.credentials(auth)); n != 1 {
		t.Errorf("the authenticator holds %d credentials, want still 1", n)
	}

	// 4. The password now asks for the second factor on the same page:
	// the passkey (no code field: the account has no authenticator app).
	b.do("log out", chromedp.Click(chromedp.ID("logout")))
	b.waitPath("/login")
	b.waitVisible("#login-form")
	b.eval(`window.__samePage = "yes"`)
	b.do("log in with the password",
		chromedp.SendKeys(chromedp.ID("name"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), "1234"),
		chromedp.Click(chromedp.ID("submit")),
	)
	b.waitVisible("#mfa-passkey")
	if got := b.evalString(`window.__samePage + " " + location.pathname + " " + document.getElementById("login-form").hidden + " " + document.getElementById("mfa-code-field").hidden`); got != "yes /login true true" {
		t.Errorf("after the password: %q, want the same /login document, the password form hidden, no code field", got)
	}
	if got := b.evalString(`document.activeElement && document.activeElement.id`); got != "mfa-passkey" {
		t.Errorf("focus on the second step = %q, want the passkey button", got)
	}
	b.shots.takeQuick(b, "login-second-step-passkey.png")
	b.do("use the passkey", chromedp.Click(chromedp.ID("mfa-passkey")))
	b.waitPath("/")
	b.waitText("#status", "Logged in as admin")
	if got := b.userAMR(); got != "pwd swk user mfa" && got != "pwd hwk user mfa" {
		t.Errorf("amr after password and passkey = %q, want pwd, hwk or swk, user, mfa", got)
	}

	// 5. Delete it (fresh second factor: no code needed), then it signs in
	// no more.
	b.waitVisible("#passkeys .passkey-delete")
	b.do("delete", chromedp.Click(chromedp.CSS("#passkeys .passkey-delete")))
	b.waitVisible("#passkeys .passkey-confirm-delete")
	b.do("confirm", chromedp.Click(chromedp.CSS("#passkeys .passkey-confirm-delete")))
	b.waitText("#passkeys-done", "Deleted Work laptop")
	b.waitText("#passkeys", "No passkeys yet.")
	b.do("log out", chromedp.Click(chromedp.ID("logout")))
	b.waitPath("/login")
	b.waitVisible("#passkey-login")
	b.do("sign in with the deleted passkey", chromedp.Click(chromedp.ID("passkey-login")))
	b.waitText("#login-error", "That passkey was not accepted here")

	b.checkPageHealth("passkeys", base)
}

// userAMR reads the session's amr (GET /user/factors) from the page.
func (b *browser) userAMR() string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`fetch("/user/factors", {cache: "no-store", headers: {Accept: "application/json"}})
		.then((r) => r.json()).then((f) => (f.amr || []).join(" "))`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("GET /user/factors from the page: %v", err)
	}
	return v
}

// TestBrowserRequireMFA: with --require-mfa-for admin, the admin's
// password-only session shows only the second-factor panels and says why;
// a passkey added there, the next sign-in with it reaches everything.
func TestBrowserRequireMFA(t *testing.T) {
	srv, base := startLocalhostServer(t, "--require-mfa-for", "admin")
	b := startBrowser(t, srv.Stderr, base, 60*time.Second)
	b.addAuthenticator()

	b.login("admin", "1234")
	b.waitVisible("#mfa-required")
	b.waitText("#mfa-required", "Your account must use a second factor")
	if got := b.evalString(`["sessions-card", "password-card", "totp-card", "passkeys-card"].map((id) => id + "=" + !document.getElementById(id).hidden).join(" ")`); got != "sessions-card=false password-card=false totp-card=true passkeys-card=true" {
		t.Errorf("panels of a confined session: %s, want only the second-factor ones", got)
	}
	b.do("add a passkey",
		chromedp.SendKeys(chromedp.ID("passkey-name"), "Laptop"),
		chromedp.Click(chromedp.ID("passkey-add")),
	)
	b.waitText("#passkeys-done", "Added Laptop")

	b.do("log out", chromedp.Click(chromedp.ID("logout")))
	b.waitPath("/login")
	b.waitVisible("#passkey-login")
	b.do("sign in with the passkey", chromedp.Click(chromedp.ID("passkey-login")))
	b.waitPath("/")
	b.waitText("#sessions", "This device")
	if got := b.evalString(`String(document.getElementById("mfa-required").hidden) + " " + String(document.getElementById("password-card").hidden)`); got != "true false" {
		t.Errorf("after signing in with the passkey: notice hidden, password panel hidden = %s, want true false", got)
	}
	b.checkPageHealth("require-mfa", base)
}
