package server

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
)

// returnCases are return targets for an issuer on auth.example.test with
// --forward-auth-hosts app.example.com,Intranet:8443 and --cookie-domain
// example.test. FuzzReturnTarget starts from them too.
var returnCases = []struct {
	name string
	raw  string
	ok   bool
}{
	{"listed host", "https://app.example.com/dashboard?x=1", true},
	{"issuer host", "http://auth.example.test/", true},
	{"listed host with port", "https://intranet:8443/a", true},
	{"upper-case host", "https://APP.example.com/", true},
	{"upper-case scheme", "HTTPS://app.example.com/", true},
	{"under the cookie domain", "https://app.example.test/x?y=1#z", true},
	{"under the cookie domain, any port", "http://deep.app.example.test:8080/", true},
	{"the cookie domain itself", "https://example.test/", true},
	{"encoded path on an allowed host", "https://app.example.test/%2F%2Fevil.example/", true},

	{"other host", "https://evil.example/", false},
	{"allowed name as a prefix", "https://app.example.com.evil.example/", false},
	{"cookie domain as a prefix", "https://example.test.evil.example/", false},
	{"cookie domain as a suffix of a label", "https://evilexample.test/", false},
	{"userinfo before the host", "https://app.example.com@evil.example/", false},
	{"userinfo on an allowed host", "https://user:pw@app.example.com/", false},
	{"encoded @", "https://app.example.test%40evil.example/", false},
	{"encoded slash before @", "https://app.example.test%2F@evil.example/", false},
	{"backslash before @", `https://app.example.test\@evil.example/`, false},
	{"backslash authority", `https:\\evil.example/`, false},
	{"slash and backslash", `https:/\evil.example/`, false},
	{"protocol-relative", "//evil.example/", false},
	{"protocol-relative backslashes", `\\evil.example`, false},
	{"three slashes", "https:///evil.example/", false},
	{"no slashes", "https:evil.example", false},
	{"relative path", "/relative", false},
	{"javascript", "javascript:alert(1)", false},
	{"javascript with an allowed host", "javascript://app.example.test/%0aalert(1)", false},
	{"data", "data:text/html,x", false},
	{"encoded scheme", "https%3A%2F%2Fevil.example", false},
	{"tab in the host", "https://app.example.test\t.evil.example/", false},
	{"newline before the host", "https://\nevil.example/", false},
	{"leading space", " https://evil.example/", false},
	{"percent-encoded host", "https://app%2Eexample.test/", false},
	{"non-ASCII dot", "https://app\u3002example.test/", false},
	{"trailing dot", "https://app.example.test./", false},
	{"empty label", "https://app..example.test/", false},
	{"listed host, other port", "https://intranet/a", false},
	{"fragment hides the host", "https://evil.example#@app.example.test", false},
	{"query hides the host", "https://evil.example?@app.example.test", false},
	{"empty", "", false},
	{"too long", "https://app.example.test/" + strings.Repeat("a", maxReturnTarget), false},
}

func testTargets() returnTargets {
	return newReturnTargets("https://auth.example.test", []string{"app.example.com", "Intranet:8443"}, "example.test")
}

func TestReturnTargets(t *testing.T) {
	rt := testTargets()
	for _, tt := range returnCases {
		t.Run(tt.name, func(t *testing.T) {
			if got := rt.allowed(tt.raw); got != tt.ok {
				t.Errorf("allowed(%q) = %v, want %v", tt.raw, got, tt.ok)
			}
		})
	}
	// Without a cookie domain, only the listed hosts.
	rt = newReturnTargets("https://auth.example.test", nil, "")
	for _, raw := range []string{"https://app.example.test/", "https://example.test/"} {
		if rt.allowed(raw) {
			t.Errorf("without --cookie-domain: allowed(%q) = true, want false", raw)
		}
	}
}

// browserHost reads raw roughly as a browser's URL parser does (WHATWG):
// surrounding spaces and controls trimmed, tabs and newlines dropped, "\"
// as "/", any slashes after the scheme skipped, userinfo cut at the last
// "@", the host percent-decoded and lower-cased. It returns the scheme and
// the host:port a navigation to raw would reach.
func browserHost(raw string) (scheme, host string) {
	raw = strings.TrimFunc(raw, func(r rune) bool { return r <= ' ' })
	raw = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' {
			return -1
		}
		return r
	}, raw)
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok {
		return "", ""
	}
	scheme = strings.ToLower(scheme)
	rest = strings.TrimLeft(rest, `/\`)
	if i := strings.IndexAny(rest, `/\?#`); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	if h, err := url.PathUnescape(rest); err == nil {
		rest = h
	}
	return scheme, strings.ToLower(rest)
}

