package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/oidc"
	"github.com/jwtgate/jwtgate/internal/server"
	"github.com/jwtgate/jwtgate/internal/sqlite"
)

// clientDigest reads the client table and the audit log's length straight
// from the SQLite file, so that "nothing changed" does not trust the store.
func clientDigest(t *testing.T, path string) string {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var clients string
	var audits int
	if err := db.QueryRow(`SELECT coalesce(group_concat(id || ':' || name || ':' || coalesce(hex(secret_hash), '-') || ':' || updated_at, '|'), '')
		FROM (SELECT * FROM oidc_clients ORDER BY id)`).Scan(&clients); err != nil {
		t.Fatal(err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM audit_events`).Scan(&audits); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%s#%d audit events", clients, audits)
}

type clientSecretJSON struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
}

// TestClientCommands runs `jwtgate client ...` in-process on a real SQLite
// file: what it prints, that the secret it prints once is the one the
// registry accepts, that every refusal is one line naming the problem with
// a non-zero exit and leaves the store as it was, and that the changes are
// audited.
func TestClientCommands(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "clients.db")
	db := "sqlite:" + path
	cli := func(args ...string) runResult {
		t.Helper()
		return runCLI(t, "", nil, append(args, "--db", db)...)
	}

	r := cli("client", "add", "grafana", "--redirect-uri", "https://grafana.example.com/login/generic_oauth",
		"--redirect-uri", "https://grafana.example.com/alt", "--post-logout-redirect-uri", "https://grafana.example.com/",
		"--scope", "openid profile", "--scope", "email", "--json")
	var grafana clientSecretJSON
	if err := json.Unmarshal([]byte(r.stdout), &grafana); r.err != nil || err != nil || grafana.ClientID == "" || len(grafana.ClientSecret) < 40 {
		t.Fatalf("client add grafana --json = %q, %v (%v); want {client_id, client_secret}", r.stdout, r.err, err)
	}
	if strings.Count(r.stdout, "\n") != 4 || r.stderr != "" {
		t.Errorf("client add --json printed %q and %q on stderr; want the JSON object alone", r.stdout, r.stderr)
	}
	r = cli("client", "add", "spa", "--public", "--trusted", "--redirect-uri", "http://127.0.0.1/callback", "--id-token-alg", "EdDSA")
	if r.err != nil || !strings.Contains(r.stdout, "client_id:") || strings.Contains(r.stdout, "client_secret") || !strings.Contains(r.stdout, "PKCE") {
		t.Fatalf("client add spa --public = %q, %v; want a client_id and no secret", r.stdout, r.err)
	}
	spaID := strings.TrimSpace(strings.SplitN(strings.SplitN(r.stdout, "client_id:", 2)[1], "\n", 2)[0])

	store, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	registry := oidc.NewClients(store, nil, nil)
	if c, err := registry.Authenticate(ctx, grafana.ClientID, grafana.ClientSecret); err != nil || c.Name != "grafana" ||
		strings.Join(c.Scopes, " ") != "openid profile email" || len(c.RedirectURIs) != 2 || len(c.PostLogoutRedirectURIs) != 1 {
		t.Errorf("Authenticate(grafana, printed secret) = %+v, %v; want grafana with its URIs and scopes", c, err)
	}
	if c, err := registry.Find(ctx, spaID); err != nil || !c.Public || !c.Trusted || c.IDTokenAlg != "EdDSA" || c.SecretHash != nil {
		t.Errorf("spa as stored = %+v, %v; want public, trusted, EdDSA, no secret", c, err)
	}

	refused := []struct {
		name string
		args []string
		code int
		says string
	}{
		{"plain http", []string{"client", "add", "x", "--redirect-uri", "http://app.example.com/cb"}, 2, `redirect URI "http://app.example.com/cb": plain http`},
		{"wildcard", []string{"client", "add", "x", "--redirect-uri", "https://*.example.com/cb"}, 2, "wildcard"},
		{"fragment", []string{"client", "add", "x", "--redirect-uri", "https://app.example.com/cb#x"}, 2, "fragment"},
		{"relative", []string{"client", "add", "x", "--redirect-uri", "/cb"}, 2, "not an absolute URI"},
		{"custom scheme confidential", []string{"client", "add", "x", "--redirect-uri", "com.example.app:/cb"}, 2, "reverse-domain"},
		{"bad post-logout", []string{"client", "add", "x", "--redirect-uri", "https://a.example.com/cb", "--post-logout-redirect-uri", "javascript:alert(1)"}, 2, "javascript:alert(1)"},
		{"no redirect", []string{"client", "add", "x"}, 2, "at least one redirect URI"},
		{"unknown scope", []string{"client", "add", "x", "--redirect-uri", "https://a.example.com/cb", "--scope", "admin"}, 2, `scope "admin"`},
		{"unknown alg", []string{"client", "add", "x", "--redirect-uri", "https://a.example.com/cb", "--id-token-alg", "none"}, 2, `algorithm "none"`},
		{"taken name", []string{"client", "add", "Grafana", "--redirect-uri", "https://a.example.com/cb"}, 1, "a client named Grafana already exists"},
		{"control character", []string{"client", "add", "a\x1bb", "--redirect-uri", "https://a.example.com/cb"}, 2, "control characters"},
		{"no name", []string{"client", "add", "--redirect-uri", "https://a.example.com/cb"}, 2, "exactly one NAME"},
		{"secret flag", []string{"client", "add", "x", "--redirect-uri", "https://a.example.com/cb", "--client-secret", "s3cret"}, 2, "flag provided but not defined"},
		{"show unknown", []string{"client", "show", "nobody"}, 1, "no client nobody"},
		{"delete unknown", []string{"client", "delete", "nobody"}, 1, "no client nobody"},
		{"rotate unknown", []string{"client", "rotate-secret", "nobody"}, 1, "no client nobody"},
		{"rotate public", []string{"client", "rotate-secret", "spa"}, 2, "public and has no secret"},
		{"unknown subcommand", []string{"client", "remove", "spa"}, 2, `unknown client command "remove"`},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			before := clientDigest(t, path)
			r := cli(tt.args...)
			if got := codeOf(r.err); got != tt.code || !strings.Contains(r.err.Error(), tt.says) {
				t.Errorf("run(%q) = exit %d, %v; want exit %d naming %q", tt.args, got, r.err, tt.code, tt.says)
			}
			if r.err != nil && strings.Contains(r.err.Error(), "\n") {
				t.Errorf("run(%q) error %q is more than one line", tt.args, r.err)
			}
			if r.stdout != "" {
				t.Errorf("run(%q) printed %q, want nothing on stdout", tt.args, r.stdout)
			}
			if after := clientDigest(t, path); after != before {
				t.Errorf("refused run(%q) changed the store: %s -> %s", tt.args, before, after)
			}
		})
	}

	// list and show, by name and by id; never a secret.
	r = cli("client", "list", "--json")
	var list []server.ClientJSON
	if err := json.Unmarshal([]byte(r.stdout), &list); r.err != nil || err != nil || len(list) != 2 || list[0].Name != "grafana" || list[1].Name != "spa" {
		t.Fatalf("client list --json = %q, %v; want grafana and spa", r.stdout, r.err)
	}
	for _, args := range [][]string{{"client", "list"}, {"client", "list", "--json"}, {"client", "show", "grafana"}, {"client", "show", grafana.ClientID, "--json"}} {
		r := cli(args...)
		if r.err != nil || !strings.Contains(r.stdout, grafana.ClientID) || strings.Contains(r.stdout, grafana.ClientSecret) || strings.Contains(r.stdout, "secret") {
			t.Errorf("run(%q) = %q, %v; want grafana's id and no secret", args, r.stdout, r.err)
		}
	}

	// rotate-secret: a new secret once; the old one stops working.
	r = cli("client", "rotate-secret", "GRAFANA", "--json")
	var rotated clientSecretJSON
	if err := json.Unmarshal([]byte(r.stdout), &rotated); r.err != nil || err != nil || rotated.ClientID != grafana.ClientID || rotated.ClientSecret == grafana.ClientSecret {
		t.Fatalf("client rotate-secret --json = %q, %v", r.stdout, r.err)
	}
	if _, err := registry.Authenticate(ctx, grafana.ClientID, grafana.ClientSecret); err == nil {
		t.Error("the old secret still works after rotate-secret")
	}
	if _, err := registry.Authenticate(ctx, grafana.ClientID, rotated.ClientSecret); err != nil {
		t.Errorf("the rotated secret does not work: %v", err)
	}
	r = cli("client", "rotate-secret", grafana.ClientID)
	if r.err != nil || !strings.Contains(r.stdout, "client_secret: ") || !strings.Contains(r.stderr, "only this once") {
		t.Errorf("client rotate-secret = %q %q, %v", r.stdout, r.stderr, r.err)
	}

	// delete, by id.
	if r := cli("client", "delete", spaID); r.err != nil || !strings.Contains(r.stdout, "deleted") {
		t.Errorf("client delete spa = %q, %v", r.stdout, r.err)
	}
	if _, err := registry.Find(ctx, spaID); err == nil {
		t.Error("spa is still there after client delete")
	}

	// Audited, without secrets.
	events, err := store.Audit(ctx, jwtgate.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
		if strings.Contains(e.Detail, grafana.ClientSecret) || strings.Contains(e.Detail, rotated.ClientSecret) {
			t.Errorf("audit event %s holds a secret", e.Type)
		}
	}
	want := "client.deleted client.secret_rotated client.secret_rotated client.created client.created"
	if got := strings.Join(types, " "); got != want {
		t.Errorf("audit events = %s, want %s", got, want)
	}
}

// TestClientFlagsTakeNoSecret: no client command has a flag that could put
// a secret on the command line, where ps and shell history would show it.
func TestClientFlagsTakeNoSecret(t *testing.T) {
	for _, c := range commands() {
		if !strings.HasPrefix(c.name, "client ") {
			continue
		}
		fs := flag.NewFlagSet(c.name, flag.ContinueOnError)
		c.flags(fs)
		fs.VisitAll(func(f *flag.Flag) {
			if strings.Contains(f.Name, "secret") || strings.Contains(f.Name, "password") {
				t.Errorf("%s has a flag --%s", c.name, f.Name)
			}
		})
	}
}

// TestClientGolden keeps what operators read from the client commands in
// testdata/golden (refresh with -update, as TestGolden).
func TestClientGolden(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clients.db")
	db := "sqlite:" + path
	var ids []string
	for _, args := range [][]string{
		{"client", "add", "grafana", "--redirect-uri", "https://grafana.example.com/login/generic_oauth", "--post-logout-redirect-uri", "https://grafana.example.com/", "--json"},
		{"client", "add", "cli", "--public", "--trusted", "--redirect-uri", "http://127.0.0.1/callback", "--redirect-uri", "com.example.cli:/cb", "--scope", "openid", "--json"},
	} {
		r := runCLI(t, "", nil, append(args, "--db", db)...)
		var out clientSecretJSON
		if err := json.Unmarshal([]byte(r.stdout), &out); r.err != nil || err != nil {
			t.Fatalf("run(%q) = %q, %v", args, r.stdout, r.err)
		}
		ids = append(ids, out.ClientID)
	}
	var n normalizer
	n.add("CLIENT_ID", ids...)
	tests := []goldenCase{
		{name: "client-help", args: []string{"client", "--help"}},
		{name: "client-add-help", args: []string{"client", "add", "--help"}},
		{name: "client-list", args: []string{"client", "list", "--db", db}},
		{name: "client-list-json", args: []string{"client", "list", "--json", "--db", db}, isJSON: true},
		{name: "client-show", args: []string{"client", "show", "grafana", "--db", db}},
		{name: "client-add-bad-uri", args: []string{"client", "add", "app", "--redirect-uri", "http://app.example.com/cb", "--db", db}, wantCode: 2},
		{name: "client-add-taken", args: []string{"client", "add", "CLI", "--redirect-uri", "https://app.example.com/cb", "--db", db}, wantCode: 1},
		{name: "client-show-unknown", args: []string{"client", "show", "nobody", "--db", db}, wantCode: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.stdin, nil, tc.args...)
			if got := codeOf(r.err); got != tc.wantCode {
				t.Errorf("run(%q): exit %d (%v), want %d", tc.args, got, r.err, tc.wantCode)
			}
			if tc.isJSON && !json.Valid([]byte(r.stdout)) {
				t.Errorf("run(%q) printed invalid JSON:\n%s", tc.args, r.stdout)
			}
			got := r.stdout
			if r.stderr != "" {
				got += "-- stderr --\n" + r.stderr
			}
			if r.err != nil {
				got += "-- error --\njwtgate: " + r.err.Error() + "\n"
			}
			checkGolden(t, tc.name, n.apply(strings.ReplaceAll(got, db, "DB")))
		})
	}
}
