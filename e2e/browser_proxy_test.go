package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// TestBrowserForwardAuthNginx and TestBrowserForwardAuthCaddy drive
// Chromium through a real proxy running the shipped deploy/ config, with
// jwtgate on auth.example.test and an app on app.example.test (issue 12
// §1): see browseForwardAuth for the flow.
func TestBrowserForwardAuthNginx(t *testing.T) {
	p := newProxySetup(t)
	startNginx(t, p, shippedNginx(t, p), nil)
	browseForwardAuth(t, p)
}

func TestBrowserForwardAuthCaddy(t *testing.T) {
	p := newProxySetup(t)
	startCaddy(t, p)
	browseForwardAuth(t, p)
}

// browseForwardAuth is the flow a user of a forward-auth deployment sees:
// open the app logged out → land on jwtgate's login page on the other host
// → log in → land on the very app URL asked for, the app having received
// the identity headers (and not jwtgate's credentials), with the session
// cookie on the parent domain → log out on jwtgate's home page → the
// cookie is gone and the app URL asks for the login again.
func browseForwardAuth(t *testing.T, p *proxySetup) {
	b := newHostBrowser(t, p, 60*time.Second)
	page := p.appURL + "/dashboard?tab=2&q=a%20b"
	loginPage := p.loginURLFor(page)

	// 1. Logged out: the app sends the browser to the login page on the
	// auth host, with the page it wanted; the app itself saw nothing.
	before := p.app.count()
	b.do("open the app logged out", chromedp.Navigate(page))
	b.waitURL(loginPage)
	b.waitVisible("#login-form")
	if n := p.app.count(); n != before {
		t.Errorf("the app received %d requests before the login, want 0", n-before)
	}

	// 2. Log in: back on the app URL, which shows the identity it received.
	b.do("log in",
		chromedp.SendKeys(chromedp.ID("name"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), "1234"),
		chromedp.Click(chromedp.ID("submit")),
	)
	b.waitURL(page)
	b.waitJS("the app's answer", `document.body && document.body.innerText.startsWith("app: ")`)
	if body := b.evalString(`document.body.innerText`); !strings.HasPrefix(body, "app: user=admin id=") || !strings.Contains(body, "roles=admin uri=/dashboard?tab=2&q=a%20b") {
		t.Errorf("the app page shows %q, want admin's identity and the original URI", body)
	}
	seen := p.app.last(t)
	seen.checkIdentity(t, "browser")
	if seen.method != "GET" || seen.host != strings.TrimPrefix(p.appURL, "http://") {
		t.Errorf("the app saw %s for host %q, want GET for %s", seen.method, seen.host, p.appURL)
	}
	// The session cookie that did it: on the parent domain, HttpOnly, Lax.
	var shared *network.Cookie
	for _, c := range b.cookiesFor(page) {
		if c.Name == "jwtgate_access" {
			shared = c
		}
	}
	if shared == nil || (shared.Domain != ".example.test" && shared.Domain != "example.test") || !shared.HTTPOnly || shared.SameSite != network.CookieSameSiteLax {
		t.Fatalf("cookie for the app host = %+v, want jwtgate_access on example.test, HttpOnly, SameSite=Lax", shared)
	}

	// 3. Log out on jwtgate's home page.
	b.do("open jwtgate's home page", chromedp.Navigate(p.authURL+"/"))
	b.waitText("#status", "Logged in as admin")
	b.do("click Logout", chromedp.Click(chromedp.ID("logout")))
	b.waitPath("/login")
	for _, c := range b.cookiesFor(page) {
		t.Errorf("cookie %s (domain %s) still sent to the app host after logout", c.Name, c.Domain)
	}

	// 4. The app asks for the login again.
	before = p.app.count()
	b.do("open the app after logout", chromedp.Navigate(page))
	b.waitURL(loginPage)
	b.waitVisible("#login-form")
	if n := p.app.count(); n != before {
		t.Errorf("the app received %d requests after logout, want 0", n-before)
	}
	_, consoleErrors, _, violations := b.watch.snapshot()
	for _, e := range consoleErrors {
		// Plain http on a name other than localhost is not a "potentially
		// trustworthy" origin, so Chromium ignores jwtgate's
		// Cross-Origin-Opener-Policy and logs it; over https (as deployed)
		// it applies. Nothing else is allowed.
		if strings.Contains(e, "The Cross-Origin-Opener-Policy header has been ignored, because the URL's origin was untrustworthy") {
			continue
		}
		t.Errorf("console error: %s", e)
	}
	for _, v := range violations {
		t.Errorf("CSP violation: %s", v)
	}
}

// newHostBrowser starts a headless Chromium as newBrowser does (same flags),
// plus --host-resolver-rules that send every *.example.test name to
// loopback, where the proxy listens: real-looking names under one parent
// domain, as a cookie Domain needs (browsers refuse Domain=localhost).
// b.base is the auth host's URL, for waitPath.
func newHostBrowser(t *testing.T, p *proxySetup, limit time.Duration) *browser {
	t.Helper()
	return startBrowser(t, p.jwtgate.Stderr, p.authURL, limit)
}

// waitURL waits until the tab shows exactly the URL want, loaded.
func (b *browser) waitURL(want string) {
	b.t.Helper()
	b.waitLoaded(want, func(href string) bool { return href == want })
}

// cookiesFor returns the cookies the tab would send to rawURL.
func (b *browser) cookiesFor(rawURL string) []*network.Cookie {
	b.t.Helper()
	res, err := chromedp.Call(b.ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{rawURL}})
	if err != nil {
		b.t.Fatalf("get cookies: %v", err)
	}
	return res.Cookies
}

// TestBrowserMalformedReturnTo (issue 17 §2, the server's half): a
// return_to in a query Go cannot parse (a ";", a bad "%" escape) was
// dropped by Go while the page's URLSearchParams kept it, and the login
// sent the browser to the attacker's host. The server now answers such a
// query with a 302 to the bare /login, so the page never sees it: after the
// login the browser is home, on the server.
func TestBrowserMalformedReturnTo(t *testing.T) {
	srv := StartServer(t, "", []string{"--demo"})
	b := newBrowser(t, srv, 40*time.Second)
	for i, query := range []string{
		"?return_to=http://evil.example/pwned;",
		"?return_to=http://evil.example/p%zz",
	} {
		b.do("open /login"+query, chromedp.Navigate(srv.URL+"/login"+query))
		b.waitPath("/login")
		if loc := b.location(); loc != srv.URL+"/login" {
			t.Errorf("GET /login%s: the browser is at %q, want the bare %s/login", query, loc, srv.URL)
		}
		if i > 0 {
			continue // logged in already: the page says so
		}
		b.waitVisible("#login-form")
		b.do("log in",
			chromedp.SendKeys(chromedp.ID("name"), "admin"),
			chromedp.SendKeys(chromedp.ID("password"), "1234"),
			chromedp.Click(chromedp.ID("submit")),
		)
		b.waitPath("/")
		b.waitText("#status", "Logged in as admin")
	}
}
