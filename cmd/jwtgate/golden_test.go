package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/internal/testkit"
	"github.com/jwtgate/jwtgate/token"
)

// The golden files under testdata/golden hold the CLI's output, so a change
// to what operators read shows up in review. Refresh them with
//
//	go test ./cmd/jwtgate -run Golden -update
//
// What differs between runs (times, kids, session and token ids) is
// replaced by TIME, KID and ID before comparing.

// goldenCase is one command whose output is kept in testdata/golden/NAME.txt.
type goldenCase struct {
	name     string
	args     []string
	stdin    string
	wantCode int  // exit status; recorded here, not in the file, so -update cannot change it
	isJSON   bool // stdout must be valid JSON
}

// normalizer replaces what varies between runs by fixed words.
type normalizer struct {
	exact []*regexp.Regexp // values known to vary (kids, ids), each with its word
	words []string
}

var (
	rfc3339Re  = regexp.MustCompile(`\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})`)
	relativeRe = regexp.MustCompile(`\((in \d+[smhd]|\d+[smhd] ago|now)\)`)
	unixTimeRe = regexp.MustCompile(`("(exp|iat|nbf)": )\d+`)
	// Tables pad empty last cells; editors strip such spaces from files.
	trailingSpaceRe = regexp.MustCompile(`(?m)[ \t]+$`)
)

func (n *normalizer) add(word string, values ...string) {
	for _, v := range values {
		n.exact = append(n.exact, regexp.MustCompile(regexp.QuoteMeta(v)))
		n.words = append(n.words, word)
	}
}

func (n *normalizer) apply(s string) string {
	for i, re := range n.exact {
		s = re.ReplaceAllLiteralString(s, n.words[i])
	}
	s = rfc3339Re.ReplaceAllString(s, "TIME")
	s = relativeRe.ReplaceAllString(s, "(RELATIVE)")
	s = unixTimeRe.ReplaceAllString(s, "${1}UNIXTIME")
	return trailingSpaceRe.ReplaceAllString(s, "")
}

