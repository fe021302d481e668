package e2e

import (
	"crypto/tls"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestNginxForwardAuth runs deploy/nginx/forward-auth.conf as shipped in a
// real nginx, jwtgate on auth.example.test and an app on app.example.test
// (see checkForwardAuthHTTP for what it checks).
func TestNginxForwardAuth(t *testing.T) {
	t.Parallel()
	p := newProxySetup(t)
	startNginx(t, p, shippedNginx(t, p), nil)
	p.checkForwardAuthHTTP(t)
}

// TestSecureCookiesBehindTLSProxy: jwtgate behind an nginx that terminates
// TLS marks its cookies Secure (issue 12 §2): when its issuer is https://
// (then with the __Host-/__Secure- names, even when reached over plain
// http), and, as a safety net, when the issuer still says http:// but the
// trusted proxy says X-Forwarded-Proto: https. A client with a cookie jar
// keeps the session over https. Startup warns about a plain http:// issuer
// off loopback, and only then.
func TestSecureCookiesBehindTLSProxy(t *testing.T) {
	t.Parallel()
	findTool(t, "nginx", "/usr/sbin/nginx", "JGTEST_REQUIRE_NGINX")
	for _, tt := range []struct {
		name            string
		issuer          string // "" for the default, http:// on loopback
		access, refresh string
		directSecure    bool // Secure also when jwtgate is reached over plain http
		warn            bool
	}{
		{name: "https issuer", issuer: "https://auth.example.test",
			access: "__Host-jwtgate_access", refresh: "__Secure-jwtgate_refresh", directSecure: true},
		{name: "default issuer, X-Forwarded-Proto https",
			access: "jwtgate_access", refresh: "jwtgate_refresh"},
		{name: "plain http issuer off loopback", issuer: "http://auth.example.test",
			access: "jwtgate_access", refresh: "jwtgate_refresh", warn: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"--demo", "--trusted-proxies", "127.0.0.1"}
			if tt.issuer != "" {
				args = append(args, "--issuer", tt.issuer)
			}
			p := &proxySetup{listen: freeAddr(t), jwtgate: StartServer(t, "", args)}
			const warning = "the issuer is plain http://"
			if got := strings.Contains(p.jwtgate.Stderr(), warning); got != tt.warn {
				t.Errorf("startup warning %q shown = %v, want %v; stderr:\n%s", warning, got, tt.warn, p.jwtgate.Stderr())
			}
			checkCookies := func(via string, resp *http.Response, secure bool) {
				t.Helper()
				names := map[string]bool{}
				for _, c := range resp.Cookies() {
					names[c.Name] = true
					if c.Secure != secure || !c.HttpOnly {
						t.Errorf("login %s: cookie %s Secure=%v HttpOnly=%v, want Secure=%v HttpOnly", via, c.Name, c.Secure, c.HttpOnly, secure)
					}
				}
				device := strings.TrimSuffix(tt.refresh, "refresh") + "device"
				if len(names) != 3 || !names[tt.access] || !names[tt.refresh] || !names[device] {
					t.Errorf("login %s: cookies %v, want %s, %s and %s", via, names, tt.access, tt.refresh, device)
				}
			}
			direct, err := http.Post(p.jwtgate.URL+"/login", "application/json", strings.NewReader(string(loginJSON("admin", "1234"))))
			if err != nil || direct.StatusCode != 200 {
				t.Fatalf("direct login = %v %v", direct, err)
			}
			direct.Body.Close()
			checkCookies("over plain http", direct, tt.directSecure)

			dir := t.TempDir()
			cert, key, pool := selfSigned(t, dir)
			jar, _ := cookiejar.New(nil)
			client := &http.Client{Jar: jar, Timeout: 10 * time.Second,
				Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
			defer client.CloseIdleConnections()
			base := "https://" + p.listen
			startNginx(t, p, `server {
	listen `+p.listen+` ssl;
	ssl_certificate `+cert+`;
	ssl_certificate_key `+key+`;
	location / {
		proxy_pass `+p.jwtgate.URL+`;
		proxy_set_header Host $http_host;
		proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
		proxy_set_header X-Forwarded-Proto $scheme;
	}
}
`, func() (*http.Response, error) { return client.Get(base + "/healthz") })
			resp, err := client.Post(base+"/login", "application/json", strings.NewReader(string(loginJSON("admin", "1234"))))
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("login through the TLS proxy = %v %v", resp, err)
			}
			resp.Body.Close()
			checkCookies("through the TLS proxy", resp, true)
			resp, err = client.Get(base + "/user")
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("GET /user with the jar's cookie through the TLS proxy = %v %v, want 200", resp, err)
			}
			resp.Body.Close()
		})
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
