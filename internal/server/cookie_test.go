package server

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// cookieFromNetHTTP is the reference cookieValue must match.
func cookieFromNetHTTP(lines []string, name string) (string, bool) {
	r := &http.Request{Header: http.Header{"Cookie": lines}}
	c, err := r.Cookie(name)
	if err != nil {
		return "", false
	}
	return c.Value, true
}

var cookieCases = [][]string{
	nil,
	{""},
	{"jwtgate_access=abc.def.ghi"},
	{"a=1; jwtgate_access=tok; b=2"},
	{"  jwtgate_access = spaced ;x=y"},
	{`jwtgate_access="quoted"`},
	{`jwtgate_access="`},
	{"jwtgate_access=bad\\value; jwtgate_access=second"},
	{"jwtgate_access=first; jwtgate_access=second"},
	{"other=1", "jwtgate_access=in-second-line"},
	{"jwtgate_access"},
	{"jwtgate_access="},
	{"Jwtgate_Access=case"},
	{"jwtgate_access=a b"},
	{"jwtgate_access=\x7f"},
	{";;; jwtgate_access=x;;;"},
	{"jwtgate_access=é"},
	{"jwtgate_access=eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJodHRwOi8vdGVzdCJ9.c2lnbmF0dXJl"},
	{"jwtgate_access=eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJodHRwOi8vdGVzdCJ9\\c2lnbmF0dXJl; jwtgate_access=eyJ0eXAiOiJhdCtqd3QifQ.e30.c2ln"},
	{"jwtgate_access=eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJodHRwOi8vdGVzdCJ9.c2lnbmF0dXJl\x7f"},
	{"jwtgate_access=\"eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJodHRwOi8vdGVzdCJ9.c2lnbmF0dXJl\""},
}

// TestValidCookieValue: the eight-bytes-at-a-time check agrees with the
// rule for one byte, for every byte value at every position of values
// around the word size, alone and next to another bad byte.
func TestValidCookieValue(t *testing.T) {
	base := strings.Repeat("eyJhbGciOiJFZERTQSJ9.-_", 2)
	for n := 0; n <= len(base); n++ {
		if !validCookieValue(base[:n]) {
			t.Fatalf("%q reported invalid", base[:n])
		}
		for i := range n {
			for c := range 256 {
				v := []byte(base[:n])
				v[i] = byte(c)
				if got, want := validCookieValue(string(v)), validCookieByte(byte(c)); got != want {
					t.Fatalf("validCookieValue(%q) = %v, want %v", v, got, want)
				}
				if i > 0 {
					v[i-1] = 0x7f // a bad byte below: borrows must not hide or invent one
					if validCookieValue(string(v)) {
						t.Fatalf("validCookieValue(%q) = true", v)
					}
				}
			}
		}
	}
	for c := range 256 {
		b := byte(c)
		want := b >= 0x20 && b < 0x7f && !strings.ContainsRune("\";\\", rune(b))
		if validCookieByte(b) != want {
			t.Errorf("validCookieByte(%#x) = %v, want %v", b, !want, want)
		}
	}
}

func TestCookieValueMatchesNetHTTP(t *testing.T) {
	for _, lines := range cookieCases {
		wantV, wantOK := cookieFromNetHTTP(lines, "jwtgate_access")
		gotV, gotOK := cookieValue(http.Header{"Cookie": lines}, "jwtgate_access")
		if gotV != wantV || gotOK != wantOK {
			t.Errorf("%q: got %q %v, want %q %v", lines, gotV, gotOK, wantV, wantOK)
		}
	}
}

func FuzzCookieValue(f *testing.F) {
	for _, lines := range cookieCases {
		for _, l := range lines {
			f.Add(l, "")
		}
	}
	f.Add("a=1", "jwtgate_access=2")
	f.Fuzz(func(t *testing.T, line1, line2 string) {
		lines := []string{line1}
		if line2 != "" {
			lines = append(lines, line2)
		}
		for _, name := range []string{"jwtgate_access", "__Host-jwtgate_access"} {
			wantV, wantOK := cookieFromNetHTTP(lines, name)
			gotV, gotOK := cookieValue(http.Header{"Cookie": lines}, name)
			if gotV != wantV || gotOK != wantOK {
				t.Fatalf("%q: got %q %v, want %q %v", lines, gotV, gotOK, wantV, wantOK)
			}
		}
	})
}

