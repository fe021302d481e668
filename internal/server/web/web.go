// Package web holds the browser pages and their assets, embedded in the binary.
//
// A page is one template, pages/NAME.html, and one JavaScript module,
// static/assets/NAME.js. The template fills in the blocks of the shared
// layout (templates/layout.html: the <head>, the site header and footer)
// and may use the shared login-state card (templates/gate.html) and form
// fields (templates/fields.html: new passwords, with the server's rules in
// their attributes); Render
// executes every page once, when the server starts. The modules import the
// shared ones under static/assets/lib/ (the session, the login-state card,
// the server's limits, the return-target check).
//
// The pages satisfy the server's Content-Security-Policy with no
// exceptions: no inline scripts or styles, no event-handler attributes, and
// nothing loaded from another origin. The only data a page carries is its
// Config, as a JSON block (<script type="application/json">, which a
// browser never runs). The scripts talk to the JSON API on the same origin;
// the session lives in an HttpOnly cookie that the scripts never see.
package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
)

//go:embed static templates pages
var files embed.FS

// Assets is the file tree served under /: assets/... at its root.
func Assets() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		// fs.Sub fails only for an invalid path, and "static" is valid.
		panic(err)
	}
	return sub
}

// Config is what the server tells every page, as JSON: its rules, so that a
// page checks a form as the server will without a copy of them in the
// scripts, and where the login page may send a browser back to.
type Config struct {
	Limits   Limits        `json:"limits"`
	ReturnTo ReturnTargets `json:"returnTo"`
	Accounts Accounts      `json:"accounts"`
	// Passkeys says the server offers passkeys (WebAuthn): the pages show
	// their buttons only then.
	Passkeys bool `json:"passkeys"`
	// Apps says the server is an OpenID Provider: the home page lists the
	// apps the user let sign them in (off with a shared secret).
	Apps bool `json:"apps"`
}

// Accounts says which self-service account flows the server offers, so
// that pages link only to what works.
type Accounts struct {
	Signup       string `json:"signup"`       // closed, open or invite
	Email        bool   `json:"email"`        // email is configured: reset and verification links work
	RequireEmail bool   `json:"requireEmail"` // signup needs an address (it must be verified to log in)
}

// Limits are the server's rules for names, passwords and roles.
type Limits struct {
	MinPasswordChars int `json:"minPasswordChars"`
	MaxPasswordBytes int `json:"maxPasswordBytes"`
	MaxNameChars     int `json:"maxNameChars"`
	MaxRoles         int `json:"maxRoles"`
	MaxRoleChars     int `json:"maxRoleChars"`
	// MaxPasskeyNameChars bounds a passkey's label.
	MaxPasskeyNameChars int `json:"maxPasskeyNameChars"`
	// RolePattern is a JavaScript regular expression a whole role matches.
	RolePattern string `json:"rolePattern"`
}

// ReturnTargets are the hosts, besides the page's own origin, the login
// page may send a browser back to after logging in (the server's own
// return_to check uses the same list).
type ReturnTargets struct {
	Hosts  []string `json:"hosts"`            // host[:port], lower case, matched exactly
	Domain string   `json:"domain,omitempty"` // the domain and every host under it
}

// page is what a page's template sees.
type page struct {
	Name   string // the page's name: its module is /assets/NAME.js
	Config Config
}

// Render executes every page template with cfg and returns the HTML of
// each, by name ("home" for pages/home.html). An error is a fault in the
// embedded templates, found by the package's tests.
func Render(cfg Config) (map[string][]byte, error) {
	if cfg.ReturnTo.Hosts == nil {
		cfg.ReturnTo.Hosts = []string{} // [] in the JSON, not null
	}
	shared, err := template.New("").Funcs(template.FuncMap{"args": args}).ParseFS(files, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: shared templates: %w", err)
	}
	names, err := fs.Glob(files, "pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: pages: %w", err)
	}
	out := make(map[string][]byte, len(names))
	for _, file := range names {
		name := strings.TrimSuffix(path.Base(file), ".html")
		t, err := shared.Clone()
		if err == nil {
			t, err = t.ParseFS(files, file)
		}
		if err != nil {
			return nil, fmt.Errorf("web: page %s: %w", name, err)
		}
		var buf bytes.Buffer
		if err := t.ExecuteTemplate(&buf, "layout", page{Name: name, Config: cfg}); err != nil {
			return nil, fmt.Errorf("web: page %s: %w", name, err)
		}
		out[name] = buf.Bytes()
	}
	return out, nil
}

// args makes the map a shared template takes from "key", value pairs:
// {{template "new-password" (args "id" "new-password" "limits" .Config.Limits)}}.
func args(pairs ...any) (map[string]any, error) {
	if len(pairs)%2 != 0 {
		return nil, fmt.Errorf("args: %d values, want key, value pairs", len(pairs))
	}
	m := make(map[string]any, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		key, ok := pairs[i].(string)
		if !ok {
			return nil, fmt.Errorf("args: key %v is not a string", pairs[i])
		}
		m[key] = pairs[i+1]
	}
	return m, nil
}
