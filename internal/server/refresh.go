package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/jwtgate/jwtgate/internal/auth"
)

type refreshRequest struct {
	RefreshToken *string `json:"refresh_token"`
}

// handleRefresh trades a refresh token (JSON body, or the browser's refresh
// cookie when the body is empty) for a new access token and the rotated
// refresh token.
func handleRefresh(logger *slog.Logger, svc *auth.Service, ck cookies) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var raw string
		if r.ContentLength != 0 {
			var req refreshRequest
			if rerr := decodeJSON(r, &req); rerr != nil {
				rerr.write(w)
				return
			}
			if req.RefreshToken == nil {
				writeError(w, http.StatusBadRequest, "invalid_request", `field "refresh_token" is required`)
				return
			}
			raw = *req.RefreshToken
		} else if c, err := r.Cookie(ck.refresh); err == nil {
			raw = c.Value
		} else {
			writeError(w, http.StatusBadRequest, "invalid_request", "no refresh token in the body or cookie")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		tok, err := svc.Refresh(ctx, raw, auth.ClientFrom(r.Context()))
		switch {
		case err == nil:
			writeTokens(w, r, svc, ck, tok)
		case errors.Is(err, auth.ErrInvalidGrant), errors.Is(err, auth.ErrRefreshReused):
			ck.clear(w, r)
			w.Header().Set("WWW-Authenticate", `Bearer realm="jwtgate", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "invalid_grant", "refresh token is invalid, expired or revoked")
		default:
			writeServiceError(w, logger, err)
		}
	})
}
