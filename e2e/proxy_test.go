package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// This file holds what the proxy tests share: jwtgate and a small app
// behind a real reverse proxy (nginx or Caddy) on two names under one
// parent domain, auth.example.test and app.example.test, both served by
// the proxy on one free loopback port. The deploy/ configs run as shipped,
// with their addresses and names replaced.

// requireOrSkip skips a test whose outside dependency is missing, unless the
// environment variable named by env is 1 (CI sets it), which makes it fail.
func requireOrSkip(t *testing.T, env, msg string) {
	t.Helper()
	if os.Getenv(env) == "1" {
		t.Fatalf("%s (required: %s=1)", msg, env)
	}
	t.Skip(msg)
}

// findTool returns the path of a proxy binary: on $PATH or at the Debian
// package's path; otherwise it skips the test (fails it when env=1).
func findTool(t *testing.T, name, debianPath, env string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	if _, err := os.Stat(debianPath); err == nil {
		return debianPath
	}
	requireOrSkip(t, env, name+" not installed: apt-get install "+name)
	return ""
}

// appSeen is what the app behind the proxy received in one request.
type appSeen struct {
	method, uri                 string
	user, userID, roles         []string
	authorization, cookie, host string
}

// echoApp is the protected application: it answers every request with the
// identity headers it received, as plain text, and records them.
type echoApp struct {
	*httptest.Server
	mu   sync.Mutex
	seen []appSeen
}

func startEchoApp(t *testing.T) *echoApp {
	t.Helper()
	a := &echoApp{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := appSeen{
			method: r.Method, uri: r.RequestURI, host: r.Host,
			user: r.Header.Values("X-Auth-User"), userID: r.Header.Values("X-Auth-User-Id"), roles: r.Header.Values("X-Auth-Roles"),
			authorization: r.Header.Get("Authorization"), cookie: strings.Join(r.Header.Values("Cookie"), " | "),
		}
		a.mu.Lock()
		a.seen = append(a.seen, s)
		a.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "app: user=%s id=%s roles=%s uri=%s", strings.Join(s.user, ","), strings.Join(s.userID, ","), strings.Join(s.roles, ","), s.uri)
	}))
	t.Cleanup(a.Close)
	return a
}

// last returns what the app saw in its latest request.
func (a *echoApp) last(t *testing.T) appSeen {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.seen) == 0 {
		t.Fatal("the app received no request")
	}
	return a.seen[len(a.seen)-1]
}

func (a *echoApp) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.seen)
}

// checkIdentity asserts that the app saw exactly the demo admin's identity
// and none of jwtgate's credentials (issue 17 §7: the shipped configs strip
// the Authorization header and jwtgate's cookie).
func (s appSeen) checkIdentity(t *testing.T, who string) {
	t.Helper()
	if strings.Join(s.user, "|") != "admin" || strings.Join(s.roles, "|") != "admin" || len(s.userID) != 1 || s.userID[0] == "" {
		t.Errorf("%s: the app saw X-Auth-User %q, X-Auth-User-Id %q, X-Auth-Roles %q; want exactly admin, an id, admin", who, s.user, s.userID, s.roles)
	}
	if s.authorization != "" {
		t.Errorf("%s: the app received Authorization %q, want it stripped", who, s.authorization)
	}
	if strings.Contains(s.cookie, "jwtgate_") {
		t.Errorf("%s: the app received jwtgate's cookie (%q), want it stripped", who, s.cookie)
	}
}

// proxySetup is jwtgate and the echo app, with the address the proxy is to
// listen on, and the public URLs through it.
type proxySetup struct {
	jwtgate    *Server
	app        *echoApp
	listen     string // 127.0.0.1:PORT, for the proxy
	port       string
	authURL    string // http://auth.example.test:PORT
	appURL     string // http://app.example.test:PORT
	configVars *strings.Replacer
}

