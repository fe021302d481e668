package web

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/testkit"
)

// envRequireNode makes TestPageLibrariesInNode fail, instead of skipping,
// when Node.js is missing (CI sets it).
const envRequireNode = "JGTEST_REQUIRE_NODE"

// TestPageLibrariesInNode runs the unit tests of the page library
// (jstest/*.test.mjs, on node:test and node:assert, no npm packages) for
// static/assets/lib/*.js. The tests live outside static/ because everything
// there is embedded and served. The library is ES modules in .js files,
// which Node reads as CommonJS without a package.json saying otherwise, so
// both go into a temporary directory, in the same layout, beside a
// package.json of {"type": "module"}.
func TestPageLibrariesInNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		testkit.RequireOrSkip(t, envRequireNode, "node not found: install Node.js 20+ to run the page library's tests in jstest/")
	}
	dir := t.TempDir()
	libs := copyFiles(t, filepath.Join("static", "assets", "lib"), "*.js", filepath.Join(dir, "static", "assets", "lib"))
	tests := copyFiles(t, "jstest", "*.test.mjs", filepath.Join(dir, "jstest"))
	if len(libs) == 0 || len(tests) == 0 {
		t.Fatalf("found %d library modules and %d test files, want some of each", len(libs), len(tests))
	}
	if err := os.WriteFile(filepath.Join(dir, "package.json"), []byte(`{"type": "module"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// The files by name: a bare `node --test` would search the whole
	// directory with patterns that differ between Node versions.
	args := []string{"--test", "--test-reporter=spec"}
	for _, name := range tests {
		args = append(args, filepath.Join("jstest", name))
	}
	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = dir
	// NODE_OPTIONS from the caller's shell could load code or change the
	// module loader under the tests.
	cmd.Env = append(os.Environ(), "NODE_OPTIONS=", "NO_COLOR=1")
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("node --test did not finish in 60 s:\n%s", out)
	}
	if err != nil {
		t.Fatalf("node --test %s: %v\n%s", strings.Join(tests, " "), err, out)
	}
	t.Logf("node --test %s:\n%s", strings.Join(tests, " "), out)
}

// copyFiles copies the files in src matching pattern into dst, which it
// creates, and returns their names.
func copyFiles(t *testing.T, src, pattern, dst string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(src, pattern))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(p)
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	return names
}
