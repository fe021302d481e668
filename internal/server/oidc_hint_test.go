package server

import (
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtgate/jwtgate/internal/oidc"
	"github.com/jwtgate/jwtgate/token"
)

// authRequestRows digests the stored authorization requests straight
// from the file.
func (f *fixture) authRequestRows(t testing.TB) string {
	t.Helper()
	return f.rowDigest(t, `SELECT coalesce(group_concat(id || ':' || coalesce(hex(code_hash), '-'), '|'), '')
		FROM (SELECT * FROM oidc_auth_requests ORDER BY id)`)
}

// resign signs the claims of the id_token raw again with key k (typ JWT):
// the same statement, from a key that is not the provider's.
func resign(t *testing.T, raw string, k *token.Key) string {
	t.Helper()
	s, err := token.SignClaims(k, jwt.MapClaims(jwtSegment(t, raw, 1)), "JWT")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestOIDCAuthorizeIDTokenHint: an id_token_hint on the authorization
// endpoint names the user the client expects (OpenID Connect Core section
// 3.1.2.1). For the logged-in user the flow goes on; for another user
// prompt=none answers login_required and otherwise the user signs in
// again; a hint that is not this provider's id_token for this client is
// invalid_request, redirected with state and iss, and stores nothing.
func TestOIDCAuthorizeIDTokenHint(t *testing.T) {
	f := newFixture(t, Options{})
	c := newRP(t, f, oidc.ClientSpec{Trusted: true}) // the browser is alice's
	aliceHint := c.tokens(t)["id_token"].(string)
	asAdmin := *c
	asAdmin.cookie = "jwtgate_access=" + f.login(t, "admin", "admin-pass")
	adminHint := asAdmin.tokens(t)["id_token"].(string)
	other := newRP(t, f, oidc.ClientSpec{Name: "other", Trusted: true})
	otherClientHint := other.tokens(t)["id_token"].(string) // alice's, issued to another client

	stranger, err := token.Generate(token.RS256)
	if err != nil {
		t.Fatal(err)
	}
	der, err := stranger.MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := jwtSegment(t, aliceHint, 0)["kid"].(string)
	impostor, err := token.ParsePrivate(kid, token.RS256, der) // another key claiming our kid
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(aliceHint, ".")
	parts[1] = strings.Split(adminHint, ".")[1] // admin's claims under alice's signature

	_, challenge := pkce("hint")
	base := url.Values{"response_type": {"code"}, "client_id": {c.id}, "redirect_uri": {c.redirect}, "scope": {"openid"},
		"state": {"s1"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"}}
	const (
		code     = "code"
		login    = "login page"
		required = "login_required"
		invalid  = "invalid_request"
	)
	tests := []struct {
		name    string
		hint    string
		prompt  string
		session bool
		want    string
	}{
		{name: "the logged-in user, prompt=none", hint: aliceHint, prompt: "none", session: true, want: code},
		{name: "the logged-in user", hint: aliceHint, session: true, want: code},
		{name: "another user, prompt=none", hint: adminHint, prompt: "none", session: true, want: required},
		{name: "another user", hint: adminHint, session: true, want: login},
		{name: "another user, prompt=login", hint: adminHint, prompt: "login", session: true, want: login},
		{name: "no session, prompt=none", hint: aliceHint, prompt: "none", want: required},
		{name: "no session", hint: aliceHint, want: login},
		{name: "another key with our kid", hint: resign(t, aliceHint, impostor), prompt: "none", session: true, want: invalid},
		{name: "an unknown key", hint: resign(t, aliceHint, stranger), session: true, want: invalid},
		{name: "claims swapped under a signature", hint: strings.Join(parts, "."), session: true, want: invalid},
		{name: "alg none", hint: "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0." + parts[1] + ".", session: true, want: invalid},
		{name: "garbage", hint: "not-a-jwt", prompt: "none", session: true, want: invalid},
		{name: "garbage, no session", hint: "a.b.c", want: invalid},
		{name: "another client's id_token", hint: otherClientHint, prompt: "none", session: true, want: invalid},
		{name: "an access token", hint: c.tokens(t)["access_token"].(string), session: true, want: invalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			browser := *c
			if !tt.session {
				browser.cookie = ""
			}
			v := url.Values{"id_token_hint": {tt.hint}}
			for k, x := range base {
				v[k] = x
			}
			if tt.prompt != "" {
				v.Set("prompt", tt.prompt)
			}
			before, counts := f.authRequestRows(t), f.counts(t)
			r := browser.browse("/oauth2/authorize?" + v.Encode())
			for r.code == 302 && strings.HasPrefix(r.header.Get("Location"), "http://test/oauth2/") {
				r = browser.browse(r.header.Get("Location"))
			}
			loc, _ := url.Parse(r.header.Get("Location"))
			q := loc.Query()
			if r.code != 302 {
				t.Fatalf("authorize (%s) = %d %s, want a redirect", tt.name, r.code, r.body)
			}
			switch tt.want {
			case code:
				if !strings.HasPrefix(loc.String(), c.redirect) || q.Get("code") == "" || q.Get("state") != "s1" || q.Get("iss") != "http://test" {
					t.Fatalf("authorize (%s) = %q, want a code for the client", tt.name, loc)
				}
			case login:
				if !strings.HasPrefix(loc.String(), "http://test/login?return_to=") || q.Get("code") != "" {
					t.Fatalf("authorize (%s) = %q, want the login page", tt.name, loc)
				}
			default:
				if !strings.HasPrefix(loc.String(), c.redirect) || q.Get("error") != tt.want || q.Get("state") != "s1" ||
					q.Get("iss") != "http://test" || q.Get("code") != "" {
					t.Fatalf("authorize (%s) = %q, want error %s with state and iss, no code", tt.name, loc, tt.want)
				}
			}
			if tt.want == invalid {
				if after := f.authRequestRows(t); after != before {
					t.Errorf("authorization requests after a refused hint (%s) = %q, want unchanged %q", tt.name, after, before)
				}
				if after := f.counts(t); after != counts {
					t.Errorf("users and sessions after a refused hint (%s) = %q, want unchanged %q", tt.name, after, counts)
				}
			}
		})
	}

	// After the login page, the new login proceeds even when it is still
	// not the hinted user: the client compares sub itself.
	t.Run("another user, then a fresh login as the same one", func(t *testing.T) {
		v := url.Values{"id_token_hint": {adminHint}}
		for k, x := range base {
			v[k] = x
		}
		browser := *c
		r := browser.browse("/oauth2/authorize?" + v.Encode())
		r = browser.browse(r.header.Get("Location"))
		loc, _ := url.Parse(r.header.Get("Location"))
		if !strings.HasPrefix(loc.String(), "http://test/login?return_to=") {
			t.Fatalf("continuation for another user's hint = %q, want the login page", loc)
		}
		browser.cookie = "jwtgate_access=" + f.login(t, "alice", "alice-pass")
		r = browser.browse(loc.Query().Get("return_to"))
		back, _ := url.Parse(r.header.Get("Location"))
		if r.code != 302 || !strings.HasPrefix(back.String(), c.redirect) || back.Query().Get("code") == "" {
			t.Fatalf("continuation after logging in again = %d %q, want a code", r.code, back)
		}
	})

	// A hint longer than any parameter may be is refused with the other
	// malformed parameters, on a page: nothing is redirected or stored.
	t.Run("oversized", func(t *testing.T) {
		v := url.Values{"id_token_hint": {aliceHint + strings.Repeat("A", oidc.MaxParamBytes)}}
		for k, x := range base {
			v[k] = x
		}
		before := f.authRequestRows(t)
		r := c.browse("/oauth2/authorize?" + v.Encode())
		if r.code != 400 || r.header.Get("Location") != "" || !strings.Contains(string(r.body), "id_token_hint") {
			t.Fatalf("authorize with an oversized id_token_hint = %d Location %q, want a 400 page naming it", r.code, r.header.Get("Location"))
		}
		if after := f.authRequestRows(t); after != before {
			t.Errorf("authorization requests after an oversized hint = %q, want unchanged %q", after, before)
		}
	})
}
