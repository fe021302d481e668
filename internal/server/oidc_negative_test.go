package server

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/oidc"
)

// tokens runs a code flow to the end and returns the token response.
func (c *rp) tokens(t *testing.T) map[string]any {
	t.Helper()
	verifier, challenge := pkce("tok")
	q := c.authorize(url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}})
	code, body := c.token(url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {c.redirect}, "code_verifier": {verifier}})
	if code != 200 {
		t.Fatalf("code exchange = %d %v", code, body)
	}
	return body
}

// verifyStatus is what /auth/verify says of an access token.
func (f *fixture) verifyStatus(tok string) int {
	return f.do(bearer("GET", "/auth/verify", tok, "")).code
}

// TestOIDCTokenRefusals: every way a code or a client's proof can be
// wrong is a clear OAuth error and no token.
func TestOIDCTokenRefusals(t *testing.T) {
	f := newFixture(t, Options{})
	c := newRP(t, f, oidc.ClientSpec{Name: "web"})
	other := newRP(t, f, oidc.ClientSpec{Name: "other"})
	pub := newRP(t, f, oidc.ClientSpec{Name: "native", Public: true, RedirectURIs: []string{"http://127.0.0.1/cb"}})
	verifier, challenge := pkce("ver")
	withPKCE := url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	exchange := func(client *rp, code string, mod func(url.Values)) (int, map[string]any) {
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {client.redirect}, "code_verifier": {verifier}}
		if mod != nil {
			mod(form)
		}
		return client.token(form)
	}
	tests := []struct {
		name   string
		client *rp
		mod    func(url.Values)
		status int
		err    string
	}{
		{name: "missing verifier", client: c, mod: func(v url.Values) { v.Del("code_verifier") }, status: 400, err: "invalid_grant"},
		{name: "wrong verifier", client: c, mod: func(v url.Values) { v.Set("code_verifier", strings.Repeat("x", 43)) }, status: 400, err: "invalid_grant"},
		{name: "short verifier", client: c, mod: func(v url.Values) { v.Set("code_verifier", "abc") }, status: 400, err: "invalid_grant"},
		{name: "redirect_uri with a trailing slash", client: c, mod: func(v url.Values) { v.Set("redirect_uri", c.redirect+"/") }, status: 400, err: "invalid_grant"},
		{name: "no redirect_uri", client: c, mod: func(v url.Values) { v.Del("redirect_uri") }, status: 400, err: "invalid_request"},
		{name: "code of another client", client: other, status: 400, err: "invalid_grant"},
		{name: "unknown code", client: c, mod: func(v url.Values) { v.Set("code", "nope") }, status: 400, err: "invalid_grant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := c.authorize(withPKCE)
			status, body := exchange(tt.client, q.Get("code"), tt.mod)
			if status != tt.status || body["error"] != tt.err || body["access_token"] != nil {
				t.Fatalf("token exchange (%s) = %d %v, want %d %s and no token", tt.name, status, body, tt.status, tt.err)
			}
			// A code is good for one attempt: the failed one spent it.
			if tt.name != "unknown code" && tt.name != "no redirect_uri" {
				if status, body := exchange(c, q.Get("code"), nil); status != 400 || body["error"] != "invalid_grant" {
					t.Errorf("the same code after a failed attempt = %d %v, want 400 invalid_grant", status, body)
				}
			}
		})
	}

	t.Run("wrong secret", func(t *testing.T) {
		q := c.authorize(withPKCE)
		bad := *c
		bad.secret = "wrong-" + c.secret
		status, body := exchange(&bad, q.Get("code"), nil)
		if status != 401 || body["error"] != "invalid_client" || body["access_token"] != nil {
			t.Fatalf("token with a wrong secret = %d %v, want 401 invalid_client", status, body)
		}
	})
	t.Run("unknown client", func(t *testing.T) {
		bad := *c
		bad.id = "no-such-client"
		status, body := bad.token(url.Values{"grant_type": {"client_credentials"}})
		if status != 401 || body["error"] != "invalid_client" {
			t.Fatalf("token for an unknown client = %d %v, want 401 invalid_client", status, body)
		}
	})
	t.Run("client_secret_post", func(t *testing.T) {
		q := c.authorize(withPKCE)
		form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {c.redirect},
			"code_verifier": {verifier}, "client_id": {c.id}, "client_secret": {c.secret}}
		req := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r := f.do(req); r.code != 200 {
			t.Fatalf("client_secret_post = %d %s, want 200", r.code, r.body)
		}
	})
	t.Run("verifier without challenge", func(t *testing.T) {
		q := c.authorize(nil)
		if status, body := exchange(c, q.Get("code"), nil); status != 400 || body["error"] != "invalid_grant" {
			t.Fatalf("a verifier for a code issued without PKCE = %d %v, want 400 invalid_grant", status, body)
		}
	})
	t.Run("public client", func(t *testing.T) {
		if status, body := pub.token(url.Values{"grant_type": {"client_credentials"}}); status != 400 && status != 401 || body["access_token"] != nil {
			t.Fatalf("client_credentials for a public client = %d %v, want refused", status, body)
		}
		q := pub.authorize(withPKCE)
		if status, body := exchange(pub, q.Get("code"), nil); status != 200 || body["refresh_token"] == nil {
			t.Fatalf("public client's code exchange = %d %v", status, body)
		}
	})
	t.Run("introspection needs a confidential client", func(t *testing.T) {
		form := url.Values{"token": {"x"}, "client_id": {pub.id}}
		req := httptest.NewRequest("POST", "/oauth2/introspect", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if r := f.do(req); r.code != 401 && r.code != 400 {
			t.Fatalf("introspect by a public client = %d %s, want refused", r.code, r.body)
		}
	})
}