// FuzzReturnTarget checks that whatever allowed accepts, a browser-like
// reading of the same string reaches an allowed host over http(s), and
// that the target survives the trip through the login URL's query intact.
func FuzzReturnTarget(f *testing.F) {
	for _, tt := range returnCases {
		f.Add(tt.raw)
	}
	rt := testTargets()
	f.Fuzz(func(t *testing.T, raw string) {
		if !rt.allowed(raw) {
			return
		}
		scheme, host := browserHost(raw)
		if scheme != "http" && scheme != "https" {
			t.Fatalf("allowed(%q), but a browser reads scheme %q", raw, scheme)
		}
		name, _, _ := strings.Cut(host, ":")
		if host != "auth.example.test" && host != "app.example.com" && host != "intranet:8443" &&
			name != "example.test" && !strings.HasSuffix(name, ".example.test") {
			t.Fatalf("allowed(%q), but a browser goes to host %q", raw, host)
		}
		login, err := url.Parse(rt.loginURL("https://auth.example.test", raw))
		if err != nil {
			t.Fatalf("loginURL(%q) does not parse: %v", raw, err)
		}
		q, err := url.ParseQuery(login.RawQuery)
		if err != nil || len(q["return_to"]) != 1 || q["return_to"][0] != raw {
			t.Fatalf("loginURL(%q) = %s: return_to %q (%v), want it intact", raw, login, q["return_to"], err)
		}
	})
}

// TestForwardAuthRedirect: with ?redirect=1, a browser navigation without a
// token is sent to the login page with the page it wanted, if that page is
// on an allowed host and the forwarded headers come from a trusted proxy
// (or rd names it).
func TestForwardAuthRedirect(t *testing.T) {
	f := newFixture(t, Options{})
	f.h = NewServer(Deps{Logger: discardLogger(), Auth: f.svc, Keys: f.kr, Ready: f.store.Ping}, Options{
		Issuer:           "http://auth.example.test",
		TrustedProxies:   []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		ForwardAuthHosts: []string{"app.test"},
		CookieDomain:     "example.test",
	})
	tok := f.loginFull(t, "alice", "alice-pass")["token"].(string)
	req := func(query, remote, host, accept, auth string) *http.Request {
		r := httptest.NewRequest("GET", "/auth/verify"+query, nil)
		r.RemoteAddr = remote
		r.Header.Set("Accept", accept)
		r.Header.Set("X-Forwarded-Proto", "https")
		r.Header.Set("X-Forwarded-Host", host)
		r.Header.Set("X-Forwarded-Uri", "/dashboard?tab=2")
		if auth != "" {
			r.Header.Set("Authorization", "Bearer "+auth)
		}
		return r
	}
	const html = "text/html,application/xhtml+xml"
	login := "http://auth.example.test/login"
	back := func(target string) string { return login + "?return_to=" + url.QueryEscape(target) }
	for _, tt := range []struct {
		name     string
		r        *http.Request
		code     int
		location string
	}{
		{"browser, listed host", req("?redirect=1", "127.0.0.1:9", "app.test", html, ""), 302, back("https://app.test/dashboard?tab=2")},
		{"browser, host under the cookie domain", req("?redirect=1", "127.0.0.1:9", "app.example.test:8443", html, ""), 302, back("https://app.example.test:8443/dashboard?tab=2")},
		{"browser, other host", req("?redirect=1", "127.0.0.1:9", "evil.test", html, ""), 302, login},
		{"browser, userinfo in the forwarded host", req("?redirect=1", "127.0.0.1:9", "app.test@evil.test", html, ""), 302, login},
		{"browser, untrusted peer", req("?redirect=1", "198.51.100.1:9", "app.test", html, ""), 302, login},
		{"rd on an allowed host", req("?redirect=1&rd="+url.QueryEscape("https://app.example.test/rd"), "198.51.100.1:9", "", html, ""), 302, back("https://app.example.test/rd")},
		{"rd elsewhere", req("?redirect=1&rd="+url.QueryEscape("https://evil.test/"), "127.0.0.1:9", "app.test", html, ""), 302, login},
		{"api client", req("?redirect=1", "127.0.0.1:9", "app.test", "application/json", ""), 401, ""},
		{"proxy asks with GET for a browser's POST", withHeader(req("?redirect=1", "127.0.0.1:9", "app.test", html, ""), "X-Forwarded-Method", "POST"), 401, ""},
		{"proxy asks with GET for a browser's GET", withHeader(req("?redirect=1", "127.0.0.1:9", "app.test", html, ""), "X-Forwarded-Method", "GET"), 302, back("https://app.test/dashboard?tab=2")},
		{"untrusted X-Forwarded-Method", withHeader(req("?redirect=1", "198.51.100.1:9", "app.test", html, ""), "X-Forwarded-Method", "POST"), 302, login},
		{"no redirect asked", req("", "127.0.0.1:9", "app.test", html, ""), 401, ""},
		{"valid token", req("?redirect=1", "127.0.0.1:9", "app.test", html, tok), 200, ""},
		{"bad token", req("?redirect=1", "127.0.0.1:9", "app.test", html, "nope"), 302, back("https://app.test/dashboard?tab=2")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(tt.r)
			if r.code != tt.code || r.header.Get("Location") != tt.location {
				t.Errorf("GET %s = %d Location %q, want %d %q", tt.r.URL, r.code, r.header.Get("Location"), tt.code, tt.location)
			}
			if r.code == 200 && r.header.Get("X-Auth-User") != "alice" {
				t.Errorf("200 without the identity headers")
			}
		})
	}
}

