package server

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"
)

func TestReturnTargets(t *testing.T) {
	rt := newReturnTargets("https://auth.example.com", []string{"app.example.com", "Intranet:8443"})
	for _, tt := range []struct {
		raw string
		ok  bool
	}{
		{"https://app.example.com/dashboard?x=1", true},
		{"http://auth.example.com/", true},
		{"https://intranet:8443/a", true},
		{"https://APP.example.com/", true},
		{"https://evil.example/", false},
		{"https://app.example.com.evil.example/", false},
		{"https://app.example.com@evil.example/", false},
		{"https://user:pw@app.example.com/", false},
		{"//evil.example/", false},
		{"/relative", false},
		{"javascript:alert(1)", false},
		{"data:text/html,x", false},
		{"https://intranet/a", false}, // port differs
		{"", false},
	} {
		if got := rt.allowed(tt.raw); got != tt.ok {
			t.Errorf("allowed(%q) = %v, want %v", tt.raw, got, tt.ok)
		}
	}
}

// TestForwardAuthRedirect: with ?redirect=1, a browser navigation without a
// token is sent to the login page with the page it wanted, if that page is
// on an allowed host and the forwarded headers come from a trusted proxy.
func TestForwardAuthRedirect(t *testing.T) {
	f := newFixture(t, Options{
		Issuer:           "http://auth.test",
		TrustedProxies:   []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		ForwardAuthHosts: []string{"app.test"},
	})
	f.h = NewServer(Deps{Logger: discardLogger(), Auth: f.svc, Keys: f.kr, Ready: f.store.Ping}, Options{
		Issuer:           "http://auth.test",
		TrustedProxies:   []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
		ForwardAuthHosts: []string{"app.test"},
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
	want := "http://auth.test/login?return_to=" + url.QueryEscape("https://app.test/dashboard?tab=2")
	for _, tt := range []struct {
		name     string
		r        *http.Request
		code     int
		location string
	}{
		{"browser, allowed host", req("?redirect=1", "127.0.0.1:9", "app.test", html, ""), 302, want},
		{"browser, other host", req("?redirect=1", "127.0.0.1:9", "evil.test", html, ""), 302, "http://auth.test/login"},
		{"browser, untrusted peer", req("?redirect=1", "198.51.100.1:9", "app.test", html, ""), 302, "http://auth.test/login"},
		{"api client", req("?redirect=1", "127.0.0.1:9", "app.test", "application/json", ""), 401, ""},
		{"no redirect asked", req("", "127.0.0.1:9", "app.test", html, ""), 401, ""},
		{"valid token", req("?redirect=1", "127.0.0.1:9", "app.test", html, tok), 200, ""},
		{"bad token", req("?redirect=1", "127.0.0.1:9", "app.test", html, "nope"), 302, want},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do(tt.r)
			if r.code != tt.code || r.header.Get("Location") != tt.location {
				t.Errorf("= %d Location %q, want %d %q", r.code, r.header.Get("Location"), tt.code, tt.location)
			}
			if r.code == 200 && r.header.Get("X-Auth-User") != "alice" {
				t.Errorf("200 without the identity headers")
			}
		})
	}
}

// TestLoginPageReturnTo: the login page drops a return_to it must not
// follow, so its script can trust the one it sees.
func TestLoginPageReturnTo(t *testing.T) {
	f := newFixture(t, Options{})
	f.h = NewServer(Deps{Logger: discardLogger(), Auth: f.svc, Keys: f.kr, Ready: f.store.Ping}, Options{Issuer: "http://auth.test", ForwardAuthHosts: []string{"app.test"}})
	for _, tt := range []struct {
		query string
		code  int
	}{
		{"", 200},
		{"?return_to=" + url.QueryEscape("https://app.test/x"), 200},
		{"?return_to=" + url.QueryEscape("http://auth.test/"), 200},
		{"?return_to=" + url.QueryEscape("https://evil.test/"), 302},
		{"?return_to=" + url.QueryEscape("javascript:alert(1)"), 302},
		{"?return_to=" + url.QueryEscape("//evil.test"), 302},
		{"?return_to=a&return_to=b", 302},
	} {
		r := f.do(httptest.NewRequest("GET", "/login"+tt.query, nil))
		if r.code != tt.code || (tt.code == 302 && r.header.Get("Location") != "/login") {
			t.Errorf("GET /login%s = %d %q, want %d", tt.query, r.code, r.header.Get("Location"), tt.code)
		}
	}
}

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }
