package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
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

// TestBrowserReturnToUnparsedQuery is issue 17 §2: a return_to that Go's
// query parser drops (a ";" or a bad "%" escape) but the browser's
// URLSearchParams keeps must not send the browser to another host after
// logging in. "evil.example" is a real server on this machine (the browser
// maps *.example to 127.0.0.1) that counts its visitors.
func TestBrowserReturnToUnparsedQuery(t *testing.T) {
	srv := StartServer(t, "", []string{"--demo"})
	var visits atomic.Int64
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		visits.Add(1)
		fmt.Fprint(w, "pwned")
	}))
	t.Cleanup(evil.Close)
	evilPort := strconv.Itoa(evil.Listener.Addr().(*net.TCPAddr).Port)
	evilBase := "http://evil.example:" + evilPort

	b := newBrowser(t, srv, 60*time.Second)
	tests := []struct {
		name  string
		query string // sent as is, not escaped
	}{
		{name: "semicolon", query: "return_to=" + evilBase + "/pwned;"},
		{name: "bad escape", query: "return_to=" + evilBase + "/p%zz"},
		{name: "semicolon before", query: "x=1;y&return_to=" + evilBase + "/pwned"},
		{name: "protocol-relative with semicolon", query: "return_to=//evil.example:" + evilPort + "/pwned;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b.t = t
			visits.Store(0)
			b.do("open the login page", chromedp.Navigate(srv.URL+"/login?"+tt.query))
			b.waitVisible("#login-form")
			b.do("log in",
				chromedp.SendKeys(chromedp.ID("name"), "admin"),
				chromedp.SendKeys(chromedp.ID("password"), "1234"),
				chromedp.Click(chromedp.ID("submit")),
			)
			// Wait for the browser to settle on a page: home (right), or
			// the other host (the bug).
			deadline := time.Now().Add(15 * time.Second)
			for {
				loc := b.location()
				if strings.HasPrefix(loc, evilBase) || visits.Load() > 0 {
					t.Fatalf("/login?%s: after logging in the browser went to %s (%d visits to evil.example), want %s/", tt.query, loc, visits.Load(), srv.URL)
				}
				if loc == srv.URL+"/" {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("/login?%s: after logging in the browser is at %s, want %s/", tt.query, loc, srv.URL)
				}
				time.Sleep(50 * time.Millisecond)
			}
			b.waitText("#status", "Logged in as admin")
		})
	}
	b.t = t
}

