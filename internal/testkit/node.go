package testkit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// NodeScript returns a directory holding the npm packages pinned by src's
// package.json and package-lock.json, installed with `npm ci`, and a copy
// of the script file named script. The packages live under the user's
// cache directory, keyed by a hash of the two files, so each version is
// downloaded once per machine, for every test that pins the same ones, and
// never enters the worktree. Without Node.js or npm, or when `npm ci`
// fails (offline), the test is skipped, or fails when env is "1".
func NodeScript(t *testing.T, env, src, script string) string {
	t.Helper()
	for _, tool := range []string{"node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			RequireOrSkip(t, env, tool+" not found: install Node.js 20+ and npm")
		}
	}
	pkg, err := os.ReadFile(filepath.Join(src, "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	lock, err := os.ReadFile(filepath.Join(src, "package-lock.json"))
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
			RequireOrSkip(t, env, "npm ci for "+src+" failed (offline?): "+err.Error()+"\n"+string(out))
		}
		if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
			if _, statErr := os.Stat(filepath.Join(dir, "node_modules")); statErr != nil {
				t.Fatal(err)
			}
		}
	}
	// The script goes in beside node_modules (where Node resolves its
	// imports) by rename, so a concurrent run never reads half a file.
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.CreateTemp(dir, filepath.Base(script)+"-*.tmp")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Rename(f.Name(), filepath.Join(dir, filepath.Base(script))); err != nil {
		t.Fatal(err)
	}
	return dir
}
