package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/internal/testkit"
	"github.com/jwtgate/jwtgate/token"
)

// envRequireNode makes the strict-client test fail, instead of skipping,
// when Node.js, npm or the npm packages are unavailable (CI sets it).
const envRequireNode = "JGTEST_REQUIRE_NODE"

// rpClientDir returns a directory holding testdata/rpclient's script and
// its npm packages, installed with `npm ci` from the lock file. It lives in
// the user's cache directory, keyed by the lock file's hash, so the
// packages are downloaded once per version and never enter the worktree.
func rpClientDir(t *testing.T) string {
	t.Helper()
	src := filepath.Join("testdata", "rpclient")
	return testkit.NodeScript(t, envRequireNode, src, filepath.Join(src, "discover.mjs"))
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
