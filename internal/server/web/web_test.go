package web

import (
	"encoding/json"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var testConfig = Config{
	Limits:   Limits{MinPasswordChars: 8, MaxPasswordBytes: 1024, MaxNameChars: 64, MaxRoles: 16, MaxRoleChars: 32, RolePattern: "^[a-z]+$"},
	ReturnTo: ReturnTargets{Hosts: []string{"app.example.com", `</script><script>alert(1)</script>`}, Domain: "corp.example"},
	Accounts: Accounts{Signup: "open", Email: true, RequireEmail: true},
}

func render(t *testing.T) map[string][]byte {
	t.Helper()
	pages, err := Render(testConfig)
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	return pages
}

// TestRender: every page under pages/ renders, loads its own module, and
// carries the config as JSON that reads back the same, markup escaped.
func TestRender(t *testing.T) {
	pages := render(t)
	var names []string
	for name := range pages {
		names = append(names, name)
	}
	slices.Sort(names)
	if want := []string{"admin", "consent", "forgot", "home", "login", "reset", "signup", "verify"}; !slices.Equal(names, want) {
		t.Fatalf("Render pages = %v, want %v", names, want)
	}
	block := regexp.MustCompile(`(?s)<script type="application/json" id="page-config">(.*?)</script>`)
	for name, html := range pages {
		t.Run(name, func(t *testing.T) {
			s := string(html)
			if want := `<script type="module" src="/assets/` + name + `.js"></script>`; !strings.Contains(s, want) {
				t.Errorf("page %s does not load its module: no %s", name, want)
			}
			m := block.FindAllStringSubmatch(s, -1)
			if len(m) != 1 {
				t.Fatalf("page %s has %d config blocks, want 1", name, len(m))
			}
			var got Config
			if err := json.Unmarshal([]byte(m[0][1]), &got); err != nil {
				t.Fatalf("page %s config %q: %v", name, m[0][1], err)
			}
			if !slices.Equal(got.ReturnTo.Hosts, testConfig.ReturnTo.Hosts) || got.Limits != testConfig.Limits || got.ReturnTo.Domain != testConfig.ReturnTo.Domain || got.Accounts != testConfig.Accounts {
				t.Errorf("page %s config = %+v, want %+v", name, got, testConfig)
			}
			for _, part := range []string{"<title>", `class="site-header"`, `class="site-footer"`, `<meta name="color-scheme" content="light dark">`} {
				if !strings.Contains(s, part) {
					t.Errorf("page %s lacks the shared %s", name, part)
				}
			}
		})
	}
}

// TestRenderNoHosts: no allowed hosts is [] in the JSON, which the page
// reads as a list.
func TestRenderNoHosts(t *testing.T) {
	pages, err := Render(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(pages["login"]), `"hosts":[]`) {
		t.Errorf("login page config without hosts: want \"hosts\":[] in %s", pages["login"])
	}
}

// TestPagesKeepCSP: the pages need no CSP exception (no inline script or
// style, no event-handler attribute, nothing from another origin) and every
// asset they name exists.
func TestPagesKeepCSP(t *testing.T) {
	assets := Assets()
	scriptTag := regexp.MustCompile(`<script\b[^>]*>`)
	ref := regexp.MustCompile(`(?:src|href)="([^"]*)"`)
	handler := regexp.MustCompile(`\son[a-z]+\s*=`)
	for name, html := range render(t) {
		s := string(html)
		for _, tag := range scriptTag.FindAllString(s, -1) {
			if !strings.Contains(tag, ` src="/assets/`) && !strings.Contains(tag, `type="application/json"`) {
				t.Errorf("page %s: inline script %s", name, tag)
			}
		}
		if strings.Contains(s, " style=") || strings.Contains(s, "<style") {
			t.Errorf("page %s has inline style", name)
		}
		if m := handler.FindString(s); m != "" {
			t.Errorf("page %s has an event-handler attribute %q", name, m)
		}
		for _, m := range ref.FindAllStringSubmatch(s, -1) {
			u := m[1]
			switch {
			case strings.HasPrefix(u, "#"), u == "/", u == "/login", u == "/admin", u == "/signup", u == "/password/forgot":
			case strings.HasPrefix(u, "/assets/"):
				file := strings.TrimPrefix(strings.SplitN(u, "#", 2)[0], "/")
				if _, err := fs.Stat(assets, file); err != nil {
					t.Errorf("page %s names %s, which is not an asset: %v", name, u, err)
				}
			default:
				t.Errorf("page %s links to %q, outside the pages and their assets", name, u)
			}
		}
	}
}

// TestModuleImports: every import of every module names a module that
// exists, by a relative path (so the modules move together).
func TestModuleImports(t *testing.T) {
	assets := Assets()
	imp := regexp.MustCompile(`(?m)^(?:import|export)\s[^;]*?\sfrom\s+"([^"]+)";`)
	mods, err := fs.Glob(assets, "assets/*.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{"assets/*/*.js"} {
		more, _ := fs.Glob(assets, dir)
		mods = append(mods, more...)
	}
	if len(mods) < 10 {
		t.Fatalf("found %d modules, want the pages' and the shared ones", len(mods))
	}
	for _, mod := range mods {
		src, err := fs.ReadFile(assets, mod)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range imp.FindAllStringSubmatch(string(src), -1) {
			spec := m[1]
			if !strings.HasPrefix(spec, "./") && !strings.HasPrefix(spec, "../") {
				t.Errorf("%s imports %q: want a relative path", mod, spec)
				continue
			}
			target := path.Join(path.Dir(mod), spec)
			if _, err := fs.Stat(assets, target); err != nil {
				t.Errorf("%s imports %q: %v", mod, spec, err)
			}
		}
		if strings.Contains(string(src), "window.Jwtgate") {
			t.Errorf("%s uses a global; modules share through imports", mod)
		}
	}
}
