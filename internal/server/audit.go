package server

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
)

type auditJSON struct {
	ID        int64     `json:"id"`
	At        time.Time `json:"at"`
	Type      string    `json:"type"`
	UserID    int64     `json:"user_id,omitempty"`
	ActorID   int64     `json:"actor_id,omitempty"`
	Name      string    `json:"name,omitempty"`
	IP        string    `json:"ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	Detail    string    `json:"detail,omitempty"`
}

// AuditJSON is the wire form of an audit event, shared with the CLI.
func AuditJSON(e jwtgate.AuditEvent) any {
	return auditJSON{e.ID, e.At, e.Type, e.UserID, e.ActorID, e.Name, e.IP, e.UserAgent, e.Detail}
}

// handleAudit lists audit events, newest first: ?limit=&before=&user_id=&type=.
func handleAudit(logger *slog.Logger, svc *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		var f jwtgate.AuditFilter
		for name, dst := range map[string]*int64{"before": &f.BeforeID, "user_id": &f.UserID} {
			if v := q.Get(name); v != "" {
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil || n < 0 {
					writeError(w, http.StatusBadRequest, "invalid_request", name+" must be a non-negative integer")
					return
				}
				*dst = n
			}
		}
		f.Limit = 100
		if v := q.Get("limit"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 1000 {
				writeError(w, http.StatusBadRequest, "invalid_request", "limit must be 1 to 1000")
				return
			}
			f.Limit = n
		}
		f.Type = q.Get("type")
		events, err := svc.Audit(r.Context(), f)
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		out := make([]any, 0, len(events))
		for _, e := range events {
			out = append(out, AuditJSON(e))
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, map[string]any{"events": out})
	})
}
