package server

import (
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/internal/oidc"
)

// FuzzAuthorizeRequest sends arbitrary query strings to the authorization
// endpoint (as the op library and our own checks read them). Whatever the
// input, the answer is never a server error, and a redirect goes only to
// the provider's continuation or to a URI registered for the client,
// exactly (the open-redirect property).
func FuzzAuthorizeRequest(f *testing.F) {
	fx := newFixture(f, Options{})
	c, _, err := oidc.NewClients(fx.store, nil, nil).Create(f.Context(), oidc.ClientSpec{Name: "fuzz", RedirectURIs: []string{"https://app.example.test/cb"}})
	if err != nil {
		f.Fatal(err)
	}
	pub, _, err := oidc.NewClients(fx.store, nil, nil).Create(f.Context(), oidc.ClientSpec{Name: "fuzz-pub", Public: true, RedirectURIs: []string{"http://127.0.0.1/cb"}})
	if err != nil {
		f.Fatal(err)
	}
	registered := []string{"https://app.example.test/cb", "http://127.0.0.1/cb"}
	ok := url.Values{"response_type": {"code"}, "client_id": {c.ID}, "redirect_uri": {"https://app.example.test/cb"}, "scope": {"openid"}, "state": {"x"}}
	for _, seed := range []string{
		ok.Encode(),
		ok.Encode() + "&redirect_uri=https%3A%2F%2Fevil.example%2F",
		"response_type=token&client_id=" + c.ID + "&redirect_uri=https%3A%2F%2Fapp.example.test%2Fcb&scope=openid",
		"response_type=code&client_id=" + pub.ID + "&redirect_uri=http%3A%2F%2F127.0.0.1%3A9999%2Fcb&scope=openid&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256",
		"response_type=code&client_id=" + pub.ID + "&redirect_uri=http%3A%2F%2F127.0.0.1%40evil.example%2Fcb&scope=openid",
		"client_id=%ff&redirect_uri=%",
		"max_age=-1&prompt=none+login&" + ok.Encode(),
		"request=x.y.z&" + ok.Encode(),
		"id_token_hint=not-a-jwt&" + ok.Encode(),
		"id_token_hint=eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiIxIn0.&prompt=none&" + ok.Encode(),
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		req := httptest.NewRequest("GET", "/oauth2/authorize", nil)
		req.URL.RawQuery = raw
		r := fx.do(req)
		if r.code >= 500 {
			t.Fatalf("authorize?%q = %d %s", raw, r.code, r.body)
		}
		if r.code != 302 {
			return
		}
		loc := r.header.Get("Location")
		if strings.HasPrefix(loc, "http://test/oauth2/authorize/continue?id=") {
			return
		}
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatalf("authorize?%q redirected to unparsable %q", raw, loc)
		}
		base := u.Scheme + "://" + u.Host + u.Path
		if u.Hostname() == "127.0.0.1" {
			base = u.Scheme + "://" + u.Hostname() + u.Path // RFC 8252: any port
		}
		if u.User != nil || !containsStr(registered, base) {
			t.Fatalf("authorize?%q redirected to %q, not a registered redirect URI", raw, loc)
		}
	})
}

func containsStr(l []string, s string) bool {
	for _, v := range l {
		if v == s {
			return true
		}
	}
	return false
}
