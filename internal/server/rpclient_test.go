package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/token"
)

// envRequireNode makes the strict-client test fail, instead of skipping,
// when Node.js, npm or the npm packages are unavailable (CI sets it).
const envRequireNode = "JGTEST_REQUIRE_NODE"

func skipOrFailNode(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv(envRequireNode) == "1" {
		t.Fatalf("%s (%s=1)", msg, envRequireNode)
	}
	t.Skip(msg)
}

// rpClientDir returns a directory holding testdata/rpclient's script and
// its npm packages, installed with `npm ci` from the lock file. It lives in
// the user's cache directory, keyed by the lock file's hash, so the
// packages are downloaded once per version and never enter the worktree.
func rpClientDir(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		skipOrFailNode(t, "node not found: install Node.js 20+ and npm")
	}
	if _, err := exec.LookPath("npm"); err != nil {
		skipOrFailNode(t, "npm not found: install npm")
	}
	src := filepath.Join("testdata", "rpclient")
	lock, err := os.ReadFile(filepath.Join(src, "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	pkg, err := os.ReadFile(filepath.Join(src, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	sum := sha256.Sum256(append(pkg, lock...))
	dir := filepath.Join(cache, "jwtgate-test", "rpclient-"+hex.EncodeToString(sum[:8]))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err != nil {
		// Install into a fresh directory and rename it into place, so test
		// binaries running at once never see a half-installed tree.
		if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
			t.Fatal(err)
		}
		tmp, err := os.MkdirTemp(filepath.Dir(dir), "install-")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(tmp)
		for name, b := range map[string][]byte{"package.json": pkg, "package-lock.json": lock} {
			if err := os.WriteFile(filepath.Join(tmp, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--cache", filepath.Join(filepath.Dir(dir), "npm-cache"))
		cmd.Dir = tmp
		if out, err := cmd.CombinedOutput(); err != nil {
			skipOrFailNode(t, "npm ci for testdata/rpclient failed (offline?): "+err.Error()+"\n"+string(out))
		}
		if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
			if _, statErr := os.Stat(filepath.Join(dir, "node_modules")); statErr != nil {
				t.Fatal(err)
			}
		}
	}
	script, err := os.ReadFile(filepath.Join(src, "discover.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(dir, "discover-*.mjs")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(script); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Rename(f.Name(), filepath.Join(dir, "discover.mjs")); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestDiscoveryStrictClients runs strict relying-party libraries (Node's
// openid-client v6, oauth4webapi, jose) against the real handler on a real
// listener: discovery under both well-known names, userinfo with its sub
// check, and the access token verified with the published JWKS.
func TestDiscoveryStrictClients(t *testing.T) {
	dir := rpClientDir(t)
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "jwtgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	srv := httptest.NewUnstartedServer(nil)
	issuer := "http://" + srv.Listener.Addr().String()
	kr, err := auth.NewKeyring(ctx, store, auth.KeyringOptions{Alg: token.EdDSA, PublishDelay: 10 * time.Minute, TokenLifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := auth.New(ctx, store, kr, auth.Options{Issuer: issuer, Hash: fastHash})
	if err != nil {
		t.Fatal(err)
	}
	u, err := svc.CreateUser(ctx, "alice", "alice-pass", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv.Config.Handler = NewServer(Deps{Logger: slog.New(slog.DiscardHandler), Auth: svc, Keys: kr, Ready: store.Ping}, Options{Issuer: issuer})
	srv.Start()
	defer srv.Close()
	f := &fixture{h: srv.Config.Handler}
	tok := f.login(t, "alice", "alice-pass")
	sub := strconv.FormatInt(u.ID, 10)

	runCtx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(runCtx, "node", "discover.mjs", issuer, tok, sub)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node discover.mjs %s: %v\n%s", issuer, err, stderr.Bytes())
	}
	var got map[string]map[string]string
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("discover.mjs printed %q: %v", out, err)
	}
	for _, alg := range []string{"oidc", "oauth2"} {
		r := got[alg]
		if r["issuer"] != issuer || r["oauth4webapi_issuer"] != issuer || r["jwks_uri"] != issuer+"/.well-known/jwks.json" {
			t.Errorf("%s discovery = %v, want issuer %s and its jwks_uri", alg, r, issuer)
		}
		if r["userinfo_sub"] != sub || r["userinfo_name"] != "alice" {
			t.Errorf("%s userinfo = %v, want sub %s, name alice", alg, r, sub)
		}
	}
	if got["jose"]["sub"] != sub || got["jose"]["alg"] != token.EdDSA {
		t.Errorf("jose.jwtVerify = %v, want sub %s alg EdDSA", got["jose"], sub)
	}
}
