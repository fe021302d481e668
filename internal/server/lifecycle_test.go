package server

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/token"
)

// loginFull returns the whole login response.
func (f *fixture) loginFull(t testing.TB, name, pw string) map[string]any {
	t.Helper()
	r := f.do(httptest.NewRequest("POST", "/login", strings.NewReader(`{"name":"`+name+`","password":"`+pw+`"}`)))
	if r.code != 200 {
		t.Fatalf("POST /login %s = %d %s", name, r.code, r.body)
	}
	return r.json(t)
}

func bearer(method, path, tok, body string) *http.Request {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return req
}

func TestRefreshHandler(t *testing.T) {
	f := newFixture(t, Options{})
	m := f.loginFull(t, "alice", "alice-pass")
	rt := m["refresh_token"].(string)

	// By JSON body.
	r := f.do(httptest.NewRequest("POST", "/token/refresh", strings.NewReader(`{"refresh_token":"`+rt+`"}`)))
	if r.code != 200 {
		t.Fatalf("POST /token/refresh = %d %s", r.code, r.body)
	}
	next := r.json(t)
	if next["refresh_token"] == rt || next["token"] == "" || next["token_type"] != "Bearer" {
		t.Errorf("refresh answer = %s", r.body)
	}
	// By cookie (the browser), with an empty body.
	req := httptest.NewRequest("POST", "/token/refresh", nil)
	req.AddCookie(&http.Cookie{Name: "jwtgate_refresh", Value: next["refresh_token"].(string)})
	r = f.do(req)
	if r.code != 200 || len(r.resp.Cookies()) != 2 {
		t.Fatalf("POST /token/refresh by cookie = %d %s, cookies %v", r.code, r.body, r.resp.Cookies())
	}

	for _, tt := range []struct {
		name, body string
		cookie     string
		want       int
		code       string
	}{
		{name: "no token", body: "", want: 400, code: "invalid_request"},
		{name: "missing field", body: `{}`, want: 400, code: "invalid_request"},
		{name: "wrong type", body: `{"refresh_token":7}`, want: 400, code: "invalid_request"},
		{name: "bad JSON", body: `{"refresh_token":`, want: 400, code: "invalid_request"},
		{name: "unknown token", body: `{"refresh_token":"` + strings.Repeat("A", 43) + `"}`, want: 401, code: "invalid_grant"},
		{name: "garbage token", body: `{"refresh_token":"'; DROP TABLE sessions;--"}`, want: 401, code: "invalid_grant"},
		{name: "garbage cookie", cookie: "nope", want: 401, code: "invalid_grant"},
		{name: "huge body", body: `{"refresh_token":"` + strings.Repeat("A", 1<<20) + `"}`, want: 413, code: "body_too_large"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("POST", "/token/refresh", strings.NewReader(tt.body))
			if tt.cookie != "" {
				req.AddCookie(&http.Cookie{Name: "jwtgate_refresh", Value: tt.cookie})
			}
			r := f.do(req)
			if r.code != tt.want || r.json(t)["error"] != tt.code {
				t.Errorf("POST /token/refresh (%s) = %d %s, want %d %s", tt.name, r.code, r.body, tt.want, tt.code)
			}
		})
	}
}

func TestSessionsHandlers(t *testing.T) {
	f := newFixture(t, Options{})
	a := f.loginFull(t, "alice", "alice-pass")["token"].(string)
	b := f.loginFull(t, "alice", "alice-pass")["token"].(string)
	admin := f.loginFull(t, "admin", "admin-pass")["token"].(string)

	r := f.do(bearer("GET", "/user/sessions", a, ""))
	var list struct {
		Sessions []struct {
			ID      string `json:"id"`
			Current bool   `json:"current"`
		} `json:"sessions"`
	}
	if err := json.Unmarshal(r.body, &list); r.code != 200 || err != nil || len(list.Sessions) != 2 {
		t.Fatalf("GET /user/sessions = %d %s", r.code, r.body)
	}
	claimsB, _ := f.svc.Verify(b)
	// Another user cannot revoke alice's session, nor learn that it exists.
	if r := f.do(bearer("DELETE", "/user/sessions/"+claimsB.SessionID, admin, "")); r.code != 404 {
		t.Errorf("DELETE someone else's session = %d, want 404", r.code)
	}
	if r := f.do(bearer("DELETE", "/user/sessions/"+claimsB.SessionID, a, "")); r.code != 204 {
		t.Fatalf("DELETE own other session = %d %s", r.code, r.body)
	}
	if r := f.do(bearer("GET", "/user", b, "")); r.code != 401 {
		t.Errorf("GET /user with the revoked session's token = %d, want 401", r.code)
	}
	if r := f.do(bearer("DELETE", "/user/sessions/"+claimsB.SessionID, a, "")); r.code != 404 {
		t.Errorf("DELETE an already revoked session = %d, want 404", r.code)
	}
}