// TestSessionCookies: the cookies' names, Secure flag and Domain follow the
// public URL (issue 12 §2): an https:// issuer means Secure and the
// __Host-/__Secure- names even when a proxy terminates TLS; a trusted
// proxy's X-Forwarded-Proto: https adds Secure to an http:// issuer's
// cookies; --cookie-domain puts the access cookie (only) on the domain.
// Logout clears the cookies with the same attributes, and the cookie set
// authenticates the next request, under its name only.
func TestSessionCookies(t *testing.T) {
	f := newFixture(t, Options{})
	proxy := []netip.Prefix{netip.MustParsePrefix("10.0.0.1/32")}
	for _, tt := range []struct {
		name             string
		o                Options
		remote, xfp      string
		access, refresh  string
		secure           bool
		domain           string
		hostOnlyClearToo bool
	}{
		{name: "http issuer", o: Options{Issuer: "http://auth.test"},
			access: "jwtgate_access", refresh: "jwtgate_refresh"},
		{name: "https issuer behind a proxy", o: Options{Issuer: "https://auth.test"},
			access: "__Host-jwtgate_access", refresh: "__Secure-jwtgate_refresh", secure: true},
		{name: "TLS here", o: Options{Issuer: "https://auth.test", TLS: true},
			access: "__Host-jwtgate_access", refresh: "__Secure-jwtgate_refresh", secure: true},
		{name: "https issuer, cookie domain", o: Options{Issuer: "https://auth.example.test", CookieDomain: "example.test"},
			access: "__Secure-jwtgate_access", refresh: "__Secure-jwtgate_refresh", secure: true, domain: "example.test", hostOnlyClearToo: true},
		{name: "http issuer, cookie domain", o: Options{Issuer: "http://auth.example.test", CookieDomain: "example.test"},
			access: "jwtgate_access", refresh: "jwtgate_refresh", domain: "example.test", hostOnlyClearToo: true},
		{name: "http issuer, trusted proxy says https", o: Options{Issuer: "http://auth.test", TrustedProxies: proxy},
			remote: "10.0.0.1:5000", xfp: "https", access: "jwtgate_access", refresh: "jwtgate_refresh", secure: true},
		{name: "http issuer, trusted proxy says http", o: Options{Issuer: "http://auth.test", TrustedProxies: proxy},
			remote: "10.0.0.1:5000", xfp: "http", access: "jwtgate_access", refresh: "jwtgate_refresh"},
		{name: "http issuer, untrusted client says https", o: Options{Issuer: "http://auth.test", TrustedProxies: proxy},
			remote: "198.51.100.7:5000", xfp: "https", access: "jwtgate_access", refresh: "jwtgate_refresh"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := NewServer(Deps{Logger: discardLogger(), Auth: f.svc, Keys: f.kr, Ready: f.store.Ping}, tt.o)
			do := func(r *http.Request) result {
				if tt.remote != "" {
					r.RemoteAddr = tt.remote
				}
				if tt.xfp != "" {
					r.Header.Set("X-Forwarded-Proto", tt.xfp)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, r)
				return result{code: rec.Code, header: rec.Header(), resp: rec.Result()}
			}
			login := do(httptest.NewRequest("POST", "/login", strings.NewReader(`{"name":"alice","password":"alice-pass"}`)))
			c := login.resp.Cookies()
			if login.code != 200 || len(c) != 3 {
				t.Fatalf("POST /login = %d with cookies %+v, want 200 and three cookies", login.code, c)
			}
			device := strings.TrimSuffix(tt.refresh, "refresh") + "device"
			if c[2].Name != device || c[2].Secure != tt.secure || c[2].Domain != "" || c[2].Path != "/login" || !c[2].HttpOnly {
				t.Errorf("device cookie = %s, want %s Secure=%v host-only Path=/login HttpOnly", c[2], device, tt.secure)
			}
			if c[0].Name != tt.access || c[0].Secure != tt.secure || c[0].Domain != tt.domain || c[0].Path != "/" || !c[0].HttpOnly {
				t.Errorf("access cookie = %s, want %s Secure=%v Domain=%q Path=/ HttpOnly", c[0], tt.access, tt.secure, tt.domain)
			}
			if c[1].Name != tt.refresh || c[1].Secure != tt.secure || c[1].Domain != "" || c[1].Path != refreshPath {
				t.Errorf("refresh cookie = %s, want %s Secure=%v host-only Path=%s", c[1], tt.refresh, tt.secure, refreshPath)
			}
			if tt.access != "jwtgate_access" {
				// A plain-named cookie (planted by a sibling host or over
				// plain http) is not the session.
				r := httptest.NewRequest("GET", "/user", nil)
				r.Header.Set("Cookie", "jwtgate_access="+c[0].Value)
				if got := do(r); got.code != 401 {
					t.Errorf("GET /user with a plain jwtgate_access cookie = %d, want 401", got.code)
				}
			}
			r := httptest.NewRequest("POST", "/logout", nil)
			r.Header.Set("Cookie", c[0].Name+"="+c[0].Value)
			out := do(r)
			if out.code != 204 {
				t.Fatalf("POST /logout with the cookie = %d, want 204", out.code)
			}
			var cleared []string
			for _, k := range out.resp.Cookies() {
				if k.MaxAge >= 0 || k.Secure != tt.secure {
					t.Errorf("logout cookie %s, want MaxAge<0 Secure=%v", k, tt.secure)
				}
				cleared = append(cleared, k.Name+"@"+k.Domain)
			}
			want := []string{tt.access + "@" + tt.domain}
			if tt.hostOnlyClearToo {
				want = append(want, tt.access+"@")
			}
			want = append(want, tt.refresh+"@")
			if strings.Join(cleared, " ") != strings.Join(want, " ") {
				t.Errorf("logout clears %v, want %v", cleared, want)
			}
		})
	}
}

