package verify

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// readmeRegion is a block of example_test.go marked for the README:
// "// README: NAME" ... "// README: end", inside an Example function.
var readmeRegion = regexp.MustCompile(`(?s)\n\t// README: (\S+)\n(.*?)\t// README: end\n`)

// goBlock is a fenced Go block of the README.
var goBlock = regexp.MustCompile("(?s)\n```go\n(.*?)```\n")

// TestREADMEGoBlocks: every Go block in the README is, byte for byte (one
// indentation level less), a marked region of an Example in
// example_test.go, so each is compiled and run with its output checked;
// and every marked region is in the README.
func TestREADMEGoBlocks(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	examples, err := os.ReadFile("example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	var regions []string
	for _, m := range readmeRegion.FindAllStringSubmatch(string(examples), -1) {
		var b strings.Builder
		for _, line := range strings.SplitAfter(m[2], "\n") {
			b.WriteString(strings.TrimPrefix(line, "\t"))
		}
		regions = append(regions, b.String())
	}
	if len(regions) == 0 {
		t.Fatal("example_test.go marks no README regions")
	}
	var blocks []string
	for _, m := range goBlock.FindAllStringSubmatch(string(readme), -1) {
		blocks = append(blocks, m[1])
		if !slices.Contains(regions, m[1]) {
			t.Errorf("README Go block is not an example region of verify/example_test.go (copy it from there):\n%s", m[1])
		}
	}
	for _, r := range regions {
		if !slices.Contains(blocks, r) {
			t.Errorf("example region missing from the README:\n%s", r)
		}
	}
}