func TestChangePasswordHandler(t *testing.T) {
	f := newFixture(t, Options{})
	a := f.loginFull(t, "alice", "alice-pass")["token"].(string)
	other := f.loginFull(t, "alice", "alice-pass")["token"].(string)
	for _, tt := range []struct {
		body string
		want int
		code string
	}{
		{`{"current_password":"nope","new_password":"long-enough"}`, 400, "invalid_credentials"},
		{`{"current_password":"alice-pass","new_password":"short"}`, 400, "invalid_request"},
		{`{"current_password":"alice-pass"}`, 400, "invalid_request"},
		{`{"current_password":1,"new_password":"long-enough"}`, 400, "invalid_request"},
	} {
		if r := f.do(bearer("POST", "/user/password", a, tt.body)); r.code != tt.want || r.json(t)["error"] != tt.code {
			t.Errorf("POST /user/password %s = %d %s, want %d %s", tt.body, r.code, r.body, tt.want, tt.code)
		}
	}
	if r := f.do(bearer("POST", "/user/password", a, `{"current_password":"alice-pass","new_password":"brand-new-pass"}`)); r.code != 204 {
		t.Fatalf("POST /user/password = %d %s", r.code, r.body)
	}
	if r := f.do(bearer("GET", "/user", other, "")); r.code != 401 {
		t.Errorf("other session after password change = %d, want 401", r.code)
	}
	if r := f.do(bearer("GET", "/user", a, "")); r.code != 200 {
		t.Errorf("changing session after password change = %d, want 200", r.code)
	}
	f.loginFull(t, "alice", "brand-new-pass")
}

func TestJWKSAndDiscovery(t *testing.T) {
	f := newFixture(t, Options{})
	r := f.do(httptest.NewRequest("GET", "/.well-known/jwks.json", nil))
	if r.code != 200 || !strings.Contains(r.header.Get("Cache-Control"), "max-age=300") {
		t.Fatalf("GET jwks = %d, Cache-Control %q", r.code, r.header.Get("Cache-Control"))
	}
	keys, err := token.ParseJWKS(r.body)
	// The signing key, and the RS256 key OpenID Connect id_tokens need.
	if err != nil || len(keys) != 2 || !slices.ContainsFunc(keys, func(k *token.Key) bool { return k.ID == f.kr.Signer().ID }) ||
		!slices.ContainsFunc(keys, func(k *token.Key) bool { return k.Alg == token.RS256 }) {
		t.Fatalf("JWKS keys = %v, %v; want the signing key and an RS256 key", keys, err)
	}
	if strings.Contains(string(r.body), `"d"`) {
		t.Fatal("JWKS contains a private member")
	}
	// A token from /login verifies with nothing but the published key.
	tok := f.loginFull(t, "alice", "alice-pass")["token"].(string)
	v := token.NewVerifier(token.NewKeySet(keys...), []string{token.EdDSA}, token.VerifierOptions{Issuer: "http://test"})
	if _, err := v.Verify(tok); err != nil {
		t.Errorf("verify with JWKS key = %v", err)
	}
	r = f.do(httptest.NewRequest("GET", "/.well-known/openid-configuration", nil))
	m := r.json(t)
	if r.code != 200 || m["issuer"] != "http://test" || m["jwks_uri"] != "http://test/.well-known/jwks.json" {
		t.Errorf("discovery = %d %s", r.code, r.body)
	}
}

func TestRevocationFeedHandler(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.loginFull(t, "alice", "alice-pass")["token"].(string)
	claims, _ := f.svc.Verify(tok)
	r := f.do(httptest.NewRequest("GET", "/revocations", nil))
	if r.code != 200 || r.json(t)["cursor"] != "0" {
		t.Fatalf("empty feed = %d %s", r.code, r.body)
	}
	f.do(bearer("POST", "/logout", tok, ""))
	r = f.do(httptest.NewRequest("GET", "/revocations?since=0", nil))
	var feed struct {
		Cursor      string `json:"cursor"`
		Revocations []struct {
			SID string `json:"sid"`
			Exp int64  `json:"exp"`
		} `json:"revocations"`
	}
	if err := json.Unmarshal(r.body, &feed); err != nil || len(feed.Revocations) != 1 || feed.Revocations[0].SID != claims.SessionID || feed.Revocations[0].Exp <= claims.ExpiresAt.Unix()-1 {
		t.Fatalf("feed after logout = %s", r.body)
	}
	r = f.do(httptest.NewRequest("GET", "/revocations?since="+feed.Cursor, nil))
	if r.code != 200 || strings.Contains(string(r.body), claims.SessionID) {
		t.Errorf("feed after its own cursor = %s, want nothing new", r.body)
	}
	for _, bad := range []string{"abc", "-1", "1e9", "9999999999999999999999", "999" /* past the end */} {
		if r := f.do(httptest.NewRequest("GET", "/revocations?since="+bad, nil)); r.code != 400 {
			t.Errorf("feed since=%s = %d, want 400", bad, r.code)
		}
	}
}