// TestOIDCCodeReuse: a code's second use fails, and what its first use
// issued dies with it (RFC 6749 section 4.1.2).
func TestOIDCCodeReuse(t *testing.T) {
	f := newFixture(t, Options{})
	c := newRP(t, f, oidc.ClientSpec{})
	verifier, challenge := pkce("reuse")
	q := c.authorize(url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}})
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {c.redirect}, "code_verifier": {verifier}}
	status, first := c.token(form)
	if status != 200 {
		t.Fatalf("first exchange = %d %v", status, first)
	}
	access := first["access_token"].(string)
	if got := f.verifyStatus(access); got != 200 {
		t.Fatalf("first access token at /auth/verify = %d", got)
	}
	status, second := c.token(form)
	if status != 400 || second["error"] != "invalid_grant" || second["access_token"] != nil {
		t.Fatalf("second exchange = %d %v, want 400 invalid_grant", status, second)
	}
	if got := f.verifyStatus(access); got != 401 {
		t.Errorf("first use's access token after the code's reuse = %d, want 401", got)
	}
	if status, body := c.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)}}); status != 400 || body["error"] != "invalid_grant" {
		t.Errorf("first use's refresh token after the code's reuse = %d %v, want 400 invalid_grant", status, body)
	}
}

// TestOIDCCodeExpiry: a code is refused 60 s after it was issued.
func TestOIDCCodeExpiry(t *testing.T) {
	f := newFixture(t, Options{})
	var skew atomic.Int64
	clock := func() time.Time { return time.Now().Add(time.Duration(skew.Load())) }
	op := oidc.New(f.store, f.svc, f.kr, oidc.Options{Issuer: "http://test", Now: clock})
	f.h = NewServer(Deps{Logger: slog.New(slog.DiscardHandler), Auth: f.svc, Keys: f.kr, Ready: f.store.Ping, OIDC: op}, Options{Issuer: "http://test"})
	c := newRP(t, f, oidc.ClientSpec{Trusted: true})
	verifier, challenge := pkce("exp")
	q := c.authorize(url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}})
	skew.Store(int64(61 * time.Second))
	status, body := c.token(url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {c.redirect}, "code_verifier": {verifier}})
	if status != 400 || body["error"] != "invalid_grant" || body["access_token"] != nil {
		t.Fatalf("exchange 61 s after issue = %d %v, want 400 invalid_grant", status, body)
	}
}