// newProxySetup starts jwtgate (demo account, the proxy trusted, issuer
// and cookie domain for the public names) and the echo app. The proxy's
// port is picked first, because the issuer URL carries it.
func newProxySetup(t *testing.T, extraArgs ...string) *proxySetup {
	t.Helper()
	listen := freeAddr(t)
	_, port, _ := net.SplitHostPort(listen)
	p := &proxySetup{listen: listen, port: port,
		authURL: "http://auth.example.test:" + port, appURL: "http://app.example.test:" + port}
	args := append([]string{"--demo", "--trusted-proxies", "127.0.0.1",
		"--issuer", p.authURL, "--cookie-domain", "example.test"}, extraArgs...)
	p.jwtgate = StartServer(t, "", args)
	p.app = startEchoApp(t)
	p.configVars = strings.NewReplacer(
		"127.0.0.1:8000", strings.TrimPrefix(p.jwtgate.URL, "http://"),
		"127.0.0.1:3000", strings.TrimPrefix(p.app.URL, "http://"),
		"example.com", "example.test",
	)
	return p
}

// client returns an HTTP client that reaches every *.example.test name at
// the proxy (as Chromium's --host-resolver-rules does) and does not follow
// redirects.
func (p *proxySetup) client() *http.Client {
	d := &net.Dialer{Timeout: 5 * time.Second}
	return &http.Client{
		Timeout: 15 * time.Second,
		Transport: &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, p.listen)
		}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// do sends one request through the proxy; headers are name, value pairs.
