package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/password"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/internal/testkit"
)

// The in-process tests call run as main does, with an explicit environment
// (never the test process's own, so a developer's JWTGATE_* settings cannot
// leak in). run reads ".env" from the working directory; go test runs in
// cmd/jwtgate, which has none.

// runResult is what one call of run produced.
type runResult struct {
	stdout, stderr string
	err            error
}

// runCLI calls run with args, stdin and env (KEY=VALUE).
func runCLI(t *testing.T, stdin string, env []string, args ...string) runResult {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, env, strings.NewReader(stdin), &out, &errb)
	return runResult{stdout: out.String(), stderr: errb.String(), err: err}
}

func TestRunVersion(t *testing.T) {
	r := runCLI(t, "", nil, "version")
	if r.err != nil || !strings.HasPrefix(r.stdout, "jwtgate ") {
		t.Errorf("run(version) = %q, %v; want %q..., nil", r.stdout, r.err, "jwtgate ")
	}
}

func TestRunHelp(t *testing.T) {
	r := runCLI(t, "", nil, "help")
	if r.err != nil || !strings.Contains(r.stdout, "Usage:") || !strings.Contains(r.stdout, "jwtgate user add") {
		t.Errorf("run(help) = %q, %v; want the usage text", r.stdout, r.err)
	}
	for _, args := range [][]string{{"user"}, {"user", "--help"}, {"serve", "--help"}, {"migrate", "-h"}} {
		r := runCLI(t, "", nil, args...)
		if r.err != nil || !strings.Contains(r.stdout, "Usage") {
			t.Errorf("run(%q) = %q, %v; want usage on stdout and no error", args, r.stdout, r.err)
		}
	}
}

// TestRunHelpFlag checks that `jwtgate -h` and `jwtgate --help` show the
// list of commands, as `jwtgate help` does. run's switch has a case for
// them, but args starting with "-" are sent to serve before the switch, so
// they print only serve's flags and a user never learns the commands.
func TestRunHelpFlag(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}} {
		r := runCLI(t, "", nil, args...)
		if r.err != nil || !strings.Contains(r.stdout, "jwtgate user add") {
			first, _, _ := strings.Cut(r.stdout, "\n")
			t.Errorf("run(%q) = %q..., %v; want the command list (as run(help) prints)", args, first, r.err)
		}
	}
}