// TestOIDCRefreshScope: a refresh may narrow the scopes, never widen
// them, and a refused widening does not spend the token.
func TestOIDCRefreshScope(t *testing.T) {
	f := newFixture(t, Options{})
	c := newRP(t, f, oidc.ClientSpec{})
	verifier, challenge := pkce("scope")
	q := c.authorize(url.Values{"scope": {"openid offline_access"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}})
	status, body := c.token(url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {c.redirect}, "code_verifier": {verifier}})
	if status != 200 {
		t.Fatalf("exchange = %d %v", status, body)
	}
	rt := body["refresh_token"].(string)
	status, wider := c.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {"openid offline_access email"}})
	if status != 400 || wider["error"] != "invalid_scope" || wider["access_token"] != nil {
		t.Fatalf("refresh asking for email too = %d %v, want 400 invalid_scope", status, wider)
	}
	status, narrower := c.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "scope": {"openid"}})
	if status != 200 || narrower["scope"] != "openid" {
		t.Fatalf("refresh narrowing to openid = %d %v, want 200 scope openid", status, narrower)
	}
	// Another client cannot spend it.
	other := newRP(t, f, oidc.ClientSpec{Name: "other"})
	if status, body := other.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {narrower["refresh_token"].(string)}}); status != 400 || body["error"] != "invalid_grant" {
		t.Fatalf("another client's refresh = %d %v, want 400 invalid_grant", status, body)
	}
	if status, _ := c.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {narrower["refresh_token"].(string)}}); status != 200 {
		t.Fatalf("refresh after another client tried = %d, want 200 (not spent)", status)
	}
}

