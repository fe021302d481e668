package server

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/internal/oidc"
)

// rp is a relying party of the fixture's provider, driven by hand so that
// each test can bend one step.
type rp struct {
	t        *testing.T
	f        *fixture
	id       string
	secret   string
	redirect string
	cookie   string // the browser's session cookie (jwtgate_access=...)
}

// newRP registers a client (confidential unless public) and logs alice in
// as the browser.
func newRP(t *testing.T, f *fixture, spec oidc.ClientSpec) *rp {
	t.Helper()
	if spec.Name == "" {
		spec.Name = "app"
	}
	if len(spec.RedirectURIs) == 0 {
		spec.RedirectURIs = []string{"https://app.example.test/cb"}
	}
	c, secret, err := oidc.NewClients(f.store, nil, nil).Create(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	tok := f.login(t, "alice", "alice-pass")
	return &rp{t: t, f: f, id: c.ID, secret: secret, redirect: spec.RedirectURIs[0], cookie: "jwtgate_access=" + tok}
}

// pkce returns a verifier and its S256 challenge.
func pkce(seed string) (verifier, challenge string) {
	verifier = strings.Repeat(seed, 43/len(seed)+1)[:43]
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// browse sends a GET with the browser's cookie.
func (c *rp) browse(target string) result {
	req := httptest.NewRequest("GET", strings.TrimPrefix(target, "http://test"), nil)
	if c.cookie != "" {
		req.Header.Set("Cookie", c.cookie)
	}
	return c.f.do(req)
}

// authorize starts an authorization with params (defaults filled in) and
// follows the provider's redirects (approving consent) until the browser
// leaves for the client; it returns that URL's query.
func (c *rp) authorize(params url.Values) url.Values {
	c.t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {c.id}, "redirect_uri": {c.redirect}, "scope": {"openid profile email offline_access"}, "state": {"st-1"}, "nonce": {"n-1"}}
	for k, v := range params {
		q[k] = v
	}
	r := c.browse("/oauth2/authorize?" + q.Encode())
	for range 5 {
		if r.code != http.StatusFound {
			c.t.Fatalf("authorization step = %d %s, want 302", r.code, r.body)
		}
		loc := r.header.Get("Location")
		switch {
		case strings.HasPrefix(loc, c.redirect):
			u, _ := url.Parse(loc)
			return u.Query()
		case strings.Contains(loc, "/oauth2/consent?id="):
			id := loc[strings.Index(loc, "id=")+3:]
			id, _ = url.QueryUnescape(id)
			req := httptest.NewRequest("POST", "/oauth2/consent", strings.NewReader(`{"id":"`+id+`","approve":true}`))
			req.Header.Set("Cookie", c.cookie)
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Sec-Fetch-Site", "same-origin")
			d := c.f.do(req)
			if d.code != 200 {
				c.t.Fatalf("POST /oauth2/consent = %d %s", d.code, d.body)
			}
			next := d.json(c.t)["redirect_to"].(string)
			r = result{code: http.StatusFound, header: http.Header{"Location": {next}}}
		default:
			r = c.browse(loc)
		}
	}
	c.t.Fatalf("authorization did not come back to the client")
	return nil
}

// token posts a token request with the client's credentials (basic auth).
func (c *rp) token(form url.Values) (int, map[string]any) {
	c.t.Helper()
	req := httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.secret != "" {
		req.SetBasicAuth(url.QueryEscape(c.id), url.QueryEscape(c.secret))
	} else if form.Get("client_id") == "" {
		form.Set("client_id", c.id)
		req = httptest.NewRequest("POST", "/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	r := c.f.do(req)
	var m map[string]any
	_ = json.Unmarshal(r.body, &m)
	return r.code, m
}

// TestOIDCCodeFlow: the whole code flow with PKCE against the handler:
// consent once, a code back with state and iss, tokens for it, userinfo.
func TestOIDCCodeFlow(t *testing.T) {
	f := newFixture(t, Options{})
	c := newRP(t, f, oidc.ClientSpec{})
	verifier, challenge := pkce("abc")
	got := c.authorize(url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}})
	if got.Get("state") != "st-1" || got.Get("iss") != "http://test" || got.Get("code") == "" {
		t.Fatalf("authorization response = %v, want code, state st-1, iss http://test", got)
	}
	code, body := c.token(url.Values{"grant_type": {"authorization_code"}, "code": {got.Get("code")}, "redirect_uri": {c.redirect}, "code_verifier": {verifier}})
	if code != 200 || body["access_token"] == nil || body["id_token"] == nil || body["refresh_token"] == nil {
		t.Fatalf("token = %d %v", code, body)
	}
	r := f.do(bearer("GET", "/oauth2/userinfo", body["access_token"].(string), ""))
	if r.code != 200 || r.json(t)["preferred_username"] != "alice" {
		t.Fatalf("userinfo = %d %s", r.code, r.body)
	}
	// A client token is not for jwtgate's own API.
	if r := f.do(bearer("GET", "/user", body["access_token"].(string), "")); r.code != 401 {
		t.Errorf("GET /user with a client's token = %d, want 401", r.code)
	}
	// The same client again: consent is remembered, no consent step.
	got = c.authorize(url.Values{"code_challenge": {challenge}, "code_challenge_method": {"S256"}})
	if got.Get("code") == "" {
		t.Fatalf("second authorization = %v", got)
	}
	code, body = c.token(url.Values{"grant_type": {"refresh_token"}, "refresh_token": {body["refresh_token"].(string)}})
	if code != 200 || body["access_token"] == nil {
		t.Fatalf("refresh = %d %v", code, body)
	}
}