func TestGolden(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := "sqlite:" + filepath.Join(dir, "golden.db")
	mustRun := func(stdin string, args ...string) {
		t.Helper()
		if r := runCLI(t, stdin, nil, append(args, "--db", db)...); r.err != nil {
			t.Fatalf("run(%q) = %v", args, r.err)
		}
	}
	// A store as an operator's would be: users, a key (made by the
	// server's first start, here by NewKeyring), a rotation, a session.
	mustRun("alice-pass-1\n", "user", "add", "alice", "--role", "admin", "--password-stdin")
	mustRun("bob-pass-123\n", "user", "add", "bob", "--role", "ops", "--role", "dev", "--password-stdin")
	mustRun("", "user", "disable", "bob")
	store, err := sqlite.Open(ctx, strings.TrimPrefix(db, "sqlite:"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ring, err := auth.NewKeyring(ctx, store, auth.KeyringOptions{Alg: token.EdDSA, TokenLifetime: auth.DefaultAccessTTL + auth.Leeway})
	if err != nil {
		t.Fatal(err)
	}
	signer := ring.Signer()
	mustRun("", "keys", "rotate")
	alice, err := store.UserByName(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	sess := &jwtgate.Session{ID: token.NewID(), UserID: alice.ID, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour), LastUsedAt: now,
		IP: "203.0.113.7", UserAgent: "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"}
	if err := store.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	c := claimsAt(now)
	c.Issuer, c.SessionID, c.UserID = "https://auth.example.com", sess.ID, alice.ID
	valid := sign(t, signer, c)
	expired := claimsAt(now.Add(-2 * time.Hour))
	expiredTok := sign(t, signer, expired)

	var n normalizer
	keys, err := store.Keys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		n.add("KID", k.ID)
	}
	n.add("ID", sess.ID, c.ID, expired.ID, expired.SessionID)

	tests := []goldenCase{
		{name: "help", args: []string{"help"}},
		{name: "user-help", args: []string{"user", "--help"}},
		{name: "keys-help", args: []string{"keys", "--help"}},
		{name: "sessions-help", args: []string{"sessions", "--help"}},
		{name: "audit-help", args: []string{"audit", "--help"}},
		{name: "token-help", args: []string{"token", "--help"}},
		{name: "user-add-help", args: []string{"user", "add", "--help"}},
		{name: "migrate-help", args: []string{"migrate", "-h"}},
		{name: "user-list", args: []string{"user", "list", "--db", db}},
		{name: "user-list-json", args: []string{"user", "list", "--json", "--db", db}, isJSON: true},
		{name: "keys-list", args: []string{"keys", "list", "--db", db}},
		{name: "keys-list-json", args: []string{"keys", "list", "--json", "--db", db}, isJSON: true},
		{name: "sessions-list", args: []string{"sessions", "list", "alice", "--db", db}},
		{name: "sessions-list-json", args: []string{"sessions", "list", "alice", "--json", "--db", db}, isJSON: true},
		{name: "sessions-list-unknown-user", args: []string{"sessions", "list", "carol", "--db", db}, wantCode: 1},
		{name: "audit", args: []string{"audit", "--db", db}},
		{name: "token-inspect-valid", args: []string{"token", "inspect", "-", "--db", db}, stdin: valid},
		{name: "token-inspect-valid-json", args: []string{"token", "inspect", "-", "--json", "--issuer", "https://auth.example.com", "--db", db}, stdin: valid, isJSON: true},
		{name: "token-inspect-expired", args: []string{"token", "inspect", "-", "--db", db}, stdin: expiredTok, wantCode: 1},
		{name: "token-inspect-wrong-issuer", args: []string{"token", "inspect", "-", "--issuer", "https://other.example.com", "--db", db}, stdin: valid, wantCode: 1},
		{name: "token-inspect-malformed-json", args: []string{"token", "inspect", "-", "--json", "--db", db}, stdin: "a.b", wantCode: 1, isJSON: true},
		{name: "token-inspect-no-token", args: []string{"token", "inspect", "--db", db}, wantCode: 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.stdin, nil, tc.args...)
			if got := codeOf(r.err); got != tc.wantCode {
				t.Errorf("run(%q): exit %d (%v), want %d", tc.args, got, r.err, tc.wantCode)
			}
			if tc.isJSON && !json.Valid([]byte(r.stdout)) {
				t.Errorf("run(%q) printed invalid JSON:\n%s", tc.args, r.stdout)
			}
			got := r.stdout
			if r.stderr != "" {
				got += "-- stderr --\n" + r.stderr
			}
			if r.err != nil {
				got += fmt.Sprintf("-- error (exit %d) --\njwtgate: %v\n", codeOf(r.err), r.err)
			}
			got = n.apply(strings.ReplaceAll(got, db, "DB"))
			checkGolden(t, tc.name, got)
		})
	}
}

// checkGolden compares got with testdata/golden/NAME.txt, or writes it there
// with -update.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name+".txt")
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: go test ./cmd/jwtgate -run Golden -update)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (if the change is meant, run: go test ./cmd/jwtgate -run Golden -update)\n%s",
			path, lineDiff(string(want), got))
	}
}

// lineDiff shows the lines that differ, in want/got pairs.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			fmt.Fprintf(&b, "line %d:\n  want %q\n  got  %q\n", i+1, wl, gl)
		}
	}
	return b.String()
}

