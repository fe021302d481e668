package server

import (
	"io/fs"
	"net/http"
	"strings"

	"github.com/jwtgate/jwtgate/internal/server/web"
)

// pagePolicy is the pages' CSP (the middleware's default, for everything
// else, lets nothing load at all).
var pagePolicy = []string{pageSecurityPolicy}

// handlePage serves one embedded HTML page. Pages are tiny and read once.
func handlePage(name string) http.Handler {
	b, err := fs.ReadFile(web.FS(), name)
	if err != nil {
		panic("server: embedded page missing: " + name) // a build error, not a runtime one
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
	files := http.FileServerFS(web.FS())
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
