package server

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// TestJSONBodies is issue 17 §7: state-changing routes take JSON bodies
// only with a JSON media type (or none; or form-urlencoded, what `curl -d`
// sends, without cookies), and refuse bodies whose members a lenient
// parser would read differently (duplicates, case variants). Refused
// requests change nothing.
func TestJSONBodies(t *testing.T) {
	f := newFixture(t, Options{})
	admin := f.login(t, "admin", "admin-pass")
	alice := f.login(t, "alice", "alice-pass")
	const login = `{"name":"alice","password":"alice-pass"}`
	tests := []struct {
		name        string
		method      string
		path        string
		contentType []string // nil: no header
		cookie      string   // the access cookie's value, if any
		bearer      string
		body        string
		want        int
		wantCode    string
	}{
		{name: "login, application/json", method: "POST", path: "/login", contentType: []string{"application/json"}, body: login, want: 200},
		{name: "login, json with charset", method: "POST", path: "/login", contentType: []string{"application/json; charset=UTF-8"}, body: login, want: 200},
		{name: "login, +json", method: "POST", path: "/login", contentType: []string{"application/vnd.api+json"}, body: login, want: 200},
		{name: "login, no Content-Type", method: "POST", path: "/login", body: login, want: 200},
		{name: "login, curl -d (form, no cookie)", method: "POST", path: "/login", contentType: []string{"application/x-www-form-urlencoded"}, body: login, want: 200},
		{name: "login, form with a cookie", method: "POST", path: "/login", contentType: []string{"application/x-www-form-urlencoded"}, cookie: alice, body: login, want: 415, wantCode: "unsupported_media_type"},
		{name: "login, form-encoded fields", method: "POST", path: "/login", contentType: []string{"application/x-www-form-urlencoded"}, body: "name=alice&password=alice-pass", want: 400, wantCode: "invalid_request"},
		{name: "login, text/plain", method: "POST", path: "/login", contentType: []string{"text/plain"}, body: login, want: 415, wantCode: "unsupported_media_type"},
		{name: "login, multipart", method: "POST", path: "/login", contentType: []string{"multipart/form-data; boundary=x"}, body: login, want: 415, wantCode: "unsupported_media_type"},
		{name: "login, latin-1 JSON", method: "POST", path: "/login", contentType: []string{"application/json; charset=iso-8859-1"}, body: login, want: 415, wantCode: "unsupported_media_type"},
		{name: "login, malformed Content-Type", method: "POST", path: "/login", contentType: []string{"application/json; charset"}, body: login, want: 415, wantCode: "unsupported_media_type"},
		{name: "login, two Content-Types", method: "POST", path: "/login", contentType: []string{"application/json", "text/plain"}, body: login, want: 415, wantCode: "unsupported_media_type"},
		{name: "login, duplicate name", method: "POST", path: "/login", contentType: []string{"application/json"}, body: `{"name":"admin","password":"alice-pass","name":"alice"}`, want: 400, wantCode: "invalid_request"},
		{name: "login, duplicate password", method: "POST", path: "/login", contentType: []string{"application/json"}, body: `{"name":"alice","password":"x","password":"alice-pass"}`, want: 400, wantCode: "invalid_request"},
		{name: "login, NAME", method: "POST", path: "/login", contentType: []string{"application/json"}, body: `{"NAME":"alice","password":"alice-pass"}`, want: 400, wantCode: "invalid_request"},
		{name: "login, Name beside name", method: "POST", path: "/login", contentType: []string{"application/json"}, body: `{"name":"admin","password":"alice-pass","Name":"alice"}`, want: 400, wantCode: "invalid_request"},
		{name: "login, duplicates inside an unknown member", method: "POST", path: "/login", contentType: []string{"application/json"}, body: `{"name":"alice","password":"alice-pass","x":{"a":1,"a":2}}`, want: 200},
		{name: "create user, text/plain", method: "POST", path: "/admin/users", contentType: []string{"text/plain"}, bearer: admin, body: `{"name":"carol","password":"carol-pass"}`, want: 415, wantCode: "unsupported_media_type"},
		{name: "create user, duplicate roles", method: "POST", path: "/admin/users", contentType: []string{"application/json"}, bearer: admin, body: `{"name":"carol","password":"carol-pass","roles":[],"roles":["admin"]}`, want: 400, wantCode: "invalid_request"},
		{name: "create user, Roles", method: "POST", path: "/admin/users", contentType: []string{"application/json"}, bearer: admin, body: `{"name":"carol","password":"carol-pass","Roles":["admin"]}`, want: 400, wantCode: "invalid_request"},
		{name: "change password by cookie, text/plain", method: "POST", path: "/user/password", contentType: []string{"text/plain"}, cookie: alice, body: `{"current_password":"alice-pass","new_password":"alice-new-pass"}`, want: 415, wantCode: "unsupported_media_type"},
		{name: "change password by cookie, form", method: "POST", path: "/user/password", contentType: []string{"application/x-www-form-urlencoded"}, cookie: alice, body: `{"current_password":"alice-pass","new_password":"alice-new-pass"}`, want: 415, wantCode: "unsupported_media_type"},
		{name: "refresh, text/plain", method: "POST", path: "/token/refresh", contentType: []string{"text/plain"}, body: `{"refresh_token":"x"}`, want: 415, wantCode: "unsupported_media_type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.counts(t)
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			for _, ct := range tt.contentType {
				req.Header.Add("Content-Type", ct)
			}
			if tt.cookie != "" {
				req.Header.Set("Cookie", "jwtgate_access="+tt.cookie)
			}
			if tt.bearer != "" {
				req.Header.Set("Authorization", "Bearer "+tt.bearer)
			}
			r := f.do(req)
			if r.code != tt.want {
				t.Fatalf("%s %s (%s) = %d %s, want %d", tt.method, tt.path, tt.name, r.code, r.body, tt.want)
			}
			if tt.wantCode != "" {
				if got := r.json(t)["error"]; got != tt.wantCode {
					t.Errorf("%s %s (%s) error = %v, want %s", tt.method, tt.path, tt.name, got, tt.wantCode)
				}
				if after := f.counts(t); after != before {
					t.Errorf("%s %s (%s) changed stored data: %s -> %s", tt.method, tt.path, tt.name, before, after)
				}
			}
		})
	}
}
