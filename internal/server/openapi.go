package server

import (
	_ "embed"
	"net/http"
)

// openapiJSON documents the HTTP API (OpenAPI 3.1). A test checks that it
// lists exactly the routes addRoutes registers.
//
//go:embed openapi.json
var openapiJSON []byte

// handleOpenAPI serves the API description.
func handleOpenAPI() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		_, _ = w.Write(openapiJSON)
	})
}
