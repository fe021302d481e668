package jwtgate_test

import (
	"go/version"
	"os/exec"
	"strings"
	"testing"
)

// oldestGo is the Go release a service importing verify may be on: the
// previous release, whose every patch version must work.
const oldestGo = "go1.25.0"

// nestedModules are this repository's own modules besides the root: token
// and verify, kept at go 1.25 so services on the previous Go release can
// import verify (the root needs go 1.26 for its dependencies).
var nestedModules = []string{"token", "verify"}

// TestNestedModules: `go test ./...` here does not enter nested modules, so
// this test runs their vet and tests, checks their go.mod is tidy, and that
// no module in their build graph asks for a Go newer than oldestGo (the go
// command would refuse to build for a service on it, or force a newer
// toolchain on it).
func TestNestedModules(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the nested modules' tests; skipped with -short")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command in PATH")
	}
	for _, dir := range nestedModules {
		t.Run(dir, func(t *testing.T) {
			t.Parallel()
			run := func(args ...string) string {
				t.Helper()
				cmd := exec.Command("go", args...)
				cmd.Dir = dir
				out, err := cmd.CombinedOutput()
				if err != nil {
					t.Fatalf("(cd %s && go %s): %v\n%s", dir, strings.Join(args, " "), err, out)
				}
				return string(out)
			}
			for _, line := range strings.Split(strings.TrimSpace(run("list", "-m", "-f", "{{.Path}} {{.GoVersion}}", "all")), "\n") {
				path, gv, _ := strings.Cut(line, " ")
				if gv != "" && version.Compare("go"+gv, oldestGo) > 0 {
					t.Errorf("%s's build graph has %s at go %s; services on %s could not build it", dir, path, gv, oldestGo)
				}
			}
			run("mod", "tidy", "-diff")
			run("vet", "./...")
			run("test", "./...")
		})
	}
}