// TestOIDCAuthorizeRefusals: a request whose client or redirect URI is not
// known exactly is answered with a page, never a redirect; other faults go
// back to the (registered) redirect URI with error, state and iss.
func TestOIDCAuthorizeRefusals(t *testing.T) {
	f := newFixture(t, Options{})
	c := newRP(t, f, oidc.ClientSpec{RedirectURIs: []string{"https://app.example.test/cb?x=1"}})
	pub := newRP(t, f, oidc.ClientSpec{Name: "native", Public: true, RedirectURIs: []string{"http://127.0.0.1:4000/cb"}})
	_, challenge := pkce("auth")
	base := func(client *rp) url.Values {
		return url.Values{"response_type": {"code"}, "client_id": {client.id}, "redirect_uri": {client.redirect}, "scope": {"openid"},
			"state": {"s1"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	}
	page := []struct {
		name string
		raw  func() string
	}{
		{"unknown client", func() string { v := base(c); v.Set("client_id", "nope"); return v.Encode() }},
		{"no client_id", func() string { v := base(c); v.Del("client_id"); return v.Encode() }},
		{"no redirect_uri", func() string { v := base(c); v.Del("redirect_uri"); return v.Encode() }},
		{"trailing slash", func() string {
			v := base(c)
			v.Set("redirect_uri", "https://app.example.test/cb/?x=1")
			return v.Encode()
		}},
		{"case", func() string {
			v := base(c)
			v.Set("redirect_uri", "https://APP.example.test/cb?x=1")
			return v.Encode()
		}},
		{"port", func() string {
			v := base(c)
			v.Set("redirect_uri", "https://app.example.test:8443/cb?x=1")
			return v.Encode()
		}},
		{"query", func() string {
			v := base(c)
			v.Set("redirect_uri", "https://app.example.test/cb?x=2")
			return v.Encode()
		}},
		{"no query", func() string { v := base(c); v.Set("redirect_uri", "https://app.example.test/cb"); return v.Encode() }},
		{"another host", func() string { v := base(c); v.Set("redirect_uri", "https://evil.example/cb?x=1"); return v.Encode() }},
		{"loopback host for a confidential client", func() string { v := base(c); v.Set("redirect_uri", "http://127.0.0.1/cb?x=1"); return v.Encode() }},
		{"public client, localhost name instead of the IP", func() string {
			v := base(pub)
			v.Set("redirect_uri", "http://localhost:4000/cb")
			return v.Encode()
		}},
		{"duplicated client_id", func() string { return base(c).Encode() + "&client_id=" + c.id }},
		{"duplicated redirect_uri", func() string { return base(c).Encode() + "&redirect_uri=" + url.QueryEscape("https://evil.example/") }},
		{"oversized state", func() string { v := base(c); v.Set("state", strings.Repeat("s", 5000)); return v.Encode() }},
		{"too many parameters", func() string {
			v := base(c)
			for i := range 40 {
				v.Set("p"+strings.Repeat("x", i), "1")
			}
			return v.Encode()
		}},
		{"control character", func() string { v := base(c); v.Set("state", "a\x01b"); return v.Encode() }},
	}
	for _, tt := range page {
		t.Run(tt.name, func(t *testing.T) {
			r := c.browse("/oauth2/authorize?" + tt.raw())
			if r.code != 400 || r.header.Get("Location") != "" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
				t.Fatalf("authorize (%s) = %d Location %q, want a 400 page and no redirect", tt.name, r.code, r.header.Get("Location"))
			}
		})
	}
	// The RFC 8252 loopback rule: a public client's registered IP literal on another port is fine.
	if r := pub.browse("/oauth2/authorize?" + func() string { v := base(pub); v.Set("redirect_uri", "http://127.0.0.1:5555/cb"); return v.Encode() }()); r.code != 302 {
		t.Errorf("public client on another loopback port = %d, want 302", r.code)
	}

	redirected := []struct {
		name string
		mod  func(url.Values, *rp) *rp
		err  string
	}{
		{"response_type=token", func(v url.Values, c *rp) *rp { v.Set("response_type", "token"); return c }, "unsupported_response_type"},
		{"response_type=id_token", func(v url.Values, c *rp) *rp { v.Set("response_type", "id_token"); return c }, "unsupported_response_type"},
		{"plain PKCE", func(v url.Values, c *rp) *rp { v.Set("code_challenge_method", "plain"); return c }, "invalid_request"},
		{"challenge without method", func(v url.Values, c *rp) *rp { v.Del("code_challenge_method"); return c }, "invalid_request"},
		{"public client without PKCE", func(v url.Values, _ *rp) *rp {
			v.Del("code_challenge")
			v.Del("code_challenge_method")
			v.Set("client_id", pub.id)
			v.Set("redirect_uri", pub.redirect)
			return pub
		}, "invalid_request"},
		{"no openid scope", func(v url.Values, c *rp) *rp { v.Set("scope", "email"); return c }, "invalid_scope"},
		{"request object", func(v url.Values, c *rp) *rp { v.Set("request", "eyJhbGciOiJub25lIn0.e30."); return c }, "request_not_supported"},
		{"form_post", func(v url.Values, c *rp) *rp { v.Set("response_mode", "form_post"); return c }, "invalid_request"},
		{"prompt=none without consent", func(v url.Values, c *rp) *rp { v.Set("prompt", "none"); return c }, "consent_required"},
	}
	for _, tt := range redirected {
		t.Run(tt.name, func(t *testing.T) {
			v := base(c)
			client := tt.mod(v, c)
			r := client.browse("/oauth2/authorize?" + v.Encode())
			for r.code == 302 && strings.HasPrefix(r.header.Get("Location"), "http://test/") {
				r = client.browse(r.header.Get("Location"))
			}
			loc, _ := url.Parse(r.header.Get("Location"))
			if r.code != 302 || !strings.HasPrefix(loc.String(), client.redirect[:strings.Index(client.redirect, "/cb")]) {
				t.Fatalf("authorize (%s) = %d Location %q, want a redirect to the client", tt.name, r.code, loc)
			}
			q := loc.Query()
			if loc.Fragment != "" { // implicit response types answer in the fragment
				q, _ = url.ParseQuery(loc.Fragment)
			}
			if q.Get("error") != tt.err || q.Get("state") != "s1" || q.Get("iss") != "http://test" || q.Get("code") != "" {
				t.Fatalf("authorize (%s) redirected with %v, want error %s, state s1, iss, no code", tt.name, q, tt.err)
			}
		})
	}
	t.Run("prompt=none without a session", func(t *testing.T) {
		anon := *c
		anon.cookie = ""
		v := base(c)
		v.Set("prompt", "none")
		r := anon.browse("/oauth2/authorize?" + v.Encode())
		r = anon.browse(r.header.Get("Location"))
		loc, _ := url.Parse(r.header.Get("Location"))
		if loc.Query().Get("error") != "login_required" {
			t.Fatalf("prompt=none without a session = %d %q, want login_required", r.code, loc)
		}
	})
	t.Run("no session: the login page, back to the continuation", func(t *testing.T) {
		anon := *c
		anon.cookie = ""
		r := anon.browse("/oauth2/authorize?" + base(c).Encode())
		r = anon.browse(r.header.Get("Location"))
		loc := r.header.Get("Location")
		if r.code != 302 || !strings.HasPrefix(loc, "http://test/login?return_to=") || !strings.Contains(loc, url.QueryEscape("/oauth2/authorize/continue?id=")) {
			t.Fatalf("authorization without a session = %d %q, want the login page returning to the continuation", r.code, loc)
		}
		v := base(c)
		v.Set("login_hint", "alice")
		r = anon.browse("/oauth2/authorize?" + v.Encode())
		r = anon.browse(r.header.Get("Location"))
		if loc := r.header.Get("Location"); !strings.HasSuffix(loc, "&login_hint=alice") {
			t.Errorf("login page for a login_hint = %q, want it passed on", loc)
		}
		// The login page serves with it (its script fills the name in).
		if r := anon.browse(r.header.Get("Location")); r.code != 200 {
			t.Errorf("login page with a login_hint = %d, want 200", r.code)
		}
	})
}

// TestOIDCConsent: consent is refused cross-site, a refusal goes back as
// access_denied, an approval is remembered until the user disconnects the
// app, which also ends the app's tokens.
func TestOIDCConsent(t *testing.T) {
	f := newFixture(t, Options{})
	c := newRP(t, f, oidc.ClientSpec{})
	_, challenge := pkce("consent")
	v := url.Values{"response_type": {"code"}, "client_id": {c.id}, "redirect_uri": {c.redirect}, "scope": {"openid"},
		"state": {"s1"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	r := c.browse("/oauth2/authorize?" + v.Encode())
	r = c.browse(r.header.Get("Location"))
	loc := r.header.Get("Location")
	if !strings.Contains(loc, "/oauth2/consent?id=") {
		t.Fatalf("first authorization = %d %q, want the consent page", r.code, loc)
	}
	id, _ := url.QueryUnescape(loc[strings.Index(loc, "id=")+3:])
	post := func(body, site string) result {
		req := httptest.NewRequest("POST", "/oauth2/consent", strings.NewReader(body))
		req.Header.Set("Cookie", c.cookie)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Sec-Fetch-Site", site)
		return f.do(req)
	}
	if r := post(`{"id":"`+id+`","approve":true}`, "cross-site"); r.code != http.StatusForbidden {
		t.Fatalf("cross-site consent POST = %d %s, want 403", r.code, r.body)
	}
	if r := c.browse("/user/apps"); !strings.Contains(string(r.body), `"apps":[]`) {
		t.Fatalf("apps after a refused cross-site consent = %s, want none", r.body)
	}
	if r := c.browse("/oauth2/consent/request?id=" + url.QueryEscape(id)); r.code != 200 || r.json(t)["client_name"] != "app" {
		t.Fatalf("consent request = %d %s", r.code, r.body)
	}
	r = post(`{"id":"`+id+`","approve":false}`, "same-origin")
	if to := r.json(t)["redirect_to"].(string); r.code != 200 || !strings.Contains(to, "error=access_denied") || !strings.Contains(to, "state=s1") {
		t.Fatalf("refusing = %d %s, want a redirect with access_denied", r.code, r.body)
	}
	if r := post(`{"id":"`+id+`","approve":true}`, "same-origin"); r.code != 404 {
		t.Errorf("approving an answered request = %d, want 404 request_gone", r.code)
	}
	body := c.tokens(t) // approves
	if r := c.browse("/user/apps"); r.code != 200 || !strings.Contains(string(r.body), c.id) {
		t.Fatalf("GET /user/apps = %d %s, want the app", r.code, r.body)
	}
	req := httptest.NewRequest("DELETE", "/user/apps/"+c.id, nil)
	req.Header.Set("Cookie", c.cookie)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if r := f.do(req); r.code != 204 {
		t.Fatalf("DELETE /user/apps = %d %s", r.code, r.body)
	}
	if got := f.verifyStatus(body["access_token"].(string)); got != 401 {
		t.Errorf("the app's access token after disconnecting = %d, want 401", got)
	}
	if r := f.do(req); r.code != 404 {
		t.Errorf("DELETE /user/apps again = %d, want 404", r.code)
	}
}

// TestOIDCEndSession: RP-initiated logout goes only to a registered
// post-logout URI, needs a valid id_token_hint, and ends the sessions.
func TestOIDCEndSession(t *testing.T) {
	f := newFixture(t, Options{})
	c := newRP(t, f, oidc.ClientSpec{PostLogoutRedirectURIs: []string{"https://app.example.test/bye"}})
	body := c.tokens(t)
	hint := body["id_token"].(string)
	for _, tt := range []struct{ name, query string }{
		{"unregistered post_logout_redirect_uri", "id_token_hint=" + hint + "&post_logout_redirect_uri=" + url.QueryEscape("https://evil.example/")},
		{"prefix of a registered one", "id_token_hint=" + hint + "&post_logout_redirect_uri=" + url.QueryEscape("https://app.example.test/bye/x")},
		{"no hint, unregistered post_logout_redirect_uri", "post_logout_redirect_uri=" + url.QueryEscape("https://evil.example/") + "&client_id=" + c.id},
		{"no hint, no client_id", "post_logout_redirect_uri=" + url.QueryEscape("https://app.example.test/bye")},
		{"forged hint", "id_token_hint=" + hint[:len(hint)-4] + "AAAA&post_logout_redirect_uri=" + url.QueryEscape("https://app.example.test/bye")},
		{"another client_id", "id_token_hint=" + hint + "&client_id=other"},
	} {
		r := c.browse("/oauth2/end_session?" + tt.query)
		if r.code != 400 || r.header.Get("Location") != "" {
			t.Errorf("end_session (%s) = %d Location %q, want a 400 page, no redirect", tt.name, r.code, r.header.Get("Location"))
		}
	}
	if got := f.verifyStatus(body["access_token"].(string)); got != 200 {
		t.Fatalf("access token after refused logouts = %d, want 200", got)
	}
	// Without a hint the user is asked; the confirmation is refused
	// cross-site, and the page then links back (no redirect).
	unhinted := url.Values{"client_id": {c.id}, "post_logout_redirect_uri": {"https://app.example.test/bye"}, "state": {"z"}}
	if r := c.browse("/oauth2/end_session?" + unhinted.Encode()); r.code != 200 || r.header.Get("Location") != "" || !strings.Contains(string(r.body), `name="confirm" value="1"`) {
		t.Fatalf("end_session without a hint = %d %q %s, want a confirmation page", r.code, r.header.Get("Location"), r.body)
	}
	confirm := func(site string) result {
		v := url.Values{"confirm": {"1"}}
		for k, x := range unhinted {
			v[k] = x
		}
		req := httptest.NewRequest("POST", "/oauth2/end_session", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", c.cookie)
		req.Header.Set("Sec-Fetch-Site", site)
		return f.do(req)
	}
	if r := confirm("cross-site"); r.code != 403 {
		t.Fatalf("cross-site logout confirmation = %d, want 403", r.code)
	}
	if r := c.browse("/user"); r.code != 200 {
		t.Fatalf("the browser's session after a refused confirmation = %d, want 200", r.code)
	}
	second := newRP(t, f, oidc.ClientSpec{Name: "second"}) // a fresh browser session for the hinted logout below
	if r := confirm("same-origin"); r.code != 200 || !strings.Contains(string(r.body), `href="https://app.example.test/bye?state=z"`) {
		t.Fatalf("logout confirmation = %d %s, want a link back", r.code, r.body)
	}
	if r := c.browse("/user"); r.code != 401 {
		t.Fatalf("the browser's session after the confirmation = %d, want 401", r.code)
	}
	c.cookie = second.cookie

	r := c.browse("/oauth2/end_session?id_token_hint=" + hint + "&post_logout_redirect_uri=" + url.QueryEscape("https://app.example.test/bye") + "&state=z")
	if r.code != 302 || r.header.Get("Location") != "https://app.example.test/bye?state=z" {
		t.Fatalf("end_session = %d %q, want 302 to the registered URI with state", r.code, r.header.Get("Location"))
	}
	if got := f.verifyStatus(body["access_token"].(string)); got != 401 {
		t.Errorf("the app's access token after logout = %d, want 401", got)
	}
	if r := c.browse("/user"); r.code != 401 {
		t.Errorf("the browser's session after logout = %d, want 401", r.code)
	}
}

// TestOIDCRevokeIntrospect: RFC 7009 and RFC 7662 for the client's own
// tokens.
func TestOIDCRevokeIntrospect(t *testing.T) {
	f := newFixture(t, Options{})
	c := newRP(t, f, oidc.ClientSpec{})
	body := c.tokens(t)
	form := func(path string, v url.Values) map[string]any {
		req := httptest.NewRequest("POST", path, strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(c.id, c.secret)
		r := f.do(req)
		if r.code != 200 {
			t.Fatalf("POST %s = %d %s", path, r.code, r.body)
		}
		if len(r.body) == 0 {
			return nil
		}
		return r.json(t)
	}
	in := form("/oauth2/introspect", url.Values{"token": {body["access_token"].(string)}})
	if in["active"] != true || in["client_id"] != c.id || in["username"] != "alice" {
		t.Fatalf("introspect access token = %v", in)
	}
	if in := form("/oauth2/introspect", url.Values{"token": {body["refresh_token"].(string)}}); in["active"] != true || in["token_type"] != "refresh_token" {
		t.Fatalf("introspect refresh token = %v", in)
	}
	form("/oauth2/revoke", url.Values{"token": {"garbage"}})
	form("/oauth2/revoke", url.Values{"token": {body["refresh_token"].(string)}})
	if in := form("/oauth2/introspect", url.Values{"token": {body["access_token"].(string)}}); in["active"] != false {
		t.Errorf("introspect after revoking the refresh token = %v, want inactive (the session ended)", in)
	}
	if status, b := c.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}}); status != 400 {
		t.Errorf("refresh after revocation = %d %v, want 400", status, b)
	}
}

// TestOIDCClientDeleted: deleting a client ends the sessions it holds,
// so its tokens stop working at once.
func TestOIDCClientDeleted(t *testing.T) {
	f := newFixture(t, Options{})
	c := newRP(t, f, oidc.ClientSpec{})
	body := c.tokens(t)
	if got := f.verifyStatus(body["access_token"].(string)); got != 200 {
		t.Fatalf("access token = %d", got)
	}
	admin := f.login(t, "admin", "admin-pass")
	if r := f.do(bearer("DELETE", "/admin/clients/"+c.id, admin, "")); r.code != 204 {
		t.Fatalf("DELETE /admin/clients/%s = %d %s", c.id, r.code, r.body)
	}
	if got := f.verifyStatus(body["access_token"].(string)); got != 401 {
		t.Errorf("a deleted client's access token = %d, want 401", got)
	}
	if status, _ := c.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}}); status != 401 && status != 400 {
		t.Errorf("a deleted client's refresh = %d, want refused", status)
	}
}

