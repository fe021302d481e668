package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/server/web"
)

// pagePolicy is the pages' CSP (the middleware's default, for everything
// else, lets nothing load at all).
var pagePolicy = []string{pageSecurityPolicy}

// rolePattern is jwtgate.ValidateRoles's rule for one role, as a
// JavaScript regular expression for the pages (TestRolePattern keeps the
// two in step).
var rolePattern = `^[a-z0-9_-]{1,` + strconv.Itoa(jwtgate.MaxRoleLen) + `}$`

// pageConfig is what the pages are told: the server's limits, and the
// hosts the login page may send a browser back to (the ones rt allows).
func pageConfig(rt returnTargets, acc web.Accounts, passkeys, apps bool) web.Config {
	return web.Config{
		Limits: web.Limits{
			MinPasswordChars:    auth.MinPasswordLen,
			MaxPasswordBytes:    jwtgate.MaxPasswordLen,
			MaxNameChars:        jwtgate.MaxNameLen,
			MaxRoles:            jwtgate.MaxRoles,
			MaxRoleChars:        jwtgate.MaxRoleLen,
			MaxPasskeyNameChars: jwtgate.MaxFactorNameLen,
			RolePattern:         rolePattern,
		},
		ReturnTo: web.ReturnTargets{Hosts: rt.hosts, Domain: rt.domain},
		Accounts: acc,
		Passkeys: passkeys,
		Apps:     apps,
	}
}

// pages are the HTML pages by name ("home", "login", "admin"), rendered
// once when the server is built.
type pages map[string][]byte

func newPages(rt returnTargets, acc web.Accounts, passkeys, apps bool) pages {
	p, err := web.Render(pageConfig(rt, acc, passkeys, apps))
	if err != nil {
		panic("server: " + err.Error()) // a fault in the embedded templates, not a runtime one
	}
	return p
}

// handler serves the page called name.
func (p pages) handler(name string) http.Handler {
	b, ok := p[name]
	if !ok {
		panic("server: no page " + name) // a build error, not a runtime one
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Security-Policy"] = pagePolicy
		setDocumentHeaders(w.Header())
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		_, _ = w.Write(b)
	})
}

// handleAssets serves /assets/* from the embedded tree, without directory
// listings.
func handleAssets() http.Handler {
	files := http.FileServerFS(web.Assets())
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			writeError(w, http.StatusNotFound, "not_found", "no such asset")
			return
		}
		setDocumentHeaders(w.Header())
		w.Header().Set("Cache-Control", "public, max-age=300")
		files.ServeHTTP(w, r)
	})
}
