package server

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/oidc"
	"github.com/jwtgate/jwtgate/internal/password"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/token"
)

// fastHash keeps handler tests quick; password tests cover real parameters.
var fastHash = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

type fixture struct {
	h      http.Handler
	svc    *auth.Service
	store  *sqlite.DB
	dbPath string
	kr     *auth.Keyring
	op     *oidc.Provider
}

// newFixture builds the real handler on a fresh SQLite file, with users
// admin/admin-pass (role admin) and alice/alice-pass, and bob disabled.
func newFixture(t testing.TB, o Options) *fixture {
	t.Helper()
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "jwtgate.db")
	store, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	kr, err := auth.NewKeyring(ctx, store, auth.KeyringOptions{Alg: token.EdDSA, ExtraAlgs: auth.IDTokenExtraAlgs(token.EdDSA), PublishDelay: 10 * time.Minute, TokenLifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := auth.New(ctx, store, kr, auth.Options{Issuer: "http://test", Hash: fastHash})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateUser(ctx, "admin", "admin-pass", []string{"admin"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateUser(ctx, "alice", "alice-pass", nil); err != nil {
		t.Fatal(err)
	}
	bob, err := svc.CreateUser(ctx, "bob", "bob-pass", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SetDisabled(ctx, bob.ID, true, time.Now()); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	o.Issuer = "http://test"
	op := oidc.New(store, svc, kr, oidc.Options{Issuer: "http://test"})
	return &fixture{h: NewServer(Deps{Logger: logger, Auth: svc, Keys: kr, Ready: store.Ping,
		Clients: oidc.NewClients(store, nil, svc.Record).RevokingWith(svc.RevokeSessionIDs), OIDC: op}, o), svc: svc, store: store, dbPath: dbPath, kr: kr, op: op}
}

type result struct {
	code   int
	header http.Header
	body   []byte
	resp   *http.Response
}

func (r result) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not JSON: %v", r.body, err)
	}
	return m
}

func (f *fixture) do(req *http.Request) result {
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	resp := rec.Result()
	b, _ := io.ReadAll(resp.Body)
	return result{code: resp.StatusCode, header: resp.Header, body: b, resp: resp}
}

func (f *fixture) login(t testing.TB, name, pw string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name, "password": pw})
	r := f.do(httptest.NewRequest("POST", "/login", bytes.NewReader(body)))
	if r.code != 200 {
		t.Fatalf("POST /login %s = %d %s, want 200", name, r.code, r.body)
	}
	return r.json(t)["token"].(string)
}

