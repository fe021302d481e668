package server

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate"
)

func TestAdminUsers(t *testing.T) {
	f := newFixture(t, Options{})
	admin := f.loginFull(t, "admin", "admin-pass")["token"].(string)
	alice := f.loginFull(t, "alice", "alice-pass")["token"].(string)
	audits := func() int {
		ev, err := f.svc.Audit(context.Background(), jwtgate.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		return len(ev)
	}
	tests := []struct {
		name, method, path, body string
		want                     int
		audited                  bool // the action must add an audit event
	}{
		{"create", "POST", "/admin/users", `{"name":"carol","password":"carol-pass","roles":["dev"]}`, 201, true},
		{"create duplicate", "POST", "/admin/users", `{"name":"Carol","password":"carol-pass"}`, 409, false},
		{"create short password", "POST", "/admin/users", `{"name":"dave","password":"x"}`, 400, false},
		{"create bad role", "POST", "/admin/users", `{"name":"dave","password":"long-enough","roles":["Root!"]}`, 400, false},
		{"create bad name", "POST", "/admin/users", "{\"name\":\"a\\u0000b\",\"password\":\"long-enough\"}", 400, false},
		{"create wrong type", "POST", "/admin/users", `{"name":["x"],"password":"long-enough"}`, 400, false},
		{"disable", "POST", "/admin/users/alice/disable", ``, 204, true},
		{"disable unknown", "POST", "/admin/users/nobody/disable", ``, 404, false},
		{"disable self", "POST", "/admin/users/ADMIN/disable", ``, 409, false},
		{"delete self", "DELETE", "/admin/users/admin", ``, 409, false},
		{"enable", "POST", "/admin/users/alice/enable", ``, 204, true},
		{"reset password", "POST", "/admin/users/alice/password", `{"password":"reset-pass-1"}`, 204, true},
		{"reset password short", "POST", "/admin/users/alice/password", `{"password":"x"}`, 400, false},
		{"reset own password", "POST", "/admin/users/admin/password", `{"password":"no-current-needed"}`, 409, false},
		{"reset own password other case", "POST", "/admin/users/Admin/password", `{"password":"no-current-needed"}`, 409, false},
		{"delete", "DELETE", "/admin/users/carol", ``, 204, true},
		{"delete again", "DELETE", "/admin/users/carol", ``, 404, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := audits()
			r := f.do(bearer(tt.method, tt.path, admin, tt.body))
			if r.code != tt.want {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.code, r.body, tt.want)
			}
			after := audits()
			if tt.audited && after <= before {
				t.Errorf("%s %s left no audit event", tt.method, tt.path)
			}
			if !tt.audited && after != before {
				t.Errorf("refused %s %s added %d audit events", tt.method, tt.path, after-before)
			}
		})
	}
	// The disable ended alice's session; the reset password works.
	if r := f.do(bearer("GET", "/user", alice, "")); r.code != 401 {
		t.Errorf("alice's token after disable = %d, want 401", r.code)
	}
	f.loginFull(t, "alice", "reset-pass-1")
	// The refused self-reset left the admin's password as it was, and
	// pointed to the route that asks for the current one.
	f.loginFull(t, "admin", "admin-pass")
	if r := f.do(bearer("POST", "/admin/users/admin/password", admin, `{"password":"no-current-needed"}`)); r.json(t)["error"] != "self" || !strings.Contains(string(r.body), "/user/password") {
		t.Errorf("POST /admin/users/admin/password = %d %s, want error self pointing to /user/password", r.code, r.body)
	}
	events, _ := f.svc.Audit(context.Background(), jwtgate.AuditFilter{Type: jwtgate.EventUserDisabled})
	if len(events) != 1 || events[0].ActorID == 0 || events[0].Name != "alice" {
		t.Errorf("disable audit = %+v, want alice with the admin as actor", events)
	}
	r := f.do(bearer("GET", "/admin/users?q=LI&limit=10", admin, ""))
	if r.code != 200 || !strings.Contains(string(r.body), `"name":"alice"`) || strings.Contains(string(r.body), `"name":"admin"`) || r.json(t)["total"] != float64(1) {
		t.Errorf("GET /admin/users?q=LI = %d %s", r.code, r.body)
	}
	r = f.do(bearer("GET", "/admin/audit?limit=5", admin, ""))
	if r.code != 200 || !strings.Contains(string(r.body), `"type":"user.deleted"`) || strings.Contains(string(r.body), "reset-pass-1") {
		t.Errorf("GET /admin/audit = %d %s", r.code, r.body)
	}
	for _, bad := range []string{"limit=0", "limit=x", "offset=-1"} {
		if r := f.do(bearer("GET", "/admin/users?"+bad, admin, "")); r.code != 400 {
			t.Errorf("GET /admin/users?%s = %d, want 400", bad, r.code)
		}
	}
}