// TestAdminRoutes: every /admin/ route refuses a non-admin token with 403
// and no token with 401. The routes are enumerated from the mux, so a new
// admin route cannot slip through untested.
func TestAdminRoutes(t *testing.T) {
	f := newFixture(t, Options{})
	user := f.loginFull(t, "alice", "alice-pass")["token"].(string)
	admin := f.loginFull(t, "admin", "admin-pass")["token"].(string)
	mux := http.NewServeMux()
	var patterns []string
	addRoutes(&recordingMux{mux, &patterns}, Deps{Auth: f.svc, Keys: f.kr, Ready: f.store.Ping}, newCookies(false, "", nil), Options{MaxBodyBytes: 1024})
	n := 0
	for _, p := range patterns {
		method, path, _ := strings.Cut(p, " ")
		if !strings.HasPrefix(path, "/admin/") {
			continue
		}
		n++
		path = strings.NewReplacer("{name}", "alice", "{id}", "x").Replace(path)
		if r := f.do(bearer(method, path, user, "")); r.code != 403 || r.json(t)["error"] != "forbidden" {
			t.Errorf("%s %s as a user = %d %s, want 403", method, path, r.code, r.body)
		}
		if r := f.do(bearer(method, path, "", "")); r.code != 401 {
			t.Errorf("%s %s without a token = %d, want 401", method, path, r.code)
		}
	}
	if n < 3 {
		t.Fatalf("found %d admin routes, want at least 3", n)
	}
	if r := f.do(bearer("GET", "/admin/keys", admin, "")); r.code != 200 || !strings.Contains(string(r.body), `"state":"active"`) {
		t.Errorf("GET /admin/keys as admin = %d %s", r.code, r.body)
	}
	if r := f.do(bearer("POST", "/admin/keys/rotate", admin, "")); r.code != 201 {
		t.Errorf("POST /admin/keys/rotate = %d %s", r.code, r.body)
	}
	if r := f.do(bearer("DELETE", "/admin/users/alice/sessions", admin, "")); r.code != 200 || r.json(t)["revoked"] != float64(1) {
		t.Errorf("DELETE /admin/users/alice/sessions = %d %s, want 1 revoked", r.code, r.body)
	}
	if r := f.do(bearer("GET", "/user", user, "")); r.code != 401 {
		t.Errorf("alice's token after admin revocation = %d, want 401", r.code)
	}
	if r := f.do(bearer("DELETE", "/admin/users/nobody/sessions", admin, "")); r.code != 404 {
		t.Errorf("revoke sessions of an unknown user = %d, want 404", r.code)
	}
}

// recordingMux records the patterns addRoutes registers.
type recordingMux struct {
	*http.ServeMux
	patterns *[]string
}

func (m *recordingMux) Handle(p string, h http.Handler) {
	*m.patterns = append(*m.patterns, p)
	m.ServeMux.Handle(p, h)
}

func TestForwardAuth(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.loginFull(t, "admin", "admin-pass")["token"].(string)
	for _, method := range []string{"GET", "HEAD", "POST"} {
		r := f.do(bearer(method, "/auth/verify", tok, ""))
		if r.code != 200 || r.header.Get("X-Auth-User") != "admin" || r.header.Get("X-Auth-Roles") != "admin" || r.header.Get("X-Auth-User-Id") == "" {
			t.Errorf("%s /auth/verify = %d %v", method, r.code, r.header)
		}
	}
	req := httptest.NewRequest("GET", "/auth/verify", nil)
	req.AddCookie(&http.Cookie{Name: "jwtgate_access", Value: tok})
	if r := f.do(req); r.code != 200 {
		t.Errorf("/auth/verify by cookie = %d", r.code)
	}
	for _, h := range []string{"", "Bearer nope", "Basic YWRtaW46MTIzNA=="} {
		req := httptest.NewRequest("GET", "/auth/verify", nil)
		if h != "" {
			req.Header.Set("Authorization", h)
		}
		if r := f.do(req); r.code != 401 || r.header.Get("X-Auth-User") != "" {
			t.Errorf("/auth/verify with %q = %d, want 401 and no identity", h, r.code)
		}
	}
	f.do(bearer("POST", "/logout", tok, ""))
	if r := f.do(bearer("GET", "/auth/verify", tok, "")); r.code != 401 {
		t.Errorf("/auth/verify after logout = %d, want 401", r.code)
	}
}