func (p *proxySetup) do(t *testing.T, method, rawURL, body string, headers ...string) reply {
	t.Helper()
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	c := p.client()
	defer c.CloseIdleConnections()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// loginURLFor is where jwtgate sends a browser that wanted target.
func (p *proxySetup) loginURLFor(target string) string {
	return p.authURL + "/login?return_to=" + url.QueryEscape(target)
}

// checkForwardAuthHTTP walks the forward-auth contract through the proxy
// with plain HTTP requests: what a browser and an API client get without a
// session, that a login on the auth host opens the app host (cookie and
// Bearer) with the identity and without jwtgate's credentials reaching the
// app, that forged identity headers are replaced, and that a logout closes
// the app again.
func (p *proxySetup) checkForwardAuthHTTP(t *testing.T) {
	const html = "text/html,application/xhtml+xml,*/*;q=0.8"
	page := p.appURL + "/dashboard?tab=2&q=a%20b"

	// Without a session: a browser navigation goes to the login page with
	// the page it wanted; an API call and a POST get 401; the app sees none.
	before := p.app.count()
	if r := p.do(t, "GET", page, "", "Accept", html); r.status != 302 || r.header.Get("Location") != p.loginURLFor(page) {
		t.Errorf("GET app page logged out = %d Location %q, want 302 %q", r.status, r.header.Get("Location"), p.loginURLFor(page))
	}
	if r := p.do(t, "GET", page, "", "Accept", "application/json"); r.status != 401 {
		t.Errorf("GET app API logged out = %d, want 401", r.status)
	}
	if r := p.do(t, "POST", page, "{}", "Accept", html, "Content-Type", "application/json"); r.status != 401 {
		t.Errorf("POST app logged out = %d, want 401", r.status)
	}
	if r := p.do(t, "GET", page, "", "Accept", html, "Authorization", "Bearer forged.token.here"); r.status != 302 {
		t.Errorf("GET app page with a forged token = %d, want 302 to the login page", r.status)
	}
	if n := p.app.count(); n != before {
		t.Errorf("the app received %d requests without a session, want 0", n-before)
	}
	// The login page takes rd= (ingress-nginx's name) on an allowed host only.
	if r := p.do(t, "GET", p.authURL+"/login?rd="+url.QueryEscape(page), "", "Accept", html); r.status != 302 || r.header.Get("Location") != "/login?return_to="+url.QueryEscape(page) {
		t.Errorf("GET /login?rd=app page = %d %q, want 302 to /login?return_to=", r.status, r.header.Get("Location"))
	}
	if r := p.do(t, "GET", p.authURL+"/login?rd="+url.QueryEscape("http://evil.example/"), "", "Accept", html); r.status != 302 || r.header.Get("Location") != "/login" {
		t.Errorf("GET /login?rd=evil = %d %q, want 302 to /login", r.status, r.header.Get("Location"))
	}

	// Log in on the auth host: the access cookie is for the whole domain.
	login := p.do(t, "POST", p.authURL+"/login", string(loginJSON("admin", "1234")), "Content-Type", "application/json")
	if login.status != 200 {
		t.Fatalf("login on the auth host = %d %s", login.status, login.body)
	}
	tok, _ := login.jsonBody()["token"].(string)
	var access *http.Cookie
	for _, c := range (&http.Response{Header: login.header}).Cookies() {
		if c.Name == "jwtgate_access" {
			access = c
		}
	}
	if access == nil || access.Domain != "example.test" || access.Value != tok {
		t.Fatalf("login cookies %q, want jwtgate_access with Domain=example.test", login.header.Values("Set-Cookie"))
	}

	// The cookie opens the app; forged identity headers are replaced.
	r := p.do(t, "GET", page, "", "Accept", html, "Cookie", "theme=dark; jwtgate_access="+tok+"; lang=en",
		"X-Auth-User", "evil", "X-Auth-Roles", "admin,root")
	if r.status != 200 || !strings.HasPrefix(string(r.body), "app: user=admin ") {
		t.Fatalf("GET app page with the session cookie = %d %q, want 200 from the app for admin", r.status, r.body)
	}
	seen := p.app.last(t)
	seen.checkIdentity(t, "cookie")
	if !strings.Contains(seen.cookie, "theme=dark") || !strings.Contains(seen.cookie, "lang=en") {
		t.Errorf("the app received Cookie %q, want the app's own cookies kept", seen.cookie)
	}
	if seen.uri != "/dashboard?tab=2&q=a%20b" {
		t.Errorf("the app received %q, want the original URI", seen.uri)
	}
	// So does the Bearer token, which the app does not see either.
	if r := p.do(t, "GET", page, "", "Authorization", "Bearer "+tok); r.status != 200 {
		t.Errorf("GET app with the Bearer token = %d, want 200", r.status)
	}
	p.app.last(t).checkIdentity(t, "bearer")
	// The check is not reachable from outside on the app host.
	if r := p.do(t, "GET", p.appURL+"/_jwtgate_verify", "", "Authorization", "Bearer "+tok); r.status == 200 && !strings.HasPrefix(string(r.body), "app: ") {
		t.Errorf("GET /_jwtgate_verify from outside = %d %q: jwtgate's answer leaked", r.status, r.body)
	}

	// Log out on the auth host: the cookie is cleared for the whole domain,
	// and the token no longer opens the app.
	out := p.do(t, "POST", p.authURL+"/logout", "", "Cookie", "jwtgate_access="+tok, "Origin", p.authURL)
	if out.status != 204 {
		t.Fatalf("logout on the auth host = %d %s", out.status, out.body)
	}
	cleared := false
	for _, c := range (&http.Response{Header: out.header}).Cookies() {
		cleared = cleared || (c.Name == "jwtgate_access" && c.Domain == "example.test" && c.MaxAge < 0)
	}
	if !cleared {
		t.Errorf("logout cookies %q, want jwtgate_access cleared with Domain=example.test", out.header.Values("Set-Cookie"))
	}
	if r := p.do(t, "GET", page, "", "Accept", html, "Cookie", "jwtgate_access="+tok); r.status != 302 || r.header.Get("Location") != p.loginURLFor(page) {
		t.Errorf("GET app page after logout = %d Location %q, want 302 to the login page", r.status, r.header.Get("Location"))
	}
	if r := p.do(t, "GET", page, "", "Authorization", "Bearer "+tok); r.status != 401 {
		t.Errorf("GET app API after logout = %d, want 401", r.status)
	}
}

// startProxy runs a proxy process (its own process group, killed when the
// test ends) and waits until get (by default a GET of the auth host's
// /healthz through it) answers 200.
func (p *proxySetup) startProxy(t *testing.T, name string, cmd *exec.Cmd, logFile string, get func() (*http.Response, error)) {
	t.Helper()
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		if t.Failed() {
			log, _ := os.ReadFile(logFile)
			t.Logf("%s output:\n%s\n%s", name, out.String(), log)
		}
	})
	if get == nil {
		c := p.client()
		defer c.CloseIdleConnections()
		get = func() (*http.Response, error) { return c.Get(p.authURL + "/healthz") }
	}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := get()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-done:
			t.Fatalf("%s exited: %v (its output follows)", name, cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not come up: %v (its output follows)", name, err)
		}
	}
}