func TestAdminRolesAndSessions(t *testing.T) {
	f := newFixture(t, Options{})
	admin := f.loginFull(t, "admin", "admin-pass")["token"].(string)
	first := f.loginFull(t, "alice", "alice-pass")["token"].(string)
	for _, tt := range []struct {
		path, body string
		want       int
	}{
		{"/admin/users/alice/roles", `{"roles":["ops","dev"]}`, 204},
		{"/admin/users/alice/roles", `{"roles":[]}`, 204},
		{"/admin/users/alice/roles", `{"roles":["Bad Role"]}`, 400},
		{"/admin/users/alice/roles", `{"roles":"ops"}`, 400},
		{"/admin/users/alice/roles", `{}`, 400},
		{"/admin/users/nobody/roles", `{"roles":[]}`, 404},
		{"/admin/users/admin/roles", `{"roles":["ops"]}`, 409},
	} {
		if r := f.do(bearer("PUT", tt.path, admin, tt.body)); r.code != tt.want {
			t.Errorf("PUT %s %s = %d %s, want %d", tt.path, tt.body, r.code, r.body, tt.want)
		}
	}
	// Losing roles (the second row) ended alice's session; gaining them
	// (the first) did not.
	if r := f.do(bearer("GET", "/user", first, "")); r.code != 401 {
		t.Errorf("alice's token from before losing her roles = %d, want 401", r.code)
	}
	f.do(bearer("PUT", "/admin/users/alice/roles", admin, `{"roles":["ops"]}`))
	tok := f.loginFull(t, "alice", "alice-pass")["token"].(string)
	claims, _ := f.svc.Verify(tok)
	if len(claims.Roles) != 1 || claims.Roles[0] != "ops" {
		t.Errorf("roles in a new token = %v, want [ops]", claims.Roles)
	}
	r := f.do(bearer("GET", "/admin/users/alice/sessions", admin, ""))
	if r.code != 200 || strings.Count(string(r.body), `"id"`) != 1 {
		t.Errorf("GET /admin/users/alice/sessions = %d %s, want 1 session", r.code, r.body)
	}
	if r := f.do(bearer("GET", "/admin/users/nobody/sessions", admin, "")); r.code != 404 {
		t.Errorf("sessions of an unknown user = %d, want 404", r.code)
	}
}

// TestAuditRecordsRequestOrigin: the HTTP layer hands the rules the
// client's address and user agent (filled in only when asked for) and the
// acting admin, and they land in the audit events.
func TestAuditRecordsRequestOrigin(t *testing.T) {
	f := newFixture(t, Options{})
	body := strings.NewReader(`{"name":"admin","password":"admin-pass"}`)
	req := httptest.NewRequest("POST", "/login", body)
	req.RemoteAddr = "192.0.2.7:4711"
	req.Header.Set("User-Agent", "audit-test/1")
	r := f.do(req)
	if r.code != 200 {
		t.Fatalf("login = %d %s", r.code, r.body)
	}
	tok := r.json(t)["token"].(string)

	req = httptest.NewRequest("POST", "/admin/users/alice/disable", nil)
	req.RemoteAddr = "198.51.100.9:1"
	req.Header.Set("Authorization", "Bearer "+tok)
	if r := f.do(req); r.code/100 != 2 {
		t.Fatalf("disable = %d %s", r.code, r.body)
	}

	ctx := context.Background()
	logins, _ := f.svc.Audit(ctx, jwtgate.AuditFilter{Type: jwtgate.EventLoginSucceeded})
	if len(logins) != 1 || logins[0].IP != "192.0.2.7" || logins[0].UserAgent != "audit-test/1" {
		t.Errorf("login events = %+v, want one from 192.0.2.7 by audit-test/1", logins)
	}
	dis, _ := f.svc.Audit(ctx, jwtgate.AuditFilter{Type: jwtgate.EventUserDisabled})
	admin, _ := f.store.UserByName(ctx, "admin")
	if len(dis) != 1 || dis[0].IP != "198.51.100.9" || dis[0].ActorID != admin.ID {
		t.Errorf("disable events = %+v, want one from 198.51.100.9 by actor %d", dis, admin.ID)
	}
}

