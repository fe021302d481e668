package e2e

import "testing"

// TestCaddyForwardAuth runs deploy/caddy/Caddyfile as shipped in Debian's
// caddy, jwtgate on auth.example.test and an app on app.example.test (see
// checkForwardAuthHTTP for what it checks). Without caddy it skips, unless
// JGTEST_REQUIRE_CADDY=1 (CI), which makes it fail.
func TestCaddyForwardAuth(t *testing.T) {
	t.Parallel()
	p := newProxySetup(t)
	startCaddy(t, p)
	p.checkForwardAuthHTTP(t)
}
