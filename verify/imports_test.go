package verify

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImports keeps the library light: it may import the standard library,
// jwtgate's token package and token's own dependencies, never the server
// (the root package, auth, internal/...), so a service that verifies tokens
// does not build a database driver.
func TestImports(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command in PATH")
	}
	deps := func(pkg string) []string {
		t.Helper()
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		return strings.Fields(string(out))
	}
	const module = "github.com/jwtgate/jwtgate"
	allowed := map[string]bool{module + "/verify": true}
	for _, p := range deps(module + "/token") {
		allowed[p] = true
	}
	for _, p := range deps(module + "/verify") {
		first, _, _ := strings.Cut(p, "/")
		stdlib := !strings.Contains(first, ".")
		switch {
		case p == module || strings.HasPrefix(p, module+"/") && !allowed[p]:
			t.Errorf("verify imports %s; it may import only %s/token from this module", p, module)
		case !stdlib && !allowed[p]:
			t.Errorf("verify imports %s, which token does not need", p)
		}
	}
}