// TestLookAlikeUsers is issue 17 §4 through the API: next to "admin", none
// of the names that looked like it can be created, and logging in by a
// look-alike of a name maps it the way uniqueness does.
func TestLookAlikeUsers(t *testing.T) {
	f := newFixture(t, Options{})
	admin := f.loginFull(t, "admin", "admin-pass")["token"].(string)
	for _, tt := range []struct {
		name, user string
		want       int
		code       string
	}{
		{"Cyrillic а", "аdmin", 400, "invalid_request"},
		{"full-width", "ａｄｍｉｎ", 409, "conflict"},
		{"dotless ı", "admın", 409, "conflict"},
		{"small capital ᴀ", "ᴀdmin", 400, "invalid_request"},
		{"modifier ᴬ", "ᴬdmin", 400, "invalid_request"},
		{"BOM", "admin\uFEFF", 400, "invalid_request"},
		{"zero-width space", "a\u200bdmin", 400, "invalid_request"},
		{"soft hyphen", "admin\u00ad", 400, "invalid_request"},
		{"right-to-left override", "\u202eadmin", 400, "invalid_request"},
		{"dot", ".", 400, "invalid_request"},
		{"dot dot", "..", 400, "invalid_request"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body, _ := json.Marshal(map[string]string{"name": tt.user, "password": "look-alike-pass"})
			r := f.do(bearer("POST", "/admin/users", admin, string(body)))
			if r.code != tt.want || r.json(t)["error"] != tt.code {
				t.Errorf("POST /admin/users %+q = %d %s, want %d %s", tt.user, r.code, r.body, tt.want, tt.code)
			}
		})
	}
	users, err := f.store.ListUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if jwtgate.NameKey(u.Name) == "admin" && u.Name != "admin" {
			t.Errorf("a look-alike of admin was stored: %+q", u.Name)
		}
	}
	// A full-width name is stored as its ordinary form.
	r := f.do(bearer("POST", "/admin/users", admin, `{"name":"ｇｒａｃｅ","password":"grace-password"}`))
	if r.code != 201 || r.json(t)["name"] != "grace" {
		t.Errorf(`POST /admin/users "ｇｒａｃｅ" = %d %s, want 201 with name "grace"`, r.code, r.body)
	}
	if claims := f.loginFull(t, "ＧＲＡＣＥ", "grace-password"); claims["token"] == nil {
		t.Errorf(`login as "ＧＲＡＣＥ" = %v, want grace's token`, claims)
	}
}

// TestAdminListUsersPaging walks GET /admin/users by next_cursor and by
// offset, as the admin page does, and refuses cursors it did not make.
func TestAdminListUsersPaging(t *testing.T) {
	f := newFixture(t, Options{})
	admin := f.loginFull(t, "admin", "admin-pass")["token"].(string)
	for _, n := range []string{"user_a", "user%b", "USER-c", "ｕｓｅｒd", "other"} {
		body, _ := json.Marshal(map[string]string{"name": n, "password": "paging-pass"})
		if r := f.do(bearer("POST", "/admin/users", admin, string(body))); r.code != 201 {
			t.Fatalf("POST /admin/users %q = %d %s", n, r.code, r.body)
		}
	}
	type page struct {
		Users []struct {
			Name string `json:"name"`
		} `json:"users"`
		Total      int    `json:"total"`
		NextCursor string `json:"next_cursor"`
	}
	get := func(query string) page {
		t.Helper()
		r := f.do(bearer("GET", "/admin/users?"+query, admin, ""))
		var p page
		if r.code != 200 || json.Unmarshal(r.body, &p) != nil {
			t.Fatalf("GET /admin/users?%s = %d %s, want 200", query, r.code, r.body)
		}
		return p
	}
	var byCursor []string
	query := "q=USER&limit=3"
	for range 5 {
		p := get(query)
		if p.Total != 4 {
			t.Errorf("GET /admin/users?%s total = %d, want 4", query, p.Total)
		}
		for _, u := range p.Users {
			byCursor = append(byCursor, u.Name)
		}
		if p.NextCursor == "" {
			break
		}
		query = "q=USER&limit=3&cursor=" + p.NextCursor
	}
	want := []string{"user_a", "user%b", "USER-c", "userd"}
	if strings.Join(byCursor, " ") != strings.Join(want, " ") {
		t.Errorf("pages by cursor = %q, want %q", byCursor, want)
	}
	if p := get("q=user&limit=3&offset=3"); len(p.Users) != 1 || p.Users[0].Name != "userd" || p.NextCursor != "" {
		t.Errorf("GET /admin/users?q=user&limit=3&offset=3 = %+v, want [userd] and no next_cursor", p)
	}
	if p := get("q=_"); len(p.Users) != 1 || p.Users[0].Name != "user_a" {
		t.Errorf("GET /admin/users?q=_ = %+v, want only user_a (no LIKE wildcard)", p)
	}
	for _, bad := range []string{"cursor=x", "cursor=" + userCursor(1) + "&offset=2", "cursor=dTEyYQ", "limit=1001"} {
		if r := f.do(bearer("GET", "/admin/users?"+bad, admin, "")); r.code != 400 || r.json(t)["error"] != "invalid_request" {
			t.Errorf("GET /admin/users?%s = %d %s, want 400 invalid_request", bad, r.code, r.body)
		}
	}
}
