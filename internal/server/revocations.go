package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
)

type revocationJSON struct {
	SID string `json:"sid,omitempty"`
	JTI string `json:"jti,omitempty"`
	Exp int64  `json:"exp"`
}

// handleRevocationFeed serves GET /revocations?since=CURSOR: the revoked
// sessions and tokens not yet expired, after the cursor, and the cursor to
// pass next time. Services that verify tokens themselves (the verify
// package) poll it so a logout reaches them within seconds.
func handleRevocationFeed(logger *slog.Logger, svc *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var since int64
		if v := r.URL.Query().Get("since"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				writeError(w, http.StatusBadRequest, "invalid_request", "since must be a cursor returned by this feed")
				return
			}
			since = n
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		entries, cursor, err := svc.RevocationFeed(ctx, since)
		if errors.Is(err, jwtgate.ErrInvalid) {
			writeError(w, http.StatusBadRequest, "invalid_request", "since is not a cursor of this feed; start again without it")
			return
		} else if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		out := make([]revocationJSON, 0, len(entries))
		for _, e := range entries {
			out = append(out, revocationJSON{SID: e.SessionID, JTI: e.TokenID, Exp: e.ExpiresAt.Unix()})
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, map[string]any{"cursor": strconv.FormatInt(cursor, 10), "revocations": out})
	})
}

// handleRevokeUserSessions ends every session of a user (admin).
func handleRevokeUserSessions(logger *slog.Logger, svc *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		n, err := svc.RevokeUserSessions(ctx, r.PathValue("name"))
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]int{"revoked": n})
	})
}
