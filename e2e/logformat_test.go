package e2e

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestLogOneFormat: with --log-format json every line the server writes
// to stderr is a JSON object, but for the first admin's password notice
// (plain text, for a person at the terminal). Libraries that log through
// slog's default logger (zitadel/oidc announces its routes) go through
// jwtgate's handler at WARN and above, so their INFO lines stay out.
func TestLogOneFormat(t *testing.T) {
	s := StartServer(t, "", []string{"--log-format", "json"})
	// A protocol error the library answers, to see that its request log
	// (if any) is JSON too.
	send(t, "GET", s.URL+"/oauth2/authorize?client_id=nope&response_type=code", nil)
	s.Stop(t)
	for _, line := range strings.Split(strings.TrimSpace(s.Stderr()), "\n") {
		if strings.HasPrefix(line, "jwtgate: ") {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Errorf("stderr line not JSON: %q", line)
		}
		if strings.Contains(line, "registered route") {
			t.Errorf("library INFO line logged: %q", line)
		}
	}
}
