package server

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
)

type sessionJSON struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	IP         string    `json:"ip"`
	UserAgent  string    `json:"user_agent"`
	Current    bool      `json:"current"`
}

// handleListSessions lists the caller's live sessions.
func handleListSessions(logger *slog.Logger, svc *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := ClaimsFrom(r.Context())
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		list, err := svc.LiveSessions(ctx, c.UserID)
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		out := make([]sessionJSON, 0, len(list))
		for _, s := range list {
			out = append(out, sessionJSON{ID: s.ID, CreatedAt: s.CreatedAt, LastUsedAt: s.LastUsedAt, ExpiresAt: s.ExpiresAt,
				IP: s.IP, UserAgent: s.UserAgent, Current: s.ID == c.SessionID})
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
	})
}

// handleRevokeSession ends one of the caller's sessions; 404 if the caller
// has no live session with that id.
func handleRevokeSession(logger *slog.Logger, svc *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := ClaimsFrom(r.Context())
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		if err := svc.RevokeSession(ctx, c.UserID, r.PathValue("id")); err != nil {
			writeServiceError(w, logger, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

type passwordRequest struct {
	Current *string `json:"current_password"`
	New     *string `json:"new_password"`
}

// handleChangePassword sets a new password (the current one is required)
// and ends the caller's other sessions.
func handleChangePassword(logger *slog.Logger, svc *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req passwordRequest
		if rerr := decodeJSON(r, &req); rerr != nil {
			rerr.write(w)
			return
		}
		if req.Current == nil || req.New == nil {
			writeError(w, http.StatusBadRequest, "invalid_request", `fields "current_password" and "new_password" are required`)
			return
		}
		c := ClaimsFrom(r.Context())
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		if err := svc.ChangePassword(ctx, c, *req.Current, *req.New); err != nil {
			writeServiceError(w, logger, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}