// TestRunErrors checks that mistakes are refused with the right exit status
// and a message naming what is wrong, before anything is opened or served.
func TestRunErrors(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	tests := []struct {
		name     string
		args     []string
		env      []string
		wantErr  string
		wantCode int
	}{
		{name: "unknown command", args: []string{"frobnicate"}, wantErr: `unknown command "frobnicate"`, wantCode: 2},
		{name: "unknown user command", args: []string{"user", "frobnicate"}, wantErr: `"frobnicate"`, wantCode: 2},
		{name: "unknown flag", args: []string{"serve", "--nope"}, wantErr: "nope", wantCode: 2},
		{name: "unknown flag before command", args: []string{"--nope"}, wantErr: "nope", wantCode: 2},
		{name: "version ignores settings", args: []string{"version"}, env: []string{"JWTGATE_NOPE=1"}, wantErr: "", wantCode: 0},
		{name: "unknown setting for serve", args: []string{"serve"}, env: []string{"JWTGATE_NOPE=1"}, wantErr: "JWTGATE_NOPE", wantCode: 2},
		{name: "unknown setting for user", args: []string{"user", "list", "--db", db}, env: []string{"JWTGATE_NOPE=1"}, wantErr: "JWTGATE_NOPE", wantCode: 2},
		{name: "invalid setting", args: []string{"serve"}, env: []string{"JWTGATE_ACCESS_TTL=abc"}, wantErr: "JWTGATE_ACCESS_TTL", wantCode: 2},
		{name: "short secret", args: []string{"serve"}, env: []string{"JWTGATE_JWT_SECRET=" + strings.Repeat("x", 31)}, wantErr: "JWTGATE_JWT_SECRET", wantCode: 2},
		{name: "postgres URL malformed", args: []string{"migrate", "--db", "postgres://localhost:x/"}, wantErr: "--db", wantCode: 2},
		{name: "postgres unreachable", args: []string{"migrate", "--db", "postgres://127.0.0.1:1/x?connect_timeout=2"}, wantErr: "", wantCode: 1},
		{name: "db without scheme", args: []string{"migrate", "--db", "x.db"}, wantErr: "--db", wantCode: 2},
		{name: "empty sqlite path", args: []string{"migrate", "--db", "sqlite:"}, wantErr: "--db", wantCode: 2},
		{name: "user add without name", args: []string{"user", "add", "--db", db}, wantErr: "NAME", wantCode: 2},
		{name: "user add two names", args: []string{"user", "add", "a", "b", "--db", db}, wantErr: "NAME", wantCode: 2},
		{name: "user list with argument", args: []string{"user", "list", "x", "--db", db}, wantErr: "no arguments", wantCode: 2},
		{name: "migrate with argument", args: []string{"migrate", "x", "--db", db}, wantErr: `"x"`, wantCode: 2},
		{name: "password flag does not exist", args: []string{"user", "add", "eve", "--password", "hunter22", "--db", db}, wantErr: "password", wantCode: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, "", tt.env, tt.args...)
			if tt.wantCode == 0 {
				if r.err != nil {
					t.Fatalf("run(%q) with env %q = %v, want nil", tt.args, tt.env, r.err)
				}
				return
			}
			if r.err == nil || !strings.Contains(r.err.Error(), tt.wantErr) {
				t.Fatalf("run(%q) with env %q = %v, want error containing %q", tt.args, tt.env, r.err, tt.wantErr)
			}
			if got := exitCode(r.err); got != tt.wantCode {
				t.Errorf("run(%q): exitCode(%v) = %d, want %d", tt.args, r.err, got, tt.wantCode)
			}
		})
	}
}

// listedUser is one entry of `user list --json`.
type listedUser struct {
	ID       int64    `json:"id"`
	Name     string   `json:"name"`
	Roles    []string `json:"roles"`
	Disabled bool     `json:"disabled"`
}

// listUsersJSON runs `user list --json` on db and decodes it.
func listUsersJSON(t *testing.T, db string) []listedUser {
	t.Helper()
	r := runCLI(t, "", nil, "user", "list", "--json", "--db", db)
	if r.err != nil {
		t.Fatalf("run(user list --json) = %v", r.err)
	}
	var users []listedUser
	if err := json.Unmarshal([]byte(r.stdout), &users); err != nil {
		t.Fatalf("user list --json printed %q: %v", r.stdout, err)
	}
	return users
}