func TestParseCookieDomain(t *testing.T) {
	for _, tt := range []struct {
		name, domain, issuer string
		want                 string
		ok                   bool
	}{
		{"parent of the issuer", "example.test", "https://auth.example.test", "example.test", true},
		{"leading dot, upper case", ".Example.Test", "https://auth.example.test:8443", "example.test", true},
		{"the issuer's own host", "auth.example.test", "http://auth.example.test", "auth.example.test", true},
		{"unset", "", "http://127.0.0.1:8000", "", true},
		{"not the issuer's", "other.test", "https://auth.example.test", "", false},
		{"suffix but not a parent", "ample.test", "https://auth.example.test", "", false},
		{"one label", "localhost", "http://localhost:8000", "", false},
		{"IP address", "127.0.0.1", "http://127.0.0.1:8000", "", false},
		{"with a port", "example.test:80", "https://auth.example.test", "", false},
		{"with a scheme", "https://example.test", "https://auth.example.test", "", false},
		{"empty label", "example..test", "https://auth.example..test", "", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCookieDomain(tt.domain, tt.issuer)
			if got != tt.want || (err == nil) != tt.ok {
				t.Errorf("ParseCookieDomain(%q, %q) = %q, %v; want %q, ok=%v", tt.domain, tt.issuer, got, err, tt.want, tt.ok)
			}
		})
	}
}

func TestPlainHTTPIssuer(t *testing.T) {
	for _, tt := range []struct {
		issuer string
		want   bool
	}{
		{"http://auth.example.com", true},
		{"http://203.0.113.5:8000", true},
		{"http://0.0.0.0:8000", true},
		{"https://auth.example.com", false},
		{"http://127.0.0.1:8000", false},
		{"http://[::1]:8000", false},
		{"http://localhost:8000", false},
		{"http://app.localhost", false},
	} {
		if got := PlainHTTPIssuer(tt.issuer); got != tt.want {
			t.Errorf("PlainHTTPIssuer(%q) = %v, want %v", tt.issuer, got, tt.want)
		}
	}
}
