package e2e

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserReturnTo: a login page reached through a forward-auth
// redirect (/login?return_to=…) sends the browser back to that page after
// the login; a return_to on a host that is not allowed never reaches the
// page (the server strips it), so the browser lands home.
func TestBrowserReturnTo(t *testing.T) {
	srv := StartServer(t, "", []string{"--demo"})
	b := newBrowser(t, srv, 40*time.Second)

	// The issuer's own host is always allowed; /user answers JSON, which
	// makes the landing easy to see.
	target := srv.URL + "/user?from=proxy"
	b.do("open /login?return_to", chromedp.Navigate(srv.URL+"/login?return_to="+url.QueryEscape(target)))
	b.waitVisible("#login-form")
	b.do("log in",
		chromedp.SendKeys(chromedp.ID("name"), "admin"),
		chromedp.SendKeys(chromedp.ID("password"), "1234"),
		chromedp.Click(chromedp.ID("submit")),
	)
	deadline := time.Now().Add(10 * time.Second)
	for b.location() != target {
		if time.Now().After(deadline) {
			t.Fatalf("after login the browser is at %q, want %q", b.location(), target)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if body := b.evalString(`document.body.innerText`); !strings.Contains(body, `"name":"admin"`) {
		t.Errorf("return_to page shows %q, want the logged-in user", body)
	}

	// An open-redirect attempt: the server drops return_to before the page.
	b.do("open /login?return_to=evil", chromedp.Navigate(srv.URL+"/login?return_to="+url.QueryEscape("https://evil.example/phish")))
	b.waitPath("/login")
	if loc := b.location(); strings.Contains(loc, "evil") {
		t.Fatalf("the login page kept a foreign return_to: %s", loc)
	}
}
