package password

import (
	_ "embed"
	"strings"
	"sync"
)

//go:embed common-passwords.txt
var commonList string

var common = sync.OnceValue(func() map[string]bool {
	m := map[string]bool{}
	for line := range strings.Lines(commonList) {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") {
			m[line] = true
		}
	}
	return m
})

// Common reports whether pw is one of the most common passwords (see
// common-passwords.txt), compared case-insensitively: NIST SP 800-63B
// 5.1.1.2 asks that new passwords be checked against values known to be
// commonly used or compromised.
func Common(pw string) bool { return common()[strings.ToLower(pw)] }
