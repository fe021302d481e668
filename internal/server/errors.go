package server

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/accounts"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/mfa"
)

// writeServiceError maps a domain error to its status and stable code, in
// one place. Unexpected errors are logged and answered with a bare 500.
func writeServiceError(w http.ResponseWriter, logger *slog.Logger, err error) {
	switch {
	case errors.Is(err, jwtgate.ErrInvalid):
		writeError(w, http.StatusBadRequest, "invalid_request", strings.TrimPrefix(err.Error(), jwtgate.ErrInvalid.Error()+": "))
	case errors.Is(err, accounts.ErrEmailUnverified):
		writeError(w, http.StatusForbidden, "email_unverified", "confirm your email address first: open the link we sent you")
	case errors.Is(err, jwtgate.ErrBadCredentials):
		writeError(w, http.StatusBadRequest, "invalid_credentials", "invalid name or password")
	case errors.Is(err, jwtgate.ErrUnauthenticated):
		unauthorized(w, "invalid_token")
	case errors.Is(err, jwtgate.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "not found")
	case errors.Is(err, jwtgate.ErrConflict):
		writeError(w, http.StatusConflict, "conflict", "already exists")
	case errors.Is(err, mfa.ErrWrongCode):
		writeError(w, http.StatusBadRequest, "invalid_code", "wrong or already used code")
	case errors.Is(err, auth.ErrMFAToken):
		writeError(w, http.StatusBadRequest, "invalid_mfa_token", "the sign-in expired or was already finished; sign in again")
	case errors.Is(err, auth.ErrStepUp):
		writeError(w, http.StatusForbidden, "step_up_required", `this change needs a fresh second factor: send a "code" from your authenticator app or a recovery code, or sign in again with your second factor`)
	case errors.Is(err, mfa.ErrNoFactor):
		writeError(w, http.StatusConflict, "no_factor", "no such second factor is enrolled or pending")
	case errors.Is(err, jwtgate.ErrThrottled):
		wait := time.Second
		var te *auth.ThrottledError
		var me *mfa.ThrottledError
		if errors.As(err, &te) {
			wait = te.Wait
		} else if errors.As(err, &me) {
			wait = me.Wait
		}
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		writeError(w, http.StatusTooManyRequests, "throttled", "too many failed attempts; retry later")
	case errors.Is(err, jwtgate.ErrBusy):
		w.Header().Set("Retry-After", "1")
		writeError(w, http.StatusServiceUnavailable, "busy", "server busy, retry shortly")
	default:
		// The request id ties the log line to what the client saw.
		logger.Error("request failed", "id", w.Header().Get("X-Request-Id"), "err", err)
		writeError(w, http.StatusInternalServerError, "internal", "internal error")
	}
}
