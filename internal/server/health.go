package server

import (
	"context"
	"net/http"
	"time"
)

// handleHealthz says the process is up (liveness).
func handleHealthz() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
}

// handleReadyz says the store answers (readiness), within two seconds. It
// lists the warnings (always an array, often empty): conditions to fix
// that do not make the server unready, so they leave the status 200.
func handleReadyz(ready func(context.Context) error, warnings []Warning) http.Handler {
	body := readyBody{Status: "ok", Warnings: warnings}
	if body.Warnings == nil {
		body.Warnings = []Warning{}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := ready(ctx); err != nil {
			writeError(w, http.StatusServiceUnavailable, "not_ready", "store unreachable")
			return
		}
		writeJSON(w, http.StatusOK, body)
	})
}

type readyBody struct {
	Status   string    `json:"status"`
	Warnings []Warning `json:"warnings"`
}
