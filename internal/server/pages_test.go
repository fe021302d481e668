package server

import (
	"encoding/json"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/server/web"
)

// TestPageConfig: every page carries the server's own limits and the hosts
// its return_to check allows, so the scripts copy neither.
func TestPageConfig(t *testing.T) {
	f := newFixture(t, Options{ForwardAuthHosts: []string{"App.Example.com:8443"}, CookieDomain: ".Test"})
	block := regexp.MustCompile(`(?s)<script type="application/json" id="page-config">(.*?)</script>`)
	want := web.Config{
		Limits: web.Limits{
			MinPasswordChars: auth.MinPasswordLen,
			MaxPasswordBytes: jwtgate.MaxPasswordLen,
			MaxNameChars:     jwtgate.MaxNameLen,
			MaxRoles:         jwtgate.MaxRoles,
			MaxRoleChars:     jwtgate.MaxRoleLen,
			RolePattern:      rolePattern,

			MaxPasskeyNameChars: jwtgate.MaxFactorNameLen,
		},
		ReturnTo: web.ReturnTargets{Hosts: []string{"test", "app.example.com:8443"}, Domain: "test"},
	}
	for _, path := range []string{"/", "/login", "/admin"} {
		t.Run(path, func(t *testing.T) {
			r := f.do(httptest.NewRequest("GET", path, nil))
			if r.code != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
				t.Fatalf("GET %s = %d %s, want 200 text/html", path, r.code, r.header.Get("Content-Type"))
			}
			m := block.FindSubmatch(r.body)
			if m == nil {
				t.Fatalf("GET %s: no page-config block", path)
			}
			var got web.Config
			if err := json.Unmarshal(m[1], &got); err != nil {
				t.Fatalf("GET %s: page-config %q: %v", path, m[1], err)
			}
			if got.Limits != want.Limits || !slices.Equal(got.ReturnTo.Hosts, want.ReturnTo.Hosts) || got.ReturnTo.Domain != want.ReturnTo.Domain {
				t.Errorf("GET %s: page-config = %+v, want %+v", path, got, want)
			}
			// The password fields' HTML rules come from the same limits.
			if path != "/login" && !strings.Contains(string(r.body), `minlength="`+strconv.Itoa(auth.MinPasswordLen)+`"`) {
				t.Errorf("GET %s: no minlength=%d on the new-password fields", path, auth.MinPasswordLen)
			}
		})
	}
}

// TestRolePattern: the pages' pattern for a role accepts exactly the roles
// jwtgate.ValidateRoles accepts.
func TestRolePattern(t *testing.T) {
	re := regexp.MustCompile(rolePattern)
	tests := []struct {
		name string
		role string
	}{
		{name: "letters", role: "admin"},
		{name: "digits, dash, underscore", role: "ops-2_x"},
		{name: "longest", role: strings.Repeat("a", jwtgate.MaxRoleLen)},
		{name: "too long", role: strings.Repeat("a", jwtgate.MaxRoleLen+1)},
		{name: "empty", role: ""},
		{name: "upper case", role: "Admin"},
		{name: "space", role: "a b"},
		{name: "dot", role: "a.b"},
		{name: "non-ASCII letter", role: "ádmin"},
		{name: "newline after", role: "admin\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			server := jwtgate.ValidateRoles([]string{tt.role}) == nil
			if page := re.MatchString(tt.role); page != server {
				t.Errorf("role %q: page pattern matches = %v, ValidateRoles accepts = %v", tt.role, page, server)
			}
		})
	}
}

// TestModulesServedAsJavaScript: browsers run a module only with a
// JavaScript MIME type.
func TestModulesServedAsJavaScript(t *testing.T) {
	f := newFixture(t, Options{})
	for _, path := range []string{"/assets/home.js", "/assets/lib/session.js", "/assets/admin/users.js"} {
		r := f.do(httptest.NewRequest("GET", path, nil))
		if ct := r.header.Get("Content-Type"); r.code != 200 || !strings.HasPrefix(ct, "text/javascript") {
			t.Errorf("GET %s = %d %q, want 200 text/javascript", path, r.code, ct)
		}
	}
}
