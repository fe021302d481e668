package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the README's generated configuration table")

const (
	tableBegin = "<!-- config table: generated from cmd/jwtgate by `go test ./cmd/jwtgate -run README -update` -->"
	tableEnd   = "<!-- end of config table -->"
)

// configTable renders serve's flags and the env-only settings as the
// README's markdown table.
func configTable() string {
	var b strings.Builder
	b.WriteString("| flag | environment | default | meaning |\n|---|---|---|---|\n")
	fs, _ := serveFlags(&serveConfig{})
	fs.VisitAll(func(f *flag.Flag) {
		def := "`" + f.DefValue + "`"
		if f.DefValue == "" || f.DefValue == "0s" && f.Name == "key-rotation-interval" {
			def = "—"
		}
		if f.DefValue == "false" {
			def = "`false`"
		}
		usage := strings.ReplaceAll(f.Usage, "|", "\\|")
		fmt.Fprintf(&b, "| `--%s` | `%s` | %s | %s |\n", f.Name, envName(f.Name), def, usage)
	})
	names := slices.Sorted(func(yield func(string) bool) {
		for k := range envOnlyHelp {
			if !yield(k) {
				return
			}
		}
	})
	for _, k := range names {
		fmt.Fprintf(&b, "| — | `%s` | — | %s |\n", k, envOnlyHelp[k])
	}
	return b.String()
}

// TestREADMEConfigTable fails when the README's configuration table no
// longer matches the flags the code defines; -update rewrites it.
func TestREADMEConfigTable(t *testing.T) {
	const path = "../../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i, j := strings.Index(readme, tableBegin), strings.Index(readme, tableEnd)
	if i < 0 || j < i {
		t.Fatalf("README.md lacks the markers %q ... %q", tableBegin, tableEnd)
	}
	want := configTable()
	got := readme[i+len(tableBegin)+1 : j]
	if got == want {
		return
	}
	if *update {
		readme = readme[:i+len(tableBegin)+1] + want + readme[j:]
		if err := os.WriteFile(path, []byte(readme), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("README.md's configuration table is out of date; run: go test ./cmd/jwtgate -run README -update\nwant:\n%s", want)
}

// TestEnvOnlyDocumented: every env-only setting has README help.
func TestEnvOnlyDocumented(t *testing.T) {
	for _, k := range envOnly {
		if envOnlyHelp[k] == "" {
			t.Errorf("%s has no help for the README table", k)
		}
	}
}