// TestOIDCCORS: a single-page app on another origin may call the token
// endpoint (preflight, then a cross-site POST the cookie-guarding
// cross-origin protection lets through, since no cookie authenticates it),
// while the cookie-authenticated consent POST stays same-origin only.
func TestOIDCCORS(t *testing.T) {
	f := newFixture(t, Options{})
	pre := httptest.NewRequest("OPTIONS", "/oauth2/token", nil)
	pre.Header.Set("Origin", "https://spa.example")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	if r := f.do(pre); r.code != 204 || r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("preflight = %d %v", r.code, r.header)
	}
	c := newRP(t, f, oidc.ClientSpec{Public: true, RedirectURIs: []string{"https://spa.example/cb"}})
	verifier, challenge := pkce("spa")
	q := c.authorize(url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}})
	form := url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")}, "redirect_uri": {c.redirect}, "code_verifier": {verifier}, "client_id": {c.id}}
	req := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://spa.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if r := f.do(req); r.code != 200 || r.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("cross-site token request = %d %s %v", r.code, r.body, r.header)
	}
}

// TestOIDCTokenParams: the token endpoint refuses repeated and oversized
// parameters before reading them.
func TestOIDCTokenParams(t *testing.T) {
	f := newFixture(t, Options{})
	c := newRP(t, f, oidc.ClientSpec{})
	for _, body := range []string{
		"grant_type=client_credentials&grant_type=authorization_code",
		"grant_type=client_credentials&scope=" + strings.Repeat("a", 3000),
		"grant_type=client_credentials&scope=%ff",
	} {
		req := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(c.id, c.secret)
		r := f.do(req)
		if r.code != 400 || r.json(t)["error"] != "invalid_request" {
			t.Errorf("POST /oauth2/token %.60q = %d %s, want 400 invalid_request", body, r.code, r.body)
		}
	}
}

