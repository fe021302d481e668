package verify

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/token"
)

// TestStartBeforeIssuer is issue 12 §3: a service starts while jwtgate is
// down. New succeeds; requests with a token get 503 (without one, 401) and
// a log line; once the issuer is up, the same Verifier accepts tokens.
func TestStartBeforeIssuer(t *testing.T) {
	k := mustGenerate(t, token.EdDSA)
	// A port nothing listens on yet, where the issuer will start.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	issuer := "http://" + addr

	var logs logBuffer
	v, err := New(context.Background(), issuer, WithLogger(logs.logger()), WithDiscoveryRetry(10*time.Millisecond, 50*time.Millisecond))
	if err != nil {
		t.Fatalf("New(%s) while the issuer is down = %v, want a Verifier", issuer, err)
	}
	t.Cleanup(func() { _ = v.Close() })
	if err := v.Ready(); !errors.Is(err, ErrUnavailable) {
		t.Errorf("Ready() while the issuer is down = %v, want ErrUnavailable", err)
	}
	h := v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := ClaimsFrom(r.Context())
		_, _ = w.Write([]byte(c.Name))
	}))
	get := func(tok string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/private", nil)
		if tok != "" {
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	tok := sign(t, k, claims(issuer, time.Now()))
	if w := get(tok); w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("GET /private with a token while the issuer is down = %d (Retry-After %q), want 503 with Retry-After", w.Code, w.Header().Get("Retry-After"))
	}
	if w := get(""); w.Code != http.StatusUnauthorized {
		t.Errorf("GET /private without a token while the issuer is down = %d, want 401", w.Code)
	}
	if got := logs.String(); !strings.Contains(got, "level=WARN") || !strings.Contains(got, "503") {
		t.Errorf("log while the issuer is down = %q, want a warning about the 503s", got)
	}

	// The issuer comes up on its address; no restart of the service.
	l, err = net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the issuer's port was taken meanwhile: %v", err)
	}
	newFakeIssuerOn(t, l, k)
	if err := v.Wait(ctxTimeout(t, 10*time.Second)); err != nil {
		t.Fatalf("Wait() after the issuer came up = %v", err)
	}
	if w := get(tok); w.Code != http.StatusOK || w.Body.String() != "admin" {
		t.Errorf("GET /private once the issuer is up = %d %q, want 200 admin", w.Code, w.Body)
	}
	if got := logs.String(); !strings.Contains(got, "accepting tokens") {
		t.Errorf("log after recovery = %q, want a line saying tokens are accepted", got)
	}
}

func ctxTimeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// TestInternalURL: discovery, keys and revocations come from the internal
// base while iss must be the public issuer.
func TestInternalURL(t *testing.T) {
	k := mustGenerate(t, token.EdDSA)
	const public = "https://auth.example.test"
	f := newFakeIssuer(t, k)
	f.set(func(f *fakeIssuer) {
		f.discovery = map[string]any{"issuer": public, "jwks_uri": public + "/.well-known/jwks.json"}
	})
	v := mustNew(t, public, WithInternalURL(f.url), WithRevocationPolling(time.Hour))
	if err := v.Ready(); err != nil {
		t.Fatalf("Ready() with an internal URL = %v", err)
	}
	if f.discoveryHits.Load() != 1 || f.jwksHits.Load() != 1 || f.feedHits.Load() != 1 {
		t.Errorf("internal base got discovery %d, JWKS %d, feed %d requests; want 1 each",
			f.discoveryHits.Load(), f.jwksHits.Load(), f.feedHits.Load())
	}
	now := time.Now()
	if _, err := v.Verify(context.Background(), sign(t, k, claims(public, now))); err != nil {
		t.Errorf("Verify(iss %s) = %v, want nil", public, err)
	}
	if _, err := v.Verify(context.Background(), sign(t, k, claims(f.url, now))); !errors.Is(err, token.ErrIssuer) {
		t.Errorf("Verify(iss = the internal URL) = %v, want ErrIssuer", err)
	}
	// A discovery document naming the internal URL as issuer is refused.
	f.set(func(f *fakeIssuer) {
		f.discovery = map[string]any{"issuer": f.url, "jwks_uri": f.url + "/.well-known/jwks.json"}
	})
	v2, err := New(context.Background(), public, WithLogger(quiet), WithInternalURL(f.url), WithRevocationPolling(0))
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	if err := v2.Ready(); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "names issuer") {
		t.Errorf("Ready() with a document naming the internal URL = %v, want ErrUnavailable (names issuer)", err)
	}
	for _, bad := range []string{"ftp://x", "http://u:p@x", "http://x/?a=b"} {
		if _, err := New(context.Background(), public, WithInternalURL(bad)); err == nil {
			t.Errorf("New(WithInternalURL(%q)) succeeded, want error", bad)
		}
	}
	if _, err := NewStatic(k, WithIssuer(public), WithInternalURL(f.url)); err == nil {
		t.Error("NewStatic(WithInternalURL) succeeded, want error")
	}
}

// TestCookie: WithCookie reads the session cookie when there is no
// Authorization header, and refuses it on cross-origin state-changing
// requests.
func TestCookie(t *testing.T) {
	k := mustGenerate(t, token.EdDSA)
	iss := newFakeIssuer(t, k)
	v := mustNew(t, iss.url, WithCookie("__Host-jwtgate_access", "jwtgate_access"))
	good := sign(t, k, claims(iss.url, time.Now()))
	h := v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	tests := []struct {
		name    string
		method  string
		cookie  string // "name=value"
		auth    string
		headers map[string]string
		want    int
	}{
		{name: "cookie", method: "GET", cookie: "jwtgate_access=" + good, want: 200},
		{name: "__Host- cookie", method: "GET", cookie: "__Host-jwtgate_access=" + good, want: 200},
		{name: "other cookie name", method: "GET", cookie: "session=" + good, want: 401},
		{name: "bad cookie", method: "GET", cookie: "jwtgate_access=" + good[:len(good)-2], want: 401},
		{name: "Authorization wins", method: "GET", cookie: "jwtgate_access=" + good, auth: "Basic YTpi", want: 401},
		{name: "same-origin POST", method: "POST", cookie: "jwtgate_access=" + good, headers: map[string]string{"Sec-Fetch-Site": "same-origin"}, want: 200},
		{name: "non-browser POST", method: "POST", cookie: "jwtgate_access=" + good, want: 200},
		{name: "cross-site POST", method: "POST", cookie: "jwtgate_access=" + good, headers: map[string]string{"Sec-Fetch-Site": "cross-site"}, want: 403},
		{name: "cross-site GET", method: "GET", cookie: "jwtgate_access=" + good, headers: map[string]string{"Sec-Fetch-Site": "cross-site"}, want: 200},
		{name: "cross-site POST with bearer", method: "POST", auth: "Bearer " + good, headers: map[string]string{"Sec-Fetch-Site": "cross-site"}, want: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, "/private", nil)
			if tt.cookie != "" {
				r.Header.Set("Cookie", tt.cookie)
			}
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.want {
				t.Errorf("%s /private (%s) = %d, want %d", tt.method, tt.name, w.Code, tt.want)
			}
		})
	}
	if _, err := New(context.Background(), iss.url, WithCookie("bad name")); err == nil {
		t.Error(`New(WithCookie("bad name")) succeeded, want error`)
	}
}