// TestBrowserReturnTargetCheck runs the login page's own check
// (assets/lib/returnto.js) in the page, on targets an attacker would try
// and on the ones it must let through.
func TestBrowserReturnTargetCheck(t *testing.T) {
	srv := StartServer(t, "", []string{"--demo"})
	b := newBrowser(t, srv, 40*time.Second)
	b.do("open /login", chromedp.Navigate(srv.URL+"/login"))
	b.waitVisible("#login-form")

	const origin = "https://login.example.com"
	allowed := map[string]any{
		"origin": origin,
		"hosts":  []string{"app.example.com", "app.example.com:8443"},
		"domain": "corp.example",
	}
	tests := []struct {
		name string
		raw  string
		want string // "" = refused (the page goes home)
	}{
		// Refused.
		{name: "empty", raw: "", want: ""},
		{name: "other host", raw: "https://evil.example/", want: ""},
		{name: "issue 17 semicolon", raw: "http://evil.example/pwned;", want: ""},
		{name: "issue 17 bad escape", raw: "http://evil.example/p%zz", want: ""},
		{name: "protocol-relative", raw: "//evil.example/x", want: ""},
		{name: "three slashes", raw: "///evil.example/x", want: ""},
		{name: "backslashes", raw: `\\evil.example/x`, want: ""},
		{name: "slash backslash", raw: `/\evil.example/x`, want: ""},
		{name: "backslash slash", raw: `\/evil.example/x`, want: ""},
		{name: "scheme then backslash", raw: `http:/\evil.example/`, want: ""},
		{name: "scheme without slashes", raw: "http:evil.example/", want: ""},
		{name: "scheme with one slash", raw: "https:/evil.example/", want: ""},
		{name: "javascript", raw: "javascript:alert(1)", want: ""},
		{name: "javascript upper case", raw: "JavaScript:alert(1)", want: ""},
		{name: "javascript after a space", raw: " javascript:alert(1)", want: ""},
		{name: "javascript with a tab", raw: "java\tscript:alert(1)", want: ""},
		{name: "data URL", raw: "data:text/html,<script>alert(1)</script>", want: ""},
		{name: "userinfo", raw: "https://app.example.com@evil.example/", want: ""},
		{name: "userinfo with backslash", raw: `https://evil.example\@app.example.com/`, want: ""},
		{name: "encoded at", raw: "https://app.example.com%40evil.example/", want: ""},
		{name: "encoded dot", raw: "https://evil%2eexample/", want: ""},
		{name: "fragment at", raw: "https://evil.example#@app.example.com/", want: ""},
		{name: "query at", raw: "https://evil.example?@app.example.com/", want: ""},
		{name: "allowed host as a prefix", raw: "https://app.example.com.evil.example/", want: ""},
		{name: "domain as a suffix only", raw: "https://evilcorp.example/", want: ""},
		{name: "port not listed", raw: "https://app.example.com:8080/", want: ""},
		{name: "default port written out", raw: "https://app.example.com:443/", want: ""},
		{name: "numeric host", raw: "https://0x7f.1/", want: ""},
		{name: "full-width letters", raw: "https://ａpp.example.com/", want: ""},
		{name: "tab in the host", raw: "https://app.example.com\t.evil.example/", want: ""},
		{name: "newline in a path", raw: "/\n/evil.example", want: ""},
		{name: "ftp", raw: "ftp://app.example.com/", want: ""},
		{name: "same host, plain http", raw: "http://login.example.com/", want: ""},
		{name: "relative without slash", raw: "evil.example/x", want: ""},
		{name: "encoded slashes, no leading slash", raw: "%2F%2Fevil.example", want: ""},
		{name: "too long", raw: "/" + strings.Repeat("a", 3000), want: ""},
		// Followed.
		{name: "path", raw: "/user?from=proxy", want: origin + "/user?from=proxy"},
		{name: "encoded slashes stay a path", raw: "/%2F%2Fevil.example", want: origin + "/%2F%2Fevil.example"},
		{name: "own origin", raw: origin + "/admin", want: origin + "/admin"},
		{name: "allowed host", raw: "https://app.example.com/page?x=1#y", want: "https://app.example.com/page?x=1#y"},
		{name: "allowed host, upper case", raw: "https://APP.Example.com/x", want: "https://app.example.com/x"},
		{name: "allowed host and port", raw: "https://app.example.com:8443/x", want: "https://app.example.com:8443/x"},
		{name: "plain http to an allowed host", raw: "http://app.example.com/", want: "http://app.example.com/"},
		{name: "under the domain", raw: "https://wiki.corp.example/a", want: "https://wiki.corp.example/a"},
		{name: "the domain itself, any port", raw: "https://corp.example:9000/", want: "https://corp.example:9000/"},
	}
	raws := make([]string, len(tests))
	for i, tt := range tests {
		raws[i] = tt.raw
	}
	got := b.returnTargets(raws, allowed)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got[i] != tt.want {
				t.Errorf("returnTarget(%q) = %q, want %q", tt.raw, got[i], tt.want)
			}
		})
	}

	// With the server's own list (rendered into the page): its host is
	// allowed, evil.example is not.
	got = b.returnTargets([]string{srv.URL + "/user", "http://evil.example/pwned;"}, nil)
	if got[0] != srv.URL+"/user" || got[1] != "" {
		t.Errorf("with the server's list: returnTarget(own host, evil) = %q, want [%s/user, \"\"]", got, srv.URL)
	}
	b.checkWatch("return targets")
}

// returnTargets runs the login page's returnTarget on each of raws, with
// allowed (nil: the page's own origin and the server's list).
func (b *browser) returnTargets(raws []string, allowed map[string]any) []string {
	b.t.Helper()
	args, err := json.Marshal([]any{raws, allowed})
	if err != nil {
		b.t.Fatal(err)
	}
	js := fmt.Sprintf(`import("/assets/lib/returnto.js").then((m) => {
		const [raws, allowed] = %s;
		return JSON.stringify(raws.map((raw) => m.returnTarget(raw, allowed || undefined)));
	})`, args)
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("run returnTarget in the page: %v", err)
	}
	var got []string
	if err := json.Unmarshal([]byte(out), &got); err != nil || len(got) != len(raws) {
		b.t.Fatalf("returnTarget results %s: %v", out, err)
	}
	return got
}