// rowDigest runs query, which must return one text column, against the
// fixture's database file directly: checks that a refused request changed
// nothing then do not trust the store they check.
func (f *fixture) rowDigest(t testing.TB, query string) string {
	t.Helper()
	db, err := sql.Open("sqlite", f.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var digest string
	if err := db.QueryRow(query).Scan(&digest); err != nil {
		t.Fatal(err)
	}
	return digest
}

// counts returns the number of users and sessions, and a digest of the user
// rows, read straight from the file so the check does not trust the store.
func (f *fixture) counts(t testing.TB) string {
	t.Helper()
	db, err := sql.Open("sqlite", f.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var users, sessions int
	var digest string
	if err := db.QueryRow(`SELECT count(*), coalesce(group_concat(name || ':' || password_hash || ':' || disabled, '|'), '') FROM users`).Scan(&users, &digest); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM sessions`).Scan(&sessions); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s#%d", digest, sessions)
}

func TestLogin(t *testing.T) {
	f := newFixture(t, Options{})
	tests := []struct {
		name     string
		body     string
		wantCode int
		wantErr  string // error code in the JSON body; "" for success
	}{
		{name: "valid", body: `{"name":"alice","password":"alice-pass"}`, wantCode: 200},
		{name: "name any case", body: `{"name":"ALICE","password":"alice-pass"}`, wantCode: 200},
		{name: "extra fields ignored", body: `{"name":"alice","password":"alice-pass","remember":true}`, wantCode: 200},
		{name: "wrong password", body: `{"name":"alice","password":"nope"}`, wantCode: 400, wantErr: "invalid_credentials"},
		{name: "unknown user", body: `{"name":"mallory","password":"alice-pass"}`, wantCode: 400, wantErr: "invalid_credentials"},
		{name: "disabled user, right password", body: `{"name":"bob","password":"bob-pass"}`, wantCode: 400, wantErr: "invalid_credentials"},
		{name: "SQL in name", body: `{"name":"alice' OR '1'='1","password":"x"}`, wantCode: 400, wantErr: "invalid_credentials"},
		{name: "SQL drop", body: `{"name":"x\"; DROP TABLE users; --","password":"x"}`, wantCode: 400, wantErr: "invalid_credentials"},
		{name: "empty password", body: `{"name":"alice","password":""}`, wantCode: 400, wantErr: "invalid_credentials"},
		{name: "malformed JSON", body: `{"name":"alice",`, wantCode: 400, wantErr: "invalid_request"},
		{name: "not an object", body: `["alice","alice-pass"]`, wantCode: 400, wantErr: "invalid_request"},
		{name: "name is a number", body: `{"name":5,"password":"x"}`, wantCode: 400, wantErr: "invalid_request"},
		{name: "password is null", body: `{"name":"alice","password":null}`, wantCode: 400, wantErr: "invalid_request"},
		{name: "missing password", body: `{"name":"alice"}`, wantCode: 400, wantErr: "invalid_request"},
		{name: "empty body", body: ``, wantCode: 400, wantErr: "invalid_request"},
		{name: "empty name", body: `{"name":"","password":"x"}`, wantCode: 400, wantErr: "invalid_request"},
		{name: "control character", body: `{"name":"ali\u0000ce","password":"x"}`, wantCode: 400, wantErr: "invalid_request"},
		{name: "invalid UTF-8", body: "{\"name\":\"ali\xffce\",\"password\":\"x\"}", wantCode: 400, wantErr: "invalid_request"},
		{name: "name too long", body: `{"name":"` + strings.Repeat("a", 65) + `","password":"x"}`, wantCode: 400, wantErr: "invalid_request"},
		{name: "password too long", body: `{"name":"alice","password":"` + strings.Repeat("a", 1025) + `"}`, wantCode: 400, wantErr: "invalid_request"},
		{name: "10 MiB body", body: `{"name":"` + strings.Repeat("a", 10<<20) + `"}`, wantCode: 413, wantErr: "body_too_large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.counts(t)
			r := f.do(httptest.NewRequest("POST", "/login", strings.NewReader(tt.body)))
			if r.code != tt.wantCode {
				t.Fatalf("POST /login %s = %d %s, want %d", tt.name, r.code, r.body, tt.wantCode)
			}
			m := r.json(t)
			if tt.wantErr != "" {
				if m["error"] != tt.wantErr || m["message"] == "" {
					t.Errorf("POST /login %s body = %s, want error %q with a message", tt.name, r.body, tt.wantErr)
				}
				if after := f.counts(t); after != before {
					t.Errorf("POST /login %s changed the store", tt.name)
				}
				if len(r.resp.Cookies()) != 0 {
					t.Errorf("POST /login %s set a cookie", tt.name)
				}
				return
			}
			if m["token"] == "" || m["token_type"] != "Bearer" || m["expires_in"] != float64(900) {
				t.Errorf("POST /login body = %s, want token, token_type Bearer, expires_in 900", r.body)
			}
			if cc := r.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control = %q, want no-store", cc)
			}
			cookies := r.resp.Cookies()
			if len(cookies) != 3 {
				t.Fatalf("cookies = %+v, want access, refresh and device", cookies)
			}
			if c := cookies[2]; c.Name != "jwtgate_device" || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/login" || c.Value == "" {
				t.Errorf("device cookie = %+v, want HttpOnly SameSite=Strict Path=/login", c)
			}
			if c := cookies[0]; c.Name != "jwtgate_access" || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Value != m["token"] || c.Secure || c.Path != "/" {
				t.Errorf("access cookie = %+v, want HttpOnly SameSite=Lax Path=/ holding the token", c)
			}
			if c := cookies[1]; c.Name != "jwtgate_refresh" || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Value != m["refresh_token"] || c.Path != "/token/refresh" {
				t.Errorf("refresh cookie = %+v, want HttpOnly SameSite=Strict Path=/token/refresh holding the refresh token", c)
			}
		})
	}
}

func TestLoginCookieUnderTLS(t *testing.T) {
	f := newFixture(t, Options{TLS: true})
	r := f.do(httptest.NewRequest("POST", "/login", strings.NewReader(`{"name":"alice","password":"alice-pass"}`)))
	c := r.resp.Cookies()
	if r.code != 200 || len(c) != 3 || !c[0].Secure || c[0].Name != "__Host-jwtgate_access" || c[0].Path != "/" ||
		!c[1].Secure || c[1].Name != "__Secure-jwtgate_refresh" || !c[2].Secure || c[2].Name != "__Secure-jwtgate_device" {
		t.Fatalf("TLS login = %d, cookies %+v; want Secure __Host- and __Secure- cookies", r.code, c)
	}
	if hsts := r.header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Errorf("Strict-Transport-Security = %q under TLS", hsts)
	}
}

// TestMiddleware walks the tutorial's rule: every path but the public ones
// needs a token; an unknown path is 401 without one and 404 with one.
func TestMiddleware(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.login(t, "alice", "alice-pass")
	other, _ := token.Generate(token.EdDSA)
	foreign, _ := token.Sign(other, &token.Claims{Name: "alice"})
	type auth int
	const (
		none auth = iota
		bearer
		cookie
	)
	tests := []struct {
		name     string
		method   string
		path     string
		header   string // raw Authorization header, overrides how
		how      auth
		wantCode int
		wantBody string
	}{
		{name: "user no token", method: "GET", path: "/user", wantCode: 401},
		{name: "user bearer", method: "GET", path: "/user", how: bearer, wantCode: 200, wantBody: `"name":"alice"`},
		{name: "user cookie", method: "GET", path: "/user", how: cookie, wantCode: 200, wantBody: `"name":"alice"`},
		{name: "user lower-case scheme", method: "GET", path: "/user", header: "bearer " + tok, wantCode: 200},
		{name: "user basic scheme", method: "GET", path: "/user", header: "Basic " + tok, wantCode: 401},
		{name: "user no space", method: "GET", path: "/user", header: "Bearer" + tok, wantCode: 401},
		{name: "user two spaces", method: "GET", path: "/user", header: "Bearer  " + tok, wantCode: 401},
		{name: "user empty bearer", method: "GET", path: "/user", header: "Bearer ", wantCode: 401},
		{name: "user garbage token", method: "GET", path: "/user", header: "Bearer abc.def.ghi", wantCode: 401},
		{name: "user foreign key", method: "GET", path: "/user", header: "Bearer " + foreign, wantCode: 401},
		{name: "bad header wins over good cookie", method: "GET", path: "/user", header: "Bearer nope", how: cookie, wantCode: 401},
		{name: "unknown path no token", method: "GET", path: "/nope", wantCode: 401},
		{name: "unknown path token", method: "GET", path: "/nope", how: bearer, wantCode: 404},
		{name: "unknown method on user with token", method: "DELETE", path: "/user", how: bearer, wantCode: 404},
		{name: "home public", method: "GET", path: "/", wantCode: 200, wantBody: "<html"},
		{name: "login page public", method: "GET", path: "/login", wantCode: 200, wantBody: "<form"},
		{name: "css public", method: "GET", path: "/assets/app.css", wantCode: 200},
		{name: "js public", method: "GET", path: "/assets/home.js", wantCode: 200},
		{name: "asset dir not listed", method: "GET", path: "/assets/", wantCode: 404},
		{name: "missing asset", method: "GET", path: "/assets/nope.js", wantCode: 404},
		{name: "healthz public", method: "GET", path: "/healthz", wantCode: 200},
		{name: "readyz public", method: "GET", path: "/readyz", wantCode: 200},
		{name: "logout needs token", method: "POST", path: "/logout", wantCode: 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			switch tt.how {
			case bearer:
				req.Header.Set("Authorization", "Bearer "+tok)
			case cookie:
				req.AddCookie(&http.Cookie{Name: "jwtgate_access", Value: tok})
			}
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			r := f.do(req)
			if r.code != tt.wantCode {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.code, r.body, tt.wantCode)
			}
			if tt.wantBody != "" && !bytes.Contains(r.body, []byte(tt.wantBody)) {
				t.Errorf("%s %s body = %.200s, want it to contain %s", tt.method, tt.path, r.body, tt.wantBody)
			}
			if r.code == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), `Bearer realm="jwtgate"`) {
				t.Errorf("401 without a Bearer challenge: %q", r.header.Get("WWW-Authenticate"))
			}
			csp := r.header.Get("Content-Security-Policy")
			switch {
			case strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "frame-ancestors 'none'"):
				t.Errorf("Content-Security-Policy = %q", csp)
			case strings.HasPrefix(r.header.Get("Content-Type"), "text/html") && !strings.Contains(csp, "script-src 'self'"):
				t.Errorf("page CSP = %q, want the page policy", csp)
			case !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") && csp != apiSecurityPolicy:
				t.Errorf("non-page CSP = %q, want %q", csp, apiSecurityPolicy)
			}
			for _, h := range []string{"X-Content-Type-Options", "X-Request-Id"} {
				if r.header.Get(h) == "" {
					t.Errorf("missing header %s", h)
				}
			}
			// Pages and their assets (what a browser renders or embeds)
			// also carry the document headers; JSON answers need not.
			document := r.code == 200 && (strings.HasPrefix(r.header.Get("Content-Type"), "text/html") || strings.HasPrefix(tt.path, "/assets/"))
			json := strings.HasPrefix(r.header.Get("Content-Type"), "application/json")
			for _, h := range []string{"X-Frame-Options", "Referrer-Policy", "Cross-Origin-Opener-Policy", "Cross-Origin-Resource-Policy", "Permissions-Policy"} {
				if got := r.header.Get(h) != ""; (document && !got) || (json && got) {
					t.Errorf("header %s present = %v on a %s answer", h, got, r.header.Get("Content-Type"))
				}
			}
		})
	}
}

func TestLogout(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.login(t, "alice", "alice-pass")
	claims, err := f.svc.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest("POST", "/logout", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	r := f.do(req)
	if r.code != 204 {
		t.Fatalf("POST /logout = %d %s, want 204", r.code, r.body)
	}
	c := r.resp.Cookies()
	if len(c) != 2 || c[0].MaxAge >= 0 || c[0].Value != "" || c[1].MaxAge >= 0 || c[1].Path != "/token/refresh" {
		t.Errorf("logout cookies = %+v, want both cookies cleared", c)
	}
	s, err := f.store.SessionByID(context.Background(), claims.SessionID)
	if err != nil || s.RevokedAt == nil {
		t.Errorf("session after logout = %+v, %v; want revoked", s, err)
	}
	// The same token is refused at once.
	req = httptest.NewRequest("GET", "/user", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	if r := f.do(req); r.code != 401 {
		t.Errorf("GET /user with a logged-out token = %d, want 401", r.code)
	}
}

// TestCrossOriginProtection: a cookie-authenticated state change from
// another site is refused; the same request from our own pages passes.
func TestCrossOriginProtection(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.login(t, "alice", "alice-pass")
	for _, tt := range []struct {
		site string
		want int
	}{{"cross-site", 403}, {"same-site", 403}, {"same-origin", 204}} {
		req := httptest.NewRequest("POST", "/logout", nil)
		req.AddCookie(&http.Cookie{Name: "jwtgate_access", Value: tok})
		req.Header.Set("Sec-Fetch-Site", tt.site)
		if r := f.do(req); r.code != tt.want {
			t.Errorf("POST /logout with Sec-Fetch-Site %s = %d, want %d", tt.site, r.code, tt.want)
		}
	}
	// Login CSRF: a cross-site form cannot log the victim in as the attacker.
	req := httptest.NewRequest("POST", "/login", strings.NewReader(`{"name":"alice","password":"alice-pass"}`))
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if r := f.do(req); r.code != 403 || r.json(t)["error"] != "cross_origin" {
		t.Errorf("cross-site POST /login = %d %s, want 403 cross_origin", r.code, r.body)
	}
}

func TestRecoverPanics(t *testing.T) {
	var logs bytes.Buffer
	h := recoverPanics(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }),
		slog.New(slog.NewTextHandler(&logs, nil)))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 || !strings.Contains(rec.Body.String(), `"error":"internal"`) || strings.Contains(rec.Body.String(), "boom") {
		t.Errorf("panic answered %d %q, want 500 JSON without the panic text", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "boom") {
		t.Errorf("panic not logged: %q", logs.String())
	}
}

// TestNoSecretsInLogs logs in and out with a logger capturing everything,
// then checks neither the password nor the token appears.
func TestNoSecretsInLogs(t *testing.T) {
	f := newFixture(t, Options{})
	var logs bytes.Buffer
	f.h = NewServer(Deps{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Auth: f.svc, Keys: f.kr, Ready: f.store.Ping}, Options{})
	tok := f.login(t, "alice", "alice-pass")
	f.do(httptest.NewRequest("POST", "/login", strings.NewReader(`{"name":"alice","password":"wrong-secret"}`)))
	req := httptest.NewRequest("GET", "/user?token=abc", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	f.do(req)
	for _, secret := range []string{"alice-pass", "wrong-secret", tok, strings.Split(tok, ".")[2], "token=abc"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("log contains secret %.20q...", secret)
		}
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		header      string
		wantTok     string
		wantPresent bool
	}{
		{"", "", false},
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER abc", "abc", true},
		{"Bearer", "", true},
		{"Bearer ", "", true},
		{"Bearer a b", "", true},
		{"Bearer a\tb", "", true},
		{"Basic abc", "", true},
		{"Token abc", "", true},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		if tt.header != "" {
			r.Header.Set("Authorization", tt.header)
		}
		tok, present := bearerToken(r)
		if tok != tt.wantTok || present != tt.wantPresent {
			t.Errorf("bearerToken(%q) = %q, %v; want %q, %v", tt.header, tok, present, tt.wantTok, tt.wantPresent)
		}
	}
}

// TestHotAnswersFitHeaderMap: the answers of the hottest routes keep to
// eight header fields, what net/http's per-response header map holds
// without growing (the 9th costs an allocation and a rehash on every
// request: measured as a tenth of /auth/verify's throughput). The one
// exception is /auth/verify's X-Auth-Amr, which SPEC section 2 requires
// (issue 14): nine there, and no more.
func TestHotAnswersFitHeaderMap(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.login(t, "admin", "admin-pass")
	for _, tt := range []struct {
		path string
		max  int
	}{{"/user", 8}, {"/auth/verify", 9}} {
		req := httptest.NewRequest("GET", tt.path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		f.h.ServeHTTP(rec, req)
		if rec.Code != 200 || len(rec.Header()) > tt.max {
			t.Errorf("GET %s = %d with %d header fields, want 200 with at most %d: %v", tt.path, rec.Code, len(rec.Header()), tt.max, rec.Header())
		}
	}
}

// TestRequestIDs: every answer carries its own 16-hex-digit request id.
func TestRequestIDs(t *testing.T) {
	f := newFixture(t, Options{})
	seen := map[string]bool{}
	for range 100 {
		id := f.do(httptest.NewRequest("GET", "/healthz", nil)).header.Get("X-Request-Id")
		if len(id) != 16 || strings.Trim(id, "0123456789abcdef") != "" {
			t.Fatalf("X-Request-Id = %q, want 16 hex digits", id)
		}
		if seen[id] {
			t.Fatalf("X-Request-Id %q given twice", id)
		}
		seen[id] = true
	}
}

// TestHotPathAllocations: in the default configuration (no access log, no
// metrics) the hot answers allocate nothing of their own but, for
// /auth/verify, the identity headers (request ids come in batches): no
// copy of the claims or of the request, no context value, no client
// address, no body buffer. A budget in allocations,
// not time, so that it holds on a busy machine; BenchmarkUser and
// bench/hot.sh measure the time.
func TestHotPathAllocations(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.login(t, "admin", "admin-pass")
	for _, tc := range []struct {
		name, path, header, value string
		budget                    float64
	}{
		{"bearer", "/user", "Authorization", "Bearer " + tok, 0},
		{"cookie", "/user", "Cookie", "theme=dark; jwtgate_access=" + tok, 0},
		{"verify", "/auth/verify", "Authorization", "Bearer " + tok, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", tc.path, nil)
			req.Header.Set(tc.header, tc.value)
			w := &discardWriter{h: http.Header{}}
			f.h.ServeHTTP(w, req) // the cache miss
			n := testing.AllocsPerRun(200, func() {
				clear(w.h)
				f.h.ServeHTTP(w, req)
			})
			// In tests the token cache checks on every hit that nobody
			// changed the shared claims, which allocates; a server does
			// not (auth's TestCachedClaimsShared: a hit allocates nothing).
			guard := testing.AllocsPerRun(200, func() { _, _ = f.svc.Verify(tok) })
			if n-guard > tc.budget {
				t.Errorf("GET %s (%s) allocates %v times per request besides the token cache's %v, budget %v", tc.path, tc.name, n-guard, guard, tc.budget)
			}
			if testing.Verbose() {
				t.Logf("GET %s (%s): %v allocations besides the token cache's", tc.path, tc.name, n-guard)
			}
			if len(w.h["X-Request-Id"]) != 1 || w.h.Get("Content-Type") != "application/json" {
				t.Errorf("GET %s (%s): headers %v, want the request id and a JSON answer", tc.path, tc.name, w.h)
			}
		})
	}
}

// TestAddrString: the client's address is the address's text, whether
// RemoteAddr holds it as such (then without an allocation) or not.
func TestAddrString(t *testing.T) {
	for _, tc := range []struct {
		addr, remote string
		allocs       float64
	}{
		{"192.0.2.1", "192.0.2.1:1234", 0},
		{"2001:db8::1", "[2001:db8::1]:443", 0},
		{"2001:db8::1", "[2001:DB8:0::1]:443", 1}, // not canonical
		{"192.0.2.1", "[::ffff:192.0.2.1]:80", 1}, // unmapped by clientip
		{"fe80::1", "[fe80::1%eth0]:80", 1},       // zone dropped
		{"198.51.100.7", "192.0.2.1:1234", 1},     // from X-Forwarded-For
		{"192.0.2.1", "192.0.2.1", 0},             // no port
		{"192.0.2.1", "", 1},
	} {
		a := netip.MustParseAddr(tc.addr)
		if got := addrString(a, tc.remote); got != a.String() {
			t.Errorf("addrString(%s, %q) = %q, want %q", tc.addr, tc.remote, got, a.String())
		}
		if n := testing.AllocsPerRun(10, func() { _ = addrString(a, tc.remote) }); n != tc.allocs {
			t.Errorf("addrString(%s, %q) allocates %v times, want %v", tc.addr, tc.remote, n, tc.allocs)
		}
	}
}

// TestRequestIDsBatched: ids handed out from many goroutines at once,
// across many batches, are all different, each a one-element slice that
// an append cannot extend into another's, and cost no allocation of their
// own.
func TestRequestIDsBatched(t *testing.T) {
	g := newRequestIDs()
	const workers, each = 8, 3 * idBatchLen
	got := make([][]string, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for range each {
				got[w] = append(got[w], g.header()...)
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, ids := range got {
		for _, id := range ids {
			if len(id) != 16 || strings.Trim(id, "0123456789abcdef") != "" || seen[id] {
				t.Fatalf("id %q: want 16 hex digits, never given twice", id)
			}
			seen[id] = true
		}
	}
	a, b := g.header(), g.header()
	if cap(a) != 1 {
		t.Errorf("an id's header value has capacity %d, want 1", cap(a))
	}
	a = append(a, "x")
	if b[0] == "x" || len(b[0]) != 16 {
		t.Errorf("appending to one id's value changed the next: %q", b)
	}
	if n := testing.AllocsPerRun(10*idBatchLen, func() { g.header() }); n > 0.1 {
		t.Errorf("an id costs %v allocations, want about 2 per %d", n, idBatchLen)
	}
}
