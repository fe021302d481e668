package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jwtgate/jwtgate/internal/testkit"
)

// oauth2-proxy, the most common way to put "Sign in with ..." in front of an
// app that has no login of its own, is the relying party of
// TestOIDCOAuth2Proxy. It is built from source with `go install` (the Go
// module proxy is the one place it can come from here) into the user's
// cache directory, once per version: .ci/run builds it before the tests,
// timed; a developer builds it with
//
//	GOBIN=~/.cache/jwtgate-test/oauth2-proxy-v7.15.6 go install github.com/oauth2-proxy/oauth2-proxy/v7@v7.15.6
//
// or lets the test build it by setting JGTEST_REQUIRE_OAUTH2PROXY=1.
const (
	envRequireOAuth2Proxy = "JGTEST_REQUIRE_OAUTH2PROXY"
	oauth2ProxyModule     = "github.com/oauth2-proxy/oauth2-proxy/v7"
	oauth2ProxyVersion    = "v7.15.6"
)

var (
	oauth2ProxyOnce sync.Once
	oauth2ProxyPath string
	oauth2ProxyErr  error
)

// oauth2ProxyBinary returns the path of the oauth2-proxy binary, building
// it when it is missing and the test is required to run; otherwise a
// missing binary skips the test, saying how to build it.
func oauth2ProxyBinary(t *testing.T) string {
	t.Helper()
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "jwtgate-test", "oauth2-proxy-"+oauth2ProxyVersion)
	bin := filepath.Join(dir, "oauth2-proxy")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if os.Getenv(envRequireOAuth2Proxy) != "1" {
		t.Skipf("oauth2-proxy is not built: GOBIN=%s go install %s@%s (or set %s=1 to build it here)",
			dir, oauth2ProxyModule, oauth2ProxyVersion, envRequireOAuth2Proxy)
	}
	oauth2ProxyOnce.Do(func() {
		// Into a fresh GOBIN, then renamed into place: two test processes
		// building at once never run half a binary.
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			oauth2ProxyErr = err
			return
		}
		tmp, err := os.MkdirTemp(filepath.Dir(dir), "oauth2-proxy-build-")
		if err != nil {
			oauth2ProxyErr = err
			return
		}
		defer os.RemoveAll(tmp)
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
		defer cancel()
		start := time.Now()
		cmd := exec.CommandContext(ctx, "go", "install", oauth2ProxyModule+"@"+oauth2ProxyVersion)
		cmd.Dir = tmp // outside this module: go install PKG@VERSION ignores go.mod, and a GOFLAGS=-mod=… would not apply
		cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=", "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			oauth2ProxyErr = fmt.Errorf("go install %s@%s: %v\n%s", oauth2ProxyModule, oauth2ProxyVersion, err, out)
			return
		}
		t.Logf("built oauth2-proxy %s in %s", oauth2ProxyVersion, time.Since(start).Round(time.Second))
		if err := os.Rename(tmp, dir); err != nil {
			if _, statErr := os.Stat(bin); statErr != nil {
				oauth2ProxyErr = err
			}
		}
	})
	if oauth2ProxyErr != nil {
		testkit.RequireOrSkip(t, envRequireOAuth2Proxy, oauth2ProxyErr.Error())
	}
	return bin
}

// seenUser is what the app behind oauth2-proxy was told about a request.
type seenUser struct{ User, Email, PreferredUsername string }

// whoamiApp is the app behind oauth2-proxy: a page that shows the identity
// headers the proxy passes (X-Forwarded-User, X-Forwarded-Email), and
// records every request's. It has no login of its own.
type whoamiApp struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seenUser
}