// TestUserCommands drives the user commands in order against one database,
// as an operator would.
func TestUserCommands(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	steps := []struct {
		name     string
		args     []string
		stdin    string
		wantOut  string // substring of stdout on success
		wantErr  string // substring of the error; "" means success
		wantCode int    // exit status when wantErr is set
		// wantUsers, when set, is the user list (name:roles[:disabled]) after the step.
		wantUsers []string
	}{
		{name: "add alice", args: []string{"user", "add", "alice", "--role", "admin", "--password-stdin"}, stdin: "s3cret-pass\n",
			wantOut: `created user "alice"`, wantUsers: []string{"alice:admin"}},
		{name: "add duplicate", args: []string{"user", "add", "alice", "--password-stdin"}, stdin: "other-pass-1\n",
			wantErr: "already exists", wantCode: 1, wantUsers: []string{"alice:admin"}},
		{name: "add duplicate in other case", args: []string{"user", "add", "ALICE", "--password-stdin"}, stdin: "other-pass-1\n",
			wantErr: "already exists", wantCode: 1, wantUsers: []string{"alice:admin"}},
		{name: "add with short password", args: []string{"user", "add", "bob", "--password-stdin"}, stdin: "short12\n",
			wantErr: "shorter than 8", wantCode: 2, wantUsers: []string{"alice:admin"}},
		{name: "add with empty stdin", args: []string{"user", "add", "bob", "--password-stdin"}, stdin: "",
			wantErr: "no password", wantCode: 2, wantUsers: []string{"alice:admin"}},
		{name: "add invalid UTF-8 name", args: []string{"user", "add", "bo\xffb", "--password-stdin"}, stdin: "s3cret-pass\n",
			wantErr: "UTF-8", wantCode: 2, wantUsers: []string{"alice:admin"}},
		{name: "add name with control character", args: []string{"user", "add", "bo\x1bb", "--password-stdin"}, stdin: "s3cret-pass\n",
			wantErr: "control character", wantCode: 2, wantUsers: []string{"alice:admin"}},
		{name: "add name with NUL", args: []string{"user", "add", "bob\x00", "--password-stdin"}, stdin: "s3cret-pass\n",
			wantErr: "control character", wantCode: 2, wantUsers: []string{"alice:admin"}},
		{name: "add name with spaces around", args: []string{"user", "add", " bob", "--password-stdin"}, stdin: "s3cret-pass\n",
			wantErr: "spaces", wantCode: 2, wantUsers: []string{"alice:admin"}},
		{name: "add with bad role", args: []string{"user", "add", "bob", "--role", "Admin", "--password-stdin"}, stdin: "s3cret-pass\n",
			wantErr: "role", wantCode: 2, wantUsers: []string{"alice:admin"}},
		{name: "add without terminal", args: []string{"user", "add", "bob"}, stdin: "s3cret-pass\n",
			wantErr: "--password-stdin", wantCode: 2, wantUsers: []string{"alice:admin"}},
		{name: "add bob with two roles, flags first", args: []string{"user", "add", "--role", "ops", "--role", "dev", "--password-stdin", "bob"}, stdin: "bobs-pass-1\r\n",
			wantOut: `created user "bob"`, wantUsers: []string{"alice:admin", "bob:ops,dev"}},
		{name: "passwd alice", args: []string{"user", "passwd", "alice", "--password-stdin"}, stdin: "new-pass-123\n",
			wantOut: "changed", wantUsers: []string{"alice:admin", "bob:ops,dev"}},
		{name: "passwd too short", args: []string{"user", "passwd", "alice", "--password-stdin"}, stdin: "1234\n",
			wantErr: "shorter than 8", wantCode: 2},
		{name: "passwd unknown user", args: []string{"user", "passwd", "nobody", "--password-stdin"}, stdin: "new-pass-123\n",
			wantErr: `no user "nobody"`, wantCode: 1},
		{name: "passwd without terminal", args: []string{"user", "passwd", "alice"}, stdin: "new-pass-123\n",
			wantErr: "--password-stdin", wantCode: 2},
		{name: "disable bob", args: []string{"user", "disable", "bob"},
			wantOut: "disabled", wantUsers: []string{"alice:admin", "bob:ops,dev:disabled"}},
		{name: "disable unknown", args: []string{"user", "disable", "nobody"}, wantErr: `no user "nobody"`, wantCode: 1},
		{name: "enable bob", args: []string{"user", "enable", "bob"},
			wantOut: "enabled", wantUsers: []string{"alice:admin", "bob:ops,dev"}},
		{name: "enable unknown", args: []string{"user", "enable", "nobody"}, wantErr: `no user "nobody"`, wantCode: 1},
		{name: "delete bob", args: []string{"user", "delete", "bob"},
			wantOut: "deleted", wantUsers: []string{"alice:admin"}},
		{name: "delete bob again", args: []string{"user", "delete", "bob"}, wantErr: `no user "bob"`, wantCode: 1},
		{name: "list as table", args: []string{"user", "list"}, wantOut: "alice"},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			args := append(slices.Clone(st.args), "--db", db)
			r := runCLI(t, st.stdin, nil, args...)
			if st.wantErr != "" {
				if r.err == nil || !strings.Contains(r.err.Error(), st.wantErr) {
					t.Errorf("run(%q) = %v, want error containing %q", st.args, r.err, st.wantErr)
				} else if got := exitCode(r.err); got != st.wantCode {
					t.Errorf("run(%q): exitCode(%v) = %d, want %d", st.args, r.err, got, st.wantCode)
				}
			} else if r.err != nil || !strings.Contains(r.stdout, st.wantOut) {
				t.Errorf("run(%q) = %q, %v; want output containing %q", st.args, r.stdout, r.err, st.wantOut)
			}
			if st.wantUsers == nil {
				return
			}
			var got []string
			for _, u := range listUsersJSON(t, db) {
				s := u.Name + ":" + strings.Join(u.Roles, ",")
				if u.Disabled {
					s += ":disabled"
				}
				got = append(got, s)
			}
			if !slices.Equal(got, st.wantUsers) {
				t.Errorf("after run(%q), user list = %q, want %q", st.args, got, st.wantUsers)
			}
		})
	}

	// The stored hash is of the password set by passwd, not the first one.
	store, err := sqlite.Open(context.Background(), strings.TrimPrefix(db, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	u, err := store.UserByName(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		pw     string
		wantOK bool
	}{{pw: "new-pass-123", wantOK: true}, {pw: "s3cret-pass", wantOK: false}} {
		ok, _, err := password.Check(u.PasswordHash, tc.pw, password.OWASP)
		if err != nil || ok != tc.wantOK {
			t.Errorf("password.Check(alice's hash, %s) = %v, %v; want %v", tc.pw, ok, err, tc.wantOK)
		}
	}
}

func TestMigrate(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "m.db")
	re := regexp.MustCompile(`^schema at version ([1-9][0-9]*)\n$`)
	var first string
	for i := range 2 { // a second run on an up-to-date schema changes nothing
		r := runCLI(t, "", nil, "migrate", "--db", db)
		m := re.FindStringSubmatch(r.stdout)
		if r.err != nil || m == nil {
			t.Fatalf("run(migrate) #%d = %q, %v; want %q", i+1, r.stdout, r.err, re)
		}
		if i == 0 {
			first = m[1]
		} else if m[1] != first {
			t.Errorf("run(migrate) again = version %s, want %s", m[1], first)
		}
	}
	// JWTGATE_DB is the flag's twin.
	r := runCLI(t, "", []string{"JWTGATE_DB=" + db}, "migrate")
	if r.err != nil || r.stdout != "schema at version "+first+"\n" {
		t.Errorf("run(migrate) with JWTGATE_DB = %q, %v; want version %s", r.stdout, r.err, first)
	}
}

