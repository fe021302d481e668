package main

import (
	"os"
	"strings"
	"testing"
)

// TestEveryCommandHasHelp runs `jwtgate NAME --help` for every command in
// the table: each prints its synopsis on stdout and exits 0 without
// opening a store, and `jwtgate help` lists each one.
func TestEveryCommandHasHelp(t *testing.T) {
	top := runCLI(t, "", nil, "help")
	for _, c := range commands() {
		t.Run(c.name, func(t *testing.T) {
			args := append(strings.Fields(c.name), "--help")
			r := runCLI(t, "", nil, args...)
			if r.err != nil || !strings.HasPrefix(r.stdout, "Usage") {
				t.Errorf("run(%q) = %q, %v; want usage on stdout", args, r.stdout, r.err)
			}
			if c.group() {
				return
			}
			if !strings.Contains(top.stdout, c.summary) {
				t.Errorf("run(help) does not list %s (%q):\n%s", c.name, c.summary, top.stdout)
			}
			if c.flags != nil && !strings.Contains(r.stdout, "jwtgate "+c.name) {
				t.Errorf("run(%q) = %q, want the synopsis jwtgate %s", args, r.stdout, c.name)
			}
		})
	}
}

// TestCommandTable checks the table itself: names are unique, every
// subcommand's group is in it, and each entry has exactly one of flags and
// run unless it is a group.
func TestCommandTable(t *testing.T) {
	seen := map[string]bool{}
	cmds := commands()
	for _, c := range cmds {
		if seen[c.name] {
			t.Errorf("command %q is in the table twice", c.name)
		}
		seen[c.name] = true
		if g, _, ok := strings.Cut(c.name, " "); ok {
			if p := lookup(cmds, g); p == nil || !p.group() {
				t.Errorf("command %q: no group %q in the table", c.name, g)
			}
		}
		if c.flags != nil && c.run != nil {
			t.Errorf("command %q has both flags and run", c.name)
		}
		if !c.group() && c.summary == "" {
			t.Errorf("command %q has no summary for jwtgate help", c.name)
		}
	}
}

// TestDispatchErrors checks the table's own refusals: exit status 2 and a
// message naming what is wrong.
func TestDispatchErrors(t *testing.T) {
	for _, tt := range []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "unknown token command", args: []string{"token", "frobnicate"}, wantErr: `unknown token command "frobnicate"`},
		{name: "subcommand as one word", args: []string{"user add"}, wantErr: `unknown command "user add"`},
		{name: "group name without its subcommand as a flag", args: []string{"user", "--json"}, wantErr: `unknown user command "--json"`},
		{name: "bench with an argument", args: []string{"bench", "x"}, wantErr: "bench takes no arguments"},
		{name: "audit with an argument", args: []string{"audit", "alice"}, wantErr: `audit takes no arguments (unexpected "alice")`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, "", nil, tt.args...)
			if r.err == nil || !strings.Contains(r.err.Error(), tt.wantErr) || exitCode(r.err) != 2 {
				t.Errorf("run(%q) = %v, want exit 2 and an error containing %q", tt.args, r.err, tt.wantErr)
			}
		})
	}
}

// TestREADMECommandList keeps the README's CLI section equal to what
// `jwtgate help` prints.
func TestREADMECommandList(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(b), "## CLI\n\n```\n")
	block, _, ok2 := strings.Cut(after, "```")
	if !ok || !ok2 {
		t.Fatal("README.md has no ## CLI section starting with a code block")
	}
	var buf strings.Builder
	if err := printTopHelp(&buf); err != nil {
		t.Fatal(err)
	}
	_, list, _ := strings.Cut(buf.String(), "Usage:\n")
	list, _, _ = strings.Cut(list, "\n\n")
	var want strings.Builder
	for line := range strings.Lines(list + "\n") {
		want.WriteString(strings.TrimPrefix(line, "  "))
	}
	if block != want.String() {
		t.Errorf("README.md's CLI block differs from jwtgate help; want:\n%s\ngot:\n%s", want.String(), block)
	}
}
