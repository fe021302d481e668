package oidc_test

import (
	"net/url"
	"testing"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/oidc"
)

// FuzzMatchRedirectURI: a redirect URI from a request matches only when it
// is byte for byte a registered one, or, for a public client, the same
// http loopback IP literal, path and query on another port. Whatever
// matches is never a URI with user info or a fragment, and never another
// host.
func FuzzMatchRedirectURI(f *testing.F) {
	for _, seed := range []string{
		"https://app.example.test/cb", "https://app.example.test/cb/", "http://127.0.0.1:5000/cb",
		"http://127.0.0.1:5000/cb#x", "http://u@127.0.0.1:5000/cb", "http://[::1]:1/cb", "http://localhost/cb",
		"https://app.example.test.evil.test/cb", "javascript:alert(1)", "//app.example.test/cb", "http://127.0.0.1:5000/cb?x=1",
	} {
		f.Add(seed)
	}
	clients := []*jwtgate.Client{
		{RedirectURIs: []string{"https://app.example.test/cb"}},
		{Public: true, RedirectURIs: []string{"http://127.0.0.1/cb", "com.example.app:/cb"}},
	}
	f.Fuzz(func(t *testing.T, got string) {
		for _, c := range clients {
			if !oidc.MatchRedirectURI(c, got) {
				continue
			}
			exact := false
			for _, r := range c.RedirectURIs {
				exact = exact || r == got
			}
			if exact {
				continue
			}
			u, err := url.Parse(got)
			if !c.Public || err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Path != "/cb" ||
				u.RawQuery != "" || u.User != nil || u.Fragment != "" || u.Opaque != "" {
				t.Fatalf("MatchRedirectURI(public=%v, %q) matched; parsed %+v, %v", c.Public, got, u, err)
			}
		}
	})
}
