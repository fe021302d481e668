// Package web holds the browser pages and their assets, embedded in the binary.
//
// The pages are static: index.html (home), login.html and admin.html, plus the CSS,
// JavaScript and SVG files under assets/. They are written to satisfy the
// server's Content-Security-Policy with no exceptions: no inline scripts or
// styles, no event-handler attributes, and nothing loaded from another origin.
// The scripts talk to the JSON API on the same origin; the session lives in an
// HttpOnly cookie that the scripts never see.
package web

import (
	"embed"
	"io/fs"
)

//go:embed static
var static embed.FS

// FS is the file tree served: index.html, login.html, admin.html and assets/... at its root.
func FS() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		// fs.Sub fails only for an invalid path, and "static" is valid.
		panic(err)
	}
	return sub
}
