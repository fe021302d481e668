package server

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/oidc"
)

// clientRows digests the client table straight from the file.
func (f *fixture) clientRows(t testing.TB) string {
	t.Helper()
	return f.rowDigest(t, `SELECT coalesce(group_concat(id || ':' || name || ':' || coalesce(hex(secret_hash), '-') || ':' || redirect_uris || ':' || updated_at, '|'), '')
		FROM (SELECT * FROM oidc_clients ORDER BY id)`)
}

// TestAdminClients drives the admin API's client registry: each change
// answers as documented and is audited with the acting admin; each refusal
// is a 4xx naming the problem and leaves the stored clients as they were.
// A secret is answered only at creation and rotation, and it is the one the
// registry then accepts.
func TestAdminClients(t *testing.T) {
	f := newFixture(t, Options{})
	ctx := context.Background()
	admin := f.login(t, "admin", "admin-pass")
	alice := f.login(t, "alice", "alice-pass")
	registry := oidc.NewClients(f.store, nil, nil)
	audits := func() []jwtgate.AuditEvent {
		ev, err := f.svc.Audit(ctx, jwtgate.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}

	// A confidential client: 201, its secret once.
	r := f.do(bearer("POST", "/admin/clients", admin,
		`{"name":"grafana","redirect_uris":["https://grafana.example.com/login/generic_oauth"],"post_logout_redirect_uris":["https://grafana.example.com/"],"scopes":["openid","email"]}`))
	if r.code != 201 {
		t.Fatalf("POST /admin/clients grafana = %d %s, want 201", r.code, r.body)
	}
	var grafana createdClientJSON
	if err := json.Unmarshal(r.body, &grafana); err != nil {
		t.Fatal(err)
	}
	if grafana.ClientID == "" || len(grafana.ClientSecret) < 40 || grafana.Public || grafana.IDTokenAlg != "RS256" ||
		strings.Join(grafana.Scopes, " ") != "openid email" {
		t.Errorf("POST /admin/clients grafana = %s, want an id, a secret, RS256 and scopes openid email", r.body)
	}
	if _, err := registry.Authenticate(ctx, grafana.ClientID, grafana.ClientSecret); err != nil {
		t.Errorf("Authenticate(grafana, answered secret) = %v, want nil", err)
	}
	ev := audits()
	if ev[0].Type != jwtgate.EventClientCreated || ev[0].ActorID == 0 || ev[0].IP == "" || !strings.Contains(ev[0].Detail, grafana.ClientID) {
		t.Errorf("audit after create = %+v, want client.created by the admin from the request's address", ev[0])
	}

	// A public client: no secret in the answer.
	r = f.do(bearer("POST", "/admin/clients", admin, `{"name":"cli","public":true,"redirect_uris":["http://127.0.0.1/callback"],"trusted":true}`))
	if r.code != 201 || strings.Contains(string(r.body), "client_secret") || r.json(t)["public"] != true || r.json(t)["trusted"] != true {
		t.Fatalf("POST /admin/clients public = %d %s, want 201 without a secret", r.code, r.body)
	}
	cliID := r.json(t)["client_id"].(string)

	refused := []struct {
		name, method, path, tok, body string
		want                          int
		code, says                    string
	}{
		{"taken name other case", "POST", "/admin/clients", admin, `{"name":"Grafana","redirect_uris":["https://x.example.com/cb"]}`, 409, "conflict", "Grafana"},
		{"plain http", "POST", "/admin/clients", admin, `{"name":"x","redirect_uris":["http://x.example.com/cb"]}`, 400, "invalid_request", "http://x.example.com/cb"},
		{"wildcard", "POST", "/admin/clients", admin, `{"name":"x","redirect_uris":["https://*.example.com/cb"]}`, 400, "invalid_request", "wildcard"},
		{"fragment", "POST", "/admin/clients", admin, `{"name":"x","redirect_uris":["https://x.example.com/cb#a"]}`, 400, "invalid_request", "fragment"},
		{"relative", "POST", "/admin/clients", admin, `{"name":"x","redirect_uris":["/cb"]}`, 400, "invalid_request", "absolute"},
		{"bad post-logout", "POST", "/admin/clients", admin, `{"name":"x","redirect_uris":["https://x.example.com/cb"],"post_logout_redirect_uris":["javascript:alert(1)"]}`, 400, "invalid_request", "javascript"},
		{"no redirect", "POST", "/admin/clients", admin, `{"name":"x"}`, 400, "invalid_request", "redirect URI"},
		{"unknown scope", "POST", "/admin/clients", admin, `{"name":"x","redirect_uris":["https://x.example.com/cb"],"scopes":["admin"]}`, 400, "invalid_request", `"admin"`},
		{"unknown alg", "POST", "/admin/clients", admin, `{"name":"x","redirect_uris":["https://x.example.com/cb"],"id_token_alg":"none"}`, 400, "invalid_request", `"none"`},
		{"no name", "POST", "/admin/clients", admin, `{"redirect_uris":["https://x.example.com/cb"]}`, 400, "invalid_request", "name"},
		{"control character", "POST", "/admin/clients", admin, `{"name":"a\u0007b","redirect_uris":["https://x.example.com/cb"]}`, 400, "invalid_request", "control"},
		{"wrong type", "POST", "/admin/clients", admin, `{"name":"x","redirect_uris":"https://x.example.com/cb"}`, 400, "invalid_request", "redirect_uris"},
		{"duplicate member", "POST", "/admin/clients", admin, `{"name":"x","name":"y","redirect_uris":["https://x.example.com/cb"]}`, 400, "invalid_request", "name"},
		{"not admin", "POST", "/admin/clients", alice, `{"name":"x","redirect_uris":["https://x.example.com/cb"]}`, 403, "forbidden", ""},
		{"no token", "GET", "/admin/clients", "", ``, 401, "", ""},
		{"get by name", "GET", "/admin/clients/grafana", admin, ``, 404, "not_found", ""},
		{"get unknown", "GET", "/admin/clients/nope", admin, ``, 404, "not_found", ""},
		{"rotate public", "POST", "/admin/clients/" + cliID + "/secret", admin, ``, 400, "invalid_request", "public"},
		{"rotate unknown", "POST", "/admin/clients/nope/secret", admin, ``, 404, "not_found", ""},
		{"delete unknown", "DELETE", "/admin/clients/nope", admin, ``, 404, "not_found", ""},
		{"delete not admin", "DELETE", "/admin/clients/" + cliID, alice, ``, 403, "forbidden", ""},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			before, beforeAudit := f.clientRows(t), len(audits())
			r := f.do(bearer(tt.method, tt.path, tt.tok, tt.body))
			if r.code != tt.want {
				t.Fatalf("%s %s %s = %d %s, want %d", tt.method, tt.path, tt.body, r.code, r.body, tt.want)
			}
			if tt.code != "" {
				if m := r.json(t); m["error"] != tt.code || !strings.Contains(m["message"].(string), tt.says) {
					t.Errorf("%s %s = %s, want error %q naming %q", tt.method, tt.path, r.body, tt.code, tt.says)
				}
			}
			if after := f.clientRows(t); after != before {
				t.Errorf("refused %s %s changed the clients:\n%s\nto\n%s", tt.method, tt.path, before, after)
			}
			if n := len(audits()); n != beforeAudit {
				t.Errorf("refused %s %s added %d audit events", tt.method, tt.path, n-beforeAudit)
			}
		})
	}

	// The list: both, by name, never a secret or its hash.
	r = f.do(bearer("GET", "/admin/clients", admin, ""))
	var list struct {
		Clients []ClientJSON `json:"clients"`
	}
	if err := json.Unmarshal(r.body, &list); r.code != 200 || err != nil || len(list.Clients) != 2 ||
		list.Clients[0].Name != "cli" || list.Clients[1].Name != "grafana" {
		t.Fatalf("GET /admin/clients = %d %s, want cli and grafana", r.code, r.body)
	}
	if strings.Contains(string(r.body), "secret") || strings.Contains(string(r.body), grafana.ClientSecret) {
		t.Errorf("GET /admin/clients shows a secret: %s", r.body)
	}
	if got := list.Clients[0]; got.ClientID != cliID || !got.Public || !got.Trusted || got.RedirectURIs[0] != "http://127.0.0.1/callback" ||
		len(got.PostLogoutRedirectURIs) != 0 || len(got.Scopes) != len(oidc.SupportedScopes) {
		t.Errorf("GET /admin/clients cli = %+v", got)
	}
	r = f.do(bearer("GET", "/admin/clients/"+grafana.ClientID, admin, ""))
	if r.code != 200 || r.json(t)["name"] != "grafana" || strings.Contains(string(r.body), "secret") {
		t.Errorf("GET /admin/clients/{grafana} = %d %s", r.code, r.body)
	}

	// Rotation: a new secret once; the old one stops working.
	r = f.do(bearer("POST", "/admin/clients/"+grafana.ClientID+"/secret", admin, ""))
	newSecret, _ := r.json(t)["client_secret"].(string)
	if r.code != 200 || r.json(t)["client_id"] != grafana.ClientID || len(newSecret) < 40 || newSecret == grafana.ClientSecret {
		t.Fatalf("POST /admin/clients/{id}/secret = %d %s, want 200 with a new secret", r.code, r.body)
	}
	if _, err := registry.Authenticate(ctx, grafana.ClientID, grafana.ClientSecret); err == nil {
		t.Error("the old secret still authenticates after rotation")
	}
	if _, err := registry.Authenticate(ctx, grafana.ClientID, newSecret); err != nil {
		t.Errorf("the rotated secret does not authenticate: %v", err)
	}
	if ev := audits(); ev[0].Type != jwtgate.EventClientSecretRotated || ev[0].ActorID == 0 || strings.Contains(ev[0].Detail, newSecret) {
		t.Errorf("audit after rotation = %+v", ev[0])
	}

	// Deletion.
	if r := f.do(bearer("DELETE", "/admin/clients/"+grafana.ClientID, admin, "")); r.code != 204 {
		t.Fatalf("DELETE /admin/clients/{id} = %d %s, want 204", r.code, r.body)
	}
	if ev := audits(); ev[0].Type != jwtgate.EventClientDeleted || ev[0].ActorID == 0 {
		t.Errorf("audit after delete = %+v", ev[0])
	}
	if r := f.do(bearer("GET", "/admin/clients/"+grafana.ClientID, admin, "")); r.code != 404 {
		t.Errorf("GET a deleted client = %d, want 404", r.code)
	}
	if _, err := registry.Authenticate(ctx, grafana.ClientID, newSecret); err == nil {
		t.Error("a deleted client still authenticates")
	}
	for _, e := range audits() {
		for _, s := range []string{grafana.ClientSecret, newSecret} {
			if strings.Contains(e.Detail+e.Name, s) {
				t.Errorf("audit event %s holds a secret", e.Type)
			}
		}
	}
}

// TestAdminClientsWithoutRegistry: a server built without a client
// registry answers the client routes 404, not 500.
func TestAdminClientsWithoutRegistry(t *testing.T) {
	f := newFixture(t, Options{})
	admin := f.login(t, "admin", "admin-pass")
	d := fullDeps(f)
	d.Clients = nil
	h := NewServer(d, Options{Issuer: "http://test"})
	for _, p := range []string{"/admin/clients", "/admin/clients/x"} {
		if r := serve(h, bearer("GET", p, admin, "")); r.code != 404 {
			t.Errorf("GET %s without a registry = %d %s, want 404", p, r.code, r.body)
		}
	}
}