func newWhoamiApp(t *testing.T) *whoamiApp {
	a := &whoamiApp{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u := seenUser{r.Header.Get("X-Forwarded-User"), r.Header.Get("X-Forwarded-Email"), r.Header.Get("X-Forwarded-Preferred-Username")}
		a.mu.Lock()
		a.seen = append(a.seen, u)
		a.mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><head><title>whoami</title></head><body>
<h1>The app</h1><p>user: <span id="user">%s</span></p><p>email: <span id="email">%s</span></p><p>name: <span id="preferred">%s</span></p>
</body></html>`, html.EscapeString(u.User), html.EscapeString(u.Email), html.EscapeString(u.PreferredUsername))
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *whoamiApp) requests() []seenUser {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]seenUser(nil), a.seen...)
}

// oauth2Proxy is a running oauth2-proxy.
type oauth2Proxy struct {
	URL string // http://localhost:PORT: the name the browser uses
	log *testkit.SyncBuffer
}

// startOAuth2Proxy runs oauth2-proxy as an OpenID Connect client of issuer
// in front of upstream, on addr (127.0.0.1:PORT), reached by the browser as
// http://localhost:PORT: another host than the issuer's 127.0.0.1, so the
// two keep separate cookies as they would in production. The client secret
// and the cookie secret go in a file and the environment, never argv.
func startOAuth2Proxy(t *testing.T, bin, issuer, addr, clientID, clientSecret, upstream string) *oauth2Proxy {
	t.Helper()
	_, port, _ := strings.Cut(addr, ":")
	p := &oauth2Proxy{URL: "http://localhost:" + port, log: new(testkit.SyncBuffer)}
	dir := t.TempDir()
	secretFile := filepath.Join(dir, "client-secret")
	if err := os.WriteFile(secretFile, []byte(clientSecret), 0o600); err != nil {
		t.Fatal(err)
	}
	cookieSecret := make([]byte, 16)
	_, _ = rand.Read(cookieSecret)
	issuerURL, err := url.Parse(issuer)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin,
		"--provider=oidc",
		"--provider-display-name=jwtgate",
		"--oidc-issuer-url="+issuer,
		"--client-id="+clientID,
		"--client-secret-file="+secretFile,
		"--redirect-url="+p.URL+"/oauth2/callback",
		"--http-address="+addr,
		"--upstream="+upstream,
		"--email-domain=*",
		"--scope=openid profile email",
		"--code-challenge-method=S256",
		"--insecure-oidc-skip-nonce=false", // send a nonce and check it in the id_token
		"--skip-provider-button",
		"--cookie-secure=false", // plain http on loopback in the test
		"--whitelist-domain="+issuerURL.Host,
		// On sign-out, oauth2-proxy calls the end_session_endpoint itself
		// with the id_token it holds, which ends the session the app's
		// login opened at jwtgate (and with it the app's tokens).
		"--backend-logout-url="+issuer+"/oauth2/end_session?id_token_hint={id_token}",
		"--silence-ping-logging",
	)
	cmd.Env = append(cleanEnv(), "OAUTH2_PROXY_COOKIE_SECRET="+hex.EncodeToString(cookieSecret))
	cmd.Stdout, cmd.Stderr = p.log, p.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
		if t.Failed() {
			t.Logf("oauth2-proxy log:\n%s", p.log.String())
		}
	})
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get("http://" + addr + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-done:
			t.Fatalf("oauth2-proxy exited at start:\n%s", p.log.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("oauth2-proxy did not answer /ping within 30 s (%v):\n%s", err, p.log.String())
		}
	}
}

// TestOIDCOAuth2Proxy puts oauth2-proxy, as an OpenID Connect client of the
// real jwtgate binary, in front of an app with no login of its own, and
// drives it with Chromium: logged out, the app sends the browser to
// jwtgate's login page; after the login and the consent page the app sees
// the user (X-Forwarded-User, X-Forwarded-Email); a second login does not
// ask for consent again; signing out of the app ends the session its login
// opened at jwtgate (oauth2-proxy's back-channel call to the
// end_session_endpoint), and signing out of jwtgate too ends it all, so
// that the app sends the browser to the login page again. On jwtgate's home
// page the app is listed under Connected apps; disconnecting it ends its
// session and forgets the consent, which the next login asks for again.
func TestOIDCOAuth2Proxy(t *testing.T) {
	bin := oauth2ProxyBinary(t)
	srv := StartServer(t, "", nil, "JWTGATE_ADMIN_PASSWORD=admin-pass-123")
	base := srv.URL
	if _, errOut, code := Run(t, srv.Dir, "alice-pass-123\n", "user", "add", "alice", "--email", "alice@example.test", "--email-verified", "--password-stdin"); code != 0 {
		t.Fatalf("jwtgate user add alice: exit %d: %s", code, errOut)
	}
	app := newWhoamiApp(t)
	addr := freeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	appURL := "http://localhost:" + port
	out, errOut, code := Run(t, srv.Dir, "", "client", "add", "oauth2-proxy",
		"--redirect-uri", appURL+"/oauth2/callback", "--post-logout-redirect-uri", appURL+"/", "--json")
	var creds struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(out), &creds); code != 0 || err != nil || creds.ClientSecret == "" {
		t.Fatalf("jwtgate client add oauth2-proxy --json: exit %d, %q (%v): %s", code, out, err, errOut)
	}
	proxy := startOAuth2Proxy(t, bin, base, addr, creds.ClientID, creds.ClientSecret, app.URL)
	started := time.Now()
	b := startBrowser(t, func() string { return srv.Stderr() + "\n--- oauth2-proxy ---\n" + proxy.log.String() }, base, 90*time.Second)
	atLogin := func(href string) bool { return strings.HasPrefix(href, base+"/login") }
	atApp := func(href string) bool {
		return strings.HasPrefix(href, appURL+"/") && !strings.Contains(href, "/oauth2/")
	}

	// 1. Logged out: the app sends the browser to jwtgate's login page.
	b.do("open the app", chromedp.Navigate(appURL+"/"))
	b.waitLoaded("jwtgate's login page", atLogin)
	if n := len(app.requests()); n != 0 {
		t.Fatalf("the app served %d requests before anyone logged in", n)
	}

	// 2. Log in, then consent.
	b.do("log in as alice",
		chromedp.SendKeys(chromedp.ID("name"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "alice-pass-123"),
		chromedp.Click(chromedp.ID("submit")),
	)
	oidcConsent(t, b, base, "oauth2-proxy")

	// 3. The app sees alice.
	b.waitLoaded("the app", atApp)
	b.waitText("#email", "alice@example.test")
	_, users := userList(t, srv.Dir)
	var aliceSub string
	for _, u := range users {
		if u.Name == "alice" {
			aliceSub = strconv.FormatInt(u.ID, 10)
		}
	}
	seen := app.requests()
	if want := (seenUser{User: aliceSub, Email: "alice@example.test", PreferredUsername: "alice"}); len(seen) == 0 || seen[len(seen)-1] != want {
		t.Fatalf("the app saw %+v, want %+v (the user's id as sub, the verified email, the name)", seen, want)
	}
	t.Logf("the app saw %+v after %s", seen[len(seen)-1], time.Since(started).Round(time.Millisecond))
	b.shots.takeQuick(b, "oauth2-proxy-app.png")

	// Two sessions at jwtgate: the browser's, and the one the app's login
	// opened.
	if got := sessionAgents(t, srv.Dir, "alice"); len(got) != 2 || !slices.Contains(got, "app: oauth2-proxy") {
		t.Errorf("alice's sessions = %q, want the browser's and the app's", got)
	}

	// 4. Sign out of the app: oauth2-proxy clears its cookie and calls
	// jwtgate's end_session_endpoint itself with the id_token it holds
	// (--backend-logout-url), which ends the session the app's login
	// opened; then it sends the browser to jwtgate's home page, where the
	// browser's own session is left for the user to end.
	before := len(app.requests())
	b.do("sign out of the app", chromedp.Navigate(appURL+"/oauth2/sign_out?rd="+url.QueryEscape(base+"/")))
	b.waitLoaded("jwtgate's home page", func(href string) bool { return href == base+"/" })
	b.waitText("#status", "Logged in as alice")
	testkit.Eventually(t, "the app's session at jwtgate to end", func() bool {
		got := sessionAgents(t, srv.Dir, "alice")
		return len(got) == 1 && got[0] != "app: oauth2-proxy"
	})
	b.do("open the app signed out of it", chromedp.Navigate(appURL+"/"))
	// Still logged in at jwtgate, consent given: straight back in, by a
	// new login of the app (a new session at jwtgate).
	b.waitLoaded("the app, signed in again without a consent page", atApp)
	b.waitText("#email", "alice@example.test")
	if got := sessionAgents(t, srv.Dir, "alice"); len(got) != 2 {
		t.Errorf("alice's sessions after signing in to the app again = %q, want the browser's and a new one of the app", got)
	}

	// 5. Sign out of both: the app, then jwtgate (the home page's Log out).
	// Now the app sends the browser to the login page, and no session is
	// left.
	b.do("sign out of the app again", chromedp.Navigate(appURL+"/oauth2/sign_out?rd="+url.QueryEscape(base+"/")))
	b.waitLoaded("jwtgate's home page", func(href string) bool { return href == base+"/" })
	b.waitText("#status", "Logged in as alice")
	b.do("log out of jwtgate", chromedp.Click(chromedp.ID("logout")))
	b.waitLoaded("the login page after logout", atLogin)
	if got := sessionAgents(t, srv.Dir, "alice"); len(got) != 0 {
		t.Errorf("alice's sessions after both logouts = %q, want none", got)
	}
	before = len(app.requests())
	b.do("open the app after logout", chromedp.Navigate(appURL+"/"))
	b.waitLoaded("jwtgate's login page, sent there by the app", func(href string) bool {
		return atLogin(href) && strings.Contains(href, "return_to=")
	})
	if n := len(app.requests()); n != before {
		t.Errorf("the app served %d requests after the logout", n-before)
	}

	// 6. Logging in again goes back to the app, without the consent page:
	// the consent is remembered.
	b.do("log in as alice again",
		chromedp.SendKeys(chromedp.ID("name"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), "alice-pass-123"),
		chromedp.Click(chromedp.ID("submit")),
	)
	b.waitLoaded("the app, without a consent page", atApp)
	b.waitText("#email", "alice@example.test")

	// 7. jwtgate's home page lists the app under Connected apps, with what
	// it may see. Disconnecting it ends the app's session at jwtgate and
	// forgets the consent: signed out of the app, the next visit asks for
	// consent again.
	b.do("open jwtgate's home page", chromedp.Navigate(base+"/"))
	b.waitVisible("#apps-card")
	appRow := fmt.Sprintf(`#apps li[data-client-id=%q]`, creds.ClientID)
	b.waitText(appRow, "oauth2-proxy")
	b.waitText(appRow, "May see who you are, your name, your email address")
	b.waitText("#sessions", "oauth2-proxy (app)") // the session the app's login opened
	b.shots.takeQuick(b, "connected-apps.png")
	b.do("disconnect oauth2-proxy", chromedp.Click(chromedp.CSS(appRow+" button.app-disconnect")))
	b.waitText("#apps-status", "Disconnected oauth2-proxy")
	b.waitText("#apps", "No apps are connected to your account.")
	if got := b.evalString(`document.activeElement.id`); got != "apps-title" {
		t.Errorf("focus after disconnecting the last app = %q, want the panel's heading", got)
	}
	b.waitJS("the app's session is gone from the sessions list", `!document.getElementById("sessions").textContent.includes("oauth2-proxy")`)
	if got := sessionAgents(t, srv.Dir, "alice"); len(got) != 1 || got[0] == "app: oauth2-proxy" {
		t.Errorf("alice's sessions after disconnecting the app = %q, want only the browser's", got)
	}
	b.do("sign out of the app", chromedp.Navigate(appURL+"/oauth2/sign_out?rd="+url.QueryEscape(appURL+"/")))
	oidcConsent(t, b, base, "oauth2-proxy")
	b.waitLoaded("the app after consenting again", atApp)
	b.waitText("#email", "alice@example.test")
	t.Logf("the whole oauth2-proxy flow took %s", time.Since(started).Round(time.Millisecond))

	// Every request stayed on this machine: jwtgate on 127.0.0.1, the
	// app on localhost. No console error, no CSP violation.
	requests, consoleErrors, _, violations := b.watch.snapshot()
	for _, r := range requests {
		_, raw, _ := strings.Cut(r, " ")
		if u, err := url.Parse(raw); err != nil || (u.Scheme != "data" && u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost") {
			t.Errorf("request left the machine: %s", r)
		}
	}
	for _, e := range consoleErrors {
		t.Errorf("console error: %s", e)
	}
	for _, v := range violations {
		t.Errorf("CSP violation: %s", v)
	}
}

// oidcConsent approves the consent page jwtgate shows when clientName asks
// a user for the first time.
func oidcConsent(t *testing.T, b *browser, base, clientName string) {
	t.Helper()
	b.waitLoaded("the consent page", func(href string) bool { return strings.HasPrefix(href, base+"/oauth2/consent?") })
	b.waitText("#consent-client", clientName)
	b.waitJS("the Allow button is ready", `!document.getElementById("consent-allow").disabled`)
	b.shots.takeQuick(b, "oidc-consent.png")
	b.do("allow "+clientName, chromedp.Click(chromedp.ID("consent-allow")))
}

// sessionAgents lists the user agents of a user's live sessions, as
// `jwtgate sessions list --json` on the server's database shows them.
func sessionAgents(t *testing.T, dir, user string) []string {
	t.Helper()
	out, errOut, code := Run(t, dir, "", "sessions", "list", user, "--json")
	var list []struct {
		UserAgent string `json:"user_agent"`
	}
	if err := json.Unmarshal([]byte(out), &list); code != 0 || err != nil {
		t.Fatalf("jwtgate sessions list %s --json: exit %d, %q (%v): %s", user, code, out, err, errOut)
	}
	agents := make([]string, 0, len(list))
	for _, s := range list {
		agents = append(agents, s.UserAgent)
	}
	return agents
}
