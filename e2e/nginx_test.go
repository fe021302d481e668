package e2e

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// requireOrSkip skips a test whose outside dependency is missing, unless the
// environment variable named by env is 1 (CI sets it), which makes it fail.
func requireOrSkip(t *testing.T, env, msg string) {
	t.Helper()
	if os.Getenv(env) == "1" {
		t.Fatalf("%s (required: %s=1)", msg, env)
	}
	t.Skip(msg)
}

// TestNginxForwardAuth runs deploy/nginx/forward-auth.conf as shipped in a
// real nginx in front of a tiny upstream: no token is 401, a valid token
// reaches the upstream with X-Auth-User, a client's own X-Auth-User is
// replaced, a browser session through nginx works, and a logged-out token
// is 401 again.
func TestNginxForwardAuth(t *testing.T) {
	t.Parallel()
	nginx, err := exec.LookPath("nginx")
	if err != nil {
		if _, err2 := os.Stat("/usr/sbin/nginx"); err2 == nil {
			nginx = "/usr/sbin/nginx"
		} else {
			requireOrSkip(t, "JGTEST_REQUIRE_NGINX", "nginx not installed: apt-get install nginx")
		}
	}
	s := StartServer(t, "", []string{"--demo", "--trusted-proxies", "127.0.0.1"})

	var mu sync.Mutex
	var seen []http.Header
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Clone())
		mu.Unlock()
		w.Write([]byte("app says hello to " + r.Header.Get("X-Auth-User")))
	}))
	defer app.Close()

	dir := t.TempDir()
	listen := freeAddr(t)
	site, err := os.ReadFile("../deploy/nginx/forward-auth.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.NewReplacer(
		"listen 80;", "listen "+listen+";",
		"127.0.0.1:8000", strings.TrimPrefix(s.URL, "http://"),
		"127.0.0.1:3000", strings.TrimPrefix(app.URL, "http://"),
	).Replace(string(site))
	if err := os.WriteFile(filepath.Join(dir, "site.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	main := `user root; worker_processes 1; daemon off; pid ` + dir + `/nginx.pid; error_log ` + dir + `/error.log;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path ` + dir + `/body; proxy_temp_path ` + dir + `/proxy;
	fastcgi_temp_path ` + dir + `/fastcgi; uwsgi_temp_path ` + dir + `/uwsgi; scgi_temp_path ` + dir + `/scgi;
	include ` + dir + `/site.conf;
}`
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(nginx, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"))
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so the workers go with the master, and a bound
	// on waiting for their output pipes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
	}()
	base := "http://" + listen
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/login")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Fatalf("nginx did not start: %v\n%s\n%s", err, out.String(), log)
		}
		time.Sleep(50 * time.Millisecond)
	}

	if r := send(t, "GET", base+"/dashboard", nil); r.status != 401 {
		t.Errorf("no token through nginx = %d, want 401", r.status)
	}
	if r := send(t, "GET", base+"/dashboard", nil, "Authorization", "Bearer forged.token.here"); r.status != 401 {
		t.Errorf("bad token through nginx = %d, want 401", r.status)
	}
	// Log in through nginx, as a browser on this host would.
	login := send(t, "POST", base+"/login", loginJSON("admin", "1234"))
	if login.status != 200 {
		t.Fatalf("login through nginx = %d %s", login.status, login.body)
	}
	tok := login.jsonBody()["token"].(string)
	r := send(t, "GET", base+"/dashboard", nil, "Authorization", "Bearer "+tok, "X-Auth-User", "evil")
	if r.status != 200 || string(r.body) != "app says hello to admin" {
		t.Errorf("valid token through nginx = %d %q, want 200 from the app for admin", r.status, r.body)
	}
	mu.Lock()
	if len(seen) != 1 || seen[0].Get("X-Auth-User") != "admin" || seen[0].Get("X-Auth-Roles") != "admin" || len(seen[0].Values("X-Auth-User")) != 1 {
		t.Errorf("upstream saw %v, want exactly X-Auth-User admin", seen)
	}
	mu.Unlock()
	cookie := ""
	for _, c := range strings.Split(login.header.Get("Set-Cookie"), ";") {
		if strings.HasPrefix(c, "jwtgate_access=") {
			cookie = c
		}
	}
	if r := send(t, "GET", base+"/dashboard", nil, "Cookie", cookie); r.status != 200 {
		t.Errorf("session cookie through nginx = %d, want 200", r.status)
	}
	if r := send(t, "POST", base+"/logout", nil, "Authorization", "Bearer "+tok); r.status != 204 {
		t.Fatalf("logout through nginx = %d", r.status)
	}
	if r := send(t, "GET", base+"/dashboard", nil, "Authorization", "Bearer "+tok); r.status != 401 {
		t.Errorf("logged-out token through nginx = %d, want 401", r.status)
	}
	if r := send(t, "GET", base+"/_jwtgate_verify", nil, "Authorization", "Bearer "+tok); r.status == 200 {
		t.Errorf("the internal verify location is reachable from outside")
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