// TestLoginPageReturnTo: the login page drops a return_to it must not
// follow, so its script can trust the one it sees. That includes a query
// Go's parser rejects (issue 17 §2): Go would drop the pair and serve the
// page, while the browser's URLSearchParams keeps it.
func TestLoginPageReturnTo(t *testing.T) {
	f := newFixture(t, Options{})
	f.h = NewServer(Deps{Logger: discardLogger(), Auth: f.svc, Keys: f.kr, Ready: f.store.Ping},
		Options{Issuer: "http://auth.test", ForwardAuthHosts: []string{"app.test"}, CookieDomain: "auth.test"})
	for _, tt := range []struct {
		name     string
		query    string
		code     int
		location string
	}{
		{"no query", "", 200, ""},
		{"allowed", "?return_to=" + url.QueryEscape("https://app.test/x"), 200, ""},
		{"issuer", "?return_to=" + url.QueryEscape("http://auth.test/"), 200, ""},
		{"under the cookie domain", "?return_to=" + url.QueryEscape("http://a.auth.test:81/"), 200, ""},
		{"other host", "?return_to=" + url.QueryEscape("https://evil.test/"), 302, "/login"},
		{"javascript", "?return_to=" + url.QueryEscape("javascript:alert(1)"), 302, "/login"},
		{"protocol-relative", "?return_to=" + url.QueryEscape("//evil.test"), 302, "/login"},
		{"two of them", "?return_to=a&return_to=b", 302, "/login"},
		{"semicolon", "?return_to=http://evil.example/pwned;", 302, "/login"},
		{"semicolon before an allowed one", "?return_to=http://evil.example/;&return_to=" + url.QueryEscape("https://app.test/"), 302, "/login"},
		{"bad escape", "?return_to=/p%zz", 302, "/login"},
		{"bad escape in another pair", "?x=%zz&return_to=http://evil.example/", 302, "/login"},
		{"bad escape in the key", "?return%zz_to=http://evil.example/", 302, "/login"},
		{"rd, allowed", "?rd=" + url.QueryEscape("https://app.test/x?a=1&b=2"), 302, "/login?return_to=" + url.QueryEscape("https://app.test/x?a=1&b=2")},
		{"rd, other host", "?rd=" + url.QueryEscape("https://evil.test/"), 302, "/login"},
		{"rd and return_to", "?rd=" + url.QueryEscape("https://app.test/") + "&return_to=" + url.QueryEscape("https://app.test/"), 302, "/login"},
		{"other parameters only", "?x=1", 200, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(httptest.NewRequest("GET", "/login"+tt.query, nil))
			if r.code != tt.code || r.header.Get("Location") != tt.location {
				t.Errorf("GET /login%s = %d %q, want %d %q", tt.query, r.code, r.header.Get("Location"), tt.code, tt.location)
			}
		})
	}
}

func withHeader(r *http.Request, name, value string) *http.Request {
	r.Header.Set(name, value)
	return r
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