// TestBinaryBesideServer runs the real binary: a server, and the admin CLI
// on the same SQLite file while it serves. A user the CLI adds can log in
// at once; a token the server issues inspects as VALID (exit 0); after
// `sessions revoke` it inspects as REVOKED (exit 1) and the server refuses
// it within its revocation sync interval.
func TestBinaryBesideServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binary with")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "jwtgate")
	if out, err := exec.Command(goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	// The environment without a developer's own jwtgate settings; the
	// working directory is dir, which has no .env.
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "JWTGATE_") && !strings.HasPrefix(kv, "jwt_secret=") {
			env = append(env, kv)
		}
	}
	db := "sqlite:" + filepath.Join(dir, "shared.db")
	cli := func(stdin string, args ...string) (stdout, stderr string, code int) {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--db", db)...)
		cmd.Dir, cmd.Env, cmd.Stdin = dir, env, strings.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			code = exit.ExitCode()
		case err != nil:
			t.Fatalf("jwtgate %q: %v", args, err)
		}
		return out.String(), errb.String(), code
	}

	var serverLog testkit.SyncBuffer
	srv := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", db)
	srv.Dir, srv.Env = dir, append(slices.Clone(env), "JWTGATE_ADMIN_PASSWORD=admin-pw-123")
	srv.Stdout, srv.Stderr = &serverLog, &serverLog
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var exitErr error
	go func() { exitErr = srv.Wait(); close(exited) }()
	defer func() {
		_ = srv.Process.Signal(os.Interrupt)
		select {
		case <-exited:
			if exitErr != nil {
				t.Errorf("jwtgate serve after interrupt: %v\n%s", exitErr, serverLog.String())
			}
		case <-time.After(30 * time.Second):
			_ = srv.Process.Kill()
			t.Errorf("jwtgate serve still running 30s after interrupt")
		}
	}()
	base := "http://" + testkit.WaitListenAddr(t, serverLog.String, "jwtgate listening", exited)
	client := &http.Client{Timeout: 10 * time.Second}
	testkit.Eventually(t, "GET /healthz to answer 200", func() bool {
		resp, err := client.Get(base + "/healthz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	if out, errOut, code := cli("carol-pass-1\n", "user", "add", "carol", "--role", "ops", "--password-stdin"); code != 0 {
		t.Fatalf("jwtgate user add carol = exit %d\n%s%s", code, out, errOut)
	}
	out, errOut, code := cli("", "user", "list", "--json")
	var users []listedUser
	if err := json.Unmarshal([]byte(out), &users); code != 0 || err != nil {
		t.Fatalf("jwtgate user list --json = exit %d, %q (%v)\n%s", code, out, err, errOut)
	}
	names := make([]string, 0, len(users))
	for _, u := range users {
		names = append(names, u.Name)
	}
	if !slices.Equal(names, []string{"admin", "carol"}) {
		t.Errorf("jwtgate user list --json = %q, want admin and carol", names)
	}

	// The server sees the user the CLI added.
	body, _ := json.Marshal(map[string]string{"name": "carol", "password": "carol-pass-1"})
	resp, err := client.Post(base+"/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var login struct {
		Token string `json:"token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&login)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || login.Token == "" {
		t.Fatalf("POST /login carol = %d, want 200 with a token", resp.StatusCode)
	}
	getUser := func() int {
		req, _ := http.NewRequest("GET", base+"/user", nil)
		req.Header.Set("Authorization", "Bearer "+login.Token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := getUser(); got != http.StatusOK {
		t.Fatalf("GET /user with carol's token = %d, want 200", got)
	}

	// The CLI judges the server's token as the server does.
	if out, errOut, code := cli(login.Token, "token", "inspect", "-", "--issuer", base); code != 0 || !strings.Contains(out, "verdict: VALID") {
		t.Errorf("jwtgate token inspect (fresh token) = exit %d\n%s%s\nwant exit 0, VALID", code, out, errOut)
	}
	tampered := login.Token[:len(login.Token)-4] + "AAAA"
	if out, errOut, code := cli(tampered, "token", "inspect", "-"); code != 1 || !strings.Contains(out, "INVALID: bad signature") ||
		!strings.Contains(errOut, "jwtgate: token is invalid: bad signature") {
		t.Errorf("jwtgate token inspect (tampered) = exit %d\n%s%s\nwant exit 1, bad signature", code, out, errOut)
	}
	if _, errOut, code := cli("", "token", "inspect"); code != 2 || !strings.Contains(errOut, "exactly one TOKEN") {
		t.Errorf("jwtgate token inspect (no token) = exit %d, %q; want exit 2", code, errOut)
	}

	// A revocation by the CLI reaches the running server through the store.
	if out, errOut, code := cli("", "sessions", "revoke", "carol"); code != 0 {
		t.Fatalf("jwtgate sessions revoke carol = exit %d\n%s%s", code, out, errOut)
	}
	if out, errOut, code := cli(login.Token, "token", "inspect", "-"); code != 1 || !strings.Contains(out, "verdict: REVOKED") {
		t.Errorf("jwtgate token inspect (revoked) = exit %d\n%s%s\nwant exit 1, REVOKED", code, out, errOut)
	}
	took := testkit.Eventually(t, "the server to refuse the token revoked by jwtgate sessions revoke", func() bool {
		return getUser() == http.StatusUnauthorized
	})
	t.Logf("the server refused the revoked token after %s (it syncs every second)", took.Round(time.Millisecond))
}