// startNginx runs nginx with site (a server-level config such as
// deploy/nginx/forward-auth.conf) included in a minimal main config.
func startNginx(t *testing.T, p *proxySetup, site string, get func() (*http.Response, error)) {
	t.Helper()
	nginx := findTool(t, "nginx", "/usr/sbin/nginx", "JGTEST_REQUIRE_NGINX")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "site.conf"), []byte(site), 0o644); err != nil {
		t.Fatal(err)
	}
	main := `worker_processes 1; daemon off; pid ` + dir + `/nginx.pid; error_log ` + dir + `/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path ` + dir + `/body; proxy_temp_path ` + dir + `/proxy;
	fastcgi_temp_path ` + dir + `/fastcgi; uwsgi_temp_path ` + dir + `/uwsgi; scgi_temp_path ` + dir + `/scgi;
	include ` + dir + `/site.conf;
}`
	if os.Geteuid() == 0 {
		main = "user root; " + main
	}
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	p.startProxy(t, "nginx", exec.Command(nginx, "-p", dir, "-c", filepath.Join(dir, "nginx.conf")), filepath.Join(dir, "error.log"), get)
}

// shippedNginx is deploy/nginx/forward-auth.conf for p.
func shippedNginx(t *testing.T, p *proxySetup) string {
	t.Helper()
	site, err := os.ReadFile("../deploy/nginx/forward-auth.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := p.configVars.Replace(string(site))
	if n := strings.Count(conf, "listen 80;"); n != 2 {
		t.Fatalf("deploy/nginx/forward-auth.conf has %d 'listen 80;' lines, want 2 (the test replaces them)", n)
	}
	return strings.ReplaceAll(conf, "listen 80;", "listen "+p.listen+";")
}

// startCaddy runs Debian's caddy with deploy/caddy/Caddyfile as shipped,
// on plain http at p.listen: global options turn off automatic HTTPS (no
// certificates to get) and the admin API (no fixed port 2019), and HOME and
// the XDG dirs point into the test's temp dir, so it touches nothing of the
// machine's.
func startCaddy(t *testing.T, p *proxySetup) {
	t.Helper()
	caddy := findTool(t, "caddy", "/usr/bin/caddy", "JGTEST_REQUIRE_CADDY")
	shipped, err := os.ReadFile("../deploy/caddy/Caddyfile")
	if err != nil {
		t.Fatal(err)
	}
	conf := p.configVars.Replace(string(shipped))
	for _, host := range []string{"auth.example.test", "app.example.test"} {
		if !strings.Contains(conf, "\n"+host+" {") {
			t.Fatalf("deploy/caddy/Caddyfile has no site block %q (the test rewrites it)", host)
		}
		conf = strings.Replace(conf, "\n"+host+" {", "\nhttp://"+host+":"+p.port+" {", 1)
	}
	dir := t.TempDir()
	global := "{\n\tauto_https off\n\tadmin off\n\tdefault_bind 127.0.0.1\n\tstorage file_system " + filepath.Join(dir, "data") + "\n}\n"
	file := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(file, []byte(global+conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(caddy, "run", "--config", file, "--adapter", "caddyfile")
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), "HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, "config"), "XDG_DATA_HOME="+filepath.Join(dir, "data"))
	p.startProxy(t, "caddy", cmd, filepath.Join(dir, "no-log-file"), nil)
}

// TestCookieDomainRefused: a --cookie-domain (or JWTGATE_COOKIE_DOMAIN) the
// browser would refuse for the issuer's host stops startup with a line
// naming the setting; nothing starts half-configured.
func TestCookieDomainRefused(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		args []string
		env  []string
	}{
		{"not the issuer's parent", []string{"--issuer", "https://auth.example.test", "--cookie-domain", "other.test"}, nil},
		{"one label", []string{"--issuer", "http://localhost:8000", "--cookie-domain", "localhost"}, nil},
		{"from the environment", []string{"--issuer", "https://auth.example.test"}, []string{"JWTGATE_COOKIE_DOMAIN=ample.test"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"serve", "--addr", freeAddr(t)}, tt.args...)
			_, stderr, code := runEnv(t, t.TempDir(), tt.env, args...)
			if code != 2 || !strings.Contains(stderr, "invalid --cookie-domain") {
				t.Errorf("jwtgate %v = exit %d, stderr %q; want exit 2 naming --cookie-domain", args, code, stderr)
			}
		})
	}
}