// TestServe runs the server in-process, logs in over HTTP, and checks that
// cancelling the context shuts it down cleanly.
func TestServe(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	const adminPW = "admin-pw-123" // 12 characters
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr testkit.SyncBuffer
	done := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", db}, []string{"JWTGATE_ADMIN_PASSWORD=" + adminPW},
			strings.NewReader(""), &stdout, &stderr)
		close(exited)
	}()
	// The kernel picks the port; the log line says which.
	addr := testkit.WaitListenAddr(t, stderr.String, "jwtgate listening", exited)
	base := "http://" + addr
	client := &http.Client{Timeout: 10 * time.Second}
	testkit.Eventually(t, "GET /healthz to answer 200", func() bool {
		resp, err := client.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	// The default issuer names the port bound, not port 0.
	resp, err := client.Get(base + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var disc struct {
		Issuer string `json:"issuer"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&disc)
	resp.Body.Close()
	if disc.Issuer != base {
		t.Errorf("serve --addr 127.0.0.1:0: discovery issuer = %q, want %q", disc.Issuer, base)
	}

	for _, tc := range []struct {
		pw   string
		want int
	}{{pw: adminPW, want: http.StatusOK}, {pw: "wrong-password", want: http.StatusBadRequest}} {
		body, _ := json.Marshal(map[string]string{"name": "admin", "password": tc.pw})
		resp, err := client.Post(base+"/login", "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Token string `json:"token"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("Login(admin, %s) = %d, want %d", tc.pw, resp.StatusCode, tc.want)
		}
		if tc.want != http.StatusOK {
			continue
		}
		req, _ := http.NewRequest("GET", base+"/user", nil)
		req.Header.Set("Authorization", "Bearer "+out.Token)
		resp, err = client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var user struct {
			Name string `json:"name"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&user)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || user.Name != "admin" {
			t.Fatalf("GET /user = %d %+v, want 200 admin", resp.StatusCode, user)
		}
	}
	if strings.Contains(stderr.String(), adminPW) {
		t.Errorf("stderr shows the admin password from JWTGATE_ADMIN_PASSWORD:\n%s", stderr.String())
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run(serve) after cancel = %v, want nil (graceful shutdown)", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("run(serve) still running 30s after cancel")
	}
	if _, err := client.Get(base + "/healthz"); err == nil {
		t.Errorf("GET /healthz after shutdown succeeded; want the listener closed")
	}
}

// TestServeFirstAdmin checks the bootstrap: a random admin password shown
// once on stderr when JWTGATE_ADMIN_PASSWORD is unset, and a short
// JWTGATE_ADMIN_PASSWORD refused as a configuration error.
func TestServeFirstAdmin(t *testing.T) {
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "x.db")

	r := runCLI(t, "", []string{"JWTGATE_ADMIN_PASSWORD=short"}, "serve", "--addr", "127.0.0.1:0", "--db", db)
	if r.err == nil || !strings.Contains(r.err.Error(), "admin password") || exitCode(r.err) != 2 {
		t.Errorf("run(serve) with a 5-character JWTGATE_ADMIN_PASSWORD = %v, want a configuration error about the admin password", r.err)
	}
	if users := listUsersJSON(t, db); len(users) != 0 {
		t.Errorf("after a refused start, user list = %+v, want none", users)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr testkit.SyncBuffer
	done := make(chan error, 1)
	args := []string{"serve", "--addr", "127.0.0.1:0", "--db", db}
	exited := make(chan struct{})
	go func() { done <- run(ctx, args, nil, strings.NewReader(""), io.Discard, &stderr); close(exited) }()
	// Startup is over (the admin made, or not) once the server listens.
	testkit.WaitListenAddr(t, stderr.String, "jwtgate listening", exited)
	m := regexp.MustCompile(`created user "admin" with password: (\S{12,})\n`).FindStringSubmatch(stderr.String())
	cancel()
	if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
		t.Errorf("run(serve) = %v", err)
	}
	if m == nil {
		t.Fatalf("stderr does not show a generated admin password:\n%s", stderr.String())
	}
	if n := strings.Count(stderr.String(), m[1]); n != 1 {
		t.Errorf("generated admin password appears %d times on stderr, want once", n)
	}
	users := listUsersJSON(t, db)
	if len(users) != 1 || users[0].Name != "admin" || !slices.Equal(users[0].Roles, []string{"admin"}) {
		t.Errorf("after first start, user list = %+v, want admin with role admin", users)
	}
}

func TestMinLevel(t *testing.T) {
	var buf strings.Builder
	h := minLevel{Handler: slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), min: slog.LevelWarn}
	tests := []struct {
		level slog.Level
		want  bool
	}{
		{slog.LevelDebug, false},
		{slog.LevelInfo, false},
		{slog.LevelWarn, true},
		{slog.LevelError, true},
	}
	for _, tt := range tests {
		for _, hh := range []slog.Handler{h, h.WithAttrs([]slog.Attr{slog.String("k", "v")}), h.WithGroup("g")} {
			if got := hh.Enabled(t.Context(), tt.level); got != tt.want {
				t.Errorf("minLevel(WARN).Enabled(%v) = %v, want %v", tt.level, got, tt.want)
			}
		}
	}
	slog.New(h).Info("dropped")
	slog.New(h).Warn("kept")
	if got := buf.String(); strings.Contains(got, "dropped") || !strings.Contains(got, "kept") {
		t.Errorf("minLevel(WARN) wrote %q, want only the WARN line", got)
	}
}