// TestOIDCIDTokenAlg: id_tokens are RS256 unless the client registered an
// algorithm the keyring signs with; an algorithm it has no key of falls
// back to RS256. The claims OpenID Connect Core asks for are there.
func TestOIDCIDTokenAlg(t *testing.T) {
	f := newFixture(t, Options{})
	for _, tt := range []struct{ name, alg, want string }{
		{"default", "", "RS256"},
		{"EdDSA (the signing key)", "EdDSA", "EdDSA"},
		{"ES256 (no such key)", "ES256", "RS256"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newRP(t, f, oidc.ClientSpec{Name: "app " + tt.name, IDTokenAlg: tt.alg, Trusted: true})
			body := c.tokens(t)
			idt := body["id_token"].(string)
			hdr, claims := jwtSegment(t, idt, 0), jwtSegment(t, idt, 1)
			if hdr["alg"] != tt.want || hdr["typ"] != "JWT" {
				t.Errorf("id_token header = %v, want alg %s, typ JWT", hdr, tt.want)
			}
			for _, name := range []string{"iss", "sub", "aud", "azp", "exp", "iat", "auth_time", "nonce", "amr", "sid", "at_hash", "preferred_username"} {
				if _, ok := claims[name]; !ok {
					t.Errorf("id_token lacks %s: %v", name, claims)
				}
			}
			if claims["aud"] != c.id || claims["nonce"] != "n-1" || fmt.Sprint(claims["amr"]) != "[pwd]" {
				t.Errorf("id_token aud, nonce, amr = %v, %v, %v", claims["aud"], claims["nonce"], claims["amr"])
			}
			at := jwtSegment(t, body["access_token"].(string), 0)
			if at["typ"] != "at+jwt" || at["alg"] != "EdDSA" {
				t.Errorf("access token header = %v, want typ at+jwt signed by the signing key", at)
			}
		})
	}
}

// jwtSegment decodes part i (0 header, 1 payload) of a compact JWS.
func jwtSegment(t *testing.T, raw string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
