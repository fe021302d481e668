package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
)

type loginRequest struct {
	Name     *string `json:"name"`
	Password *string `json:"password"`
	// OTP is an optional second factor sent with the password (API
	// clients that have the code at hand): a TOTP or recovery code.
	OTP *string `json:"otp"`
}

// mfaRequiredResponse is POST /login's 401 for a user with a second
// factor: the token to finish with at POST /login/mfa (or the passkey
// routes), and the methods the user has.
type mfaRequiredResponse struct {
	Error    string   `json:"error"`
	Message  string   `json:"message"`
	MFAToken string   `json:"mfa_token"`
	Methods  []string `json:"methods"`
}

// maxCodeLen bounds a typed code before any work: a TOTP code is 6
// digits, a recovery code 14 characters with its dashes.
const maxCodeLen = 64

// tokenResponse answers a login or refresh: the tutorial's "token" plus
// the OAuth-style fields.
type tokenResponse struct {
	Token        string `json:"token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
}

// writeTokens sends tokens as JSON and as cookies.
func writeTokens(w http.ResponseWriter, r *http.Request, svc *auth.Service, ck cookies, tok *auth.Tokens) {
	ck.set(w, r, tok.Access, tok.ExpiresIn, tok.Refresh, svc.SessionIdleTTL())
	if tok.Device != "" {
		setDeviceCookie(w, r, ck, tok.Device)
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, tokenResponse{Token: tok.Access, TokenType: "Bearer",
		ExpiresIn: int(tok.ExpiresIn.Seconds()), RefreshToken: tok.Refresh})
}

// handleLogin is the tutorial's POST /login: {"name","password"} in,
// {"token"} out, 400 on bad credentials. It also sets the session cookie
// for the browser pages.
func handleLogin(logger *slog.Logger, svc *auth.Service, ck cookies) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req loginRequest
		if rerr := decodeJSON(r, &req); rerr != nil {
			rerr.write(w)
			return
		}
		if req.Name == nil || req.Password == nil {
			writeError(w, http.StatusBadRequest, "invalid_request", `fields "name" and "password" are required`)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		otp := ""
		if req.OTP != nil {
			if otp = *req.OTP; otp == "" || len(otp) > maxCodeLen {
				writeError(w, http.StatusBadRequest, "invalid_request", `field "otp" must be a 6-digit code or a recovery code`)
				return
			}
		}
		c := auth.ClientFrom(r.Context())
		c.Device, _ = cookieValue(r.Header, deviceCookieName(ck))
		tok, err := svc.LoginOTP(ctx, *req.Name, *req.Password, otp, c)
		var te *auth.ThrottledError
		var mr *auth.MFARequiredError
		switch {
		case err == nil:
		case errors.As(err, &mr):
			writeJSON(w, http.StatusUnauthorized, mfaRequiredResponse{Error: "mfa_required",
				Message:  "the password is right; finish signing in with a second factor at POST /login/mfa",
				MFAToken: mr.Token, Methods: mr.Methods})
			return
		case errors.Is(err, jwtgate.ErrBadCredentials):
			writeError(w, http.StatusBadRequest, "invalid_credentials", "invalid name or password")
			return
		case errors.As(err, &te) && te.InProgress:
			hold(r.Context())
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusTooManyRequests, "throttled", "too many logins in progress for this client or account; retry shortly")
			return
		case errors.Is(err, jwtgate.ErrThrottled), errors.Is(err, jwtgate.ErrBusy):
			hold(r.Context())
			writeServiceError(w, logger, err)
			return
		default:
			writeServiceError(w, logger, err)
			return
		}
		writeTokens(w, r, svc, ck, tok)
	})
}

// shedHold is how long a refused login (429, 503) is held before it is
// answered. The refusal costs no hashing, but a flood client that ignores
// Retry-After retries the instant it is answered, and a few hundred such
// clients turn cheap refusals into a core's worth of CPU taken from the
// hashes that legitimate logins wait for (measured with
// bench/login-flood.sh). Held, each costs a parked goroutine instead.
const shedHold = time.Second

// hold waits shedHold, or until the client is gone.
func hold(ctx context.Context) {
	t := time.NewTimer(shedHold)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// deviceCookieMaxAge is how long a browser keeps its device cookie (see
// internal/auth/device.go); every successful login renews it.
const deviceCookieMaxAge = 180 * 24 * time.Hour

// deviceCookieName is the device cookie's name: __Secure- when the server's
// public URL is https (see cookies), so a plain-http page cannot plant one.
// It is host-only, even with --cookie-domain: only jwtgate's login reads it.
func deviceCookieName(ck cookies) string {
	if ck.secure {
		return "__Secure-jwtgate_device"
	}
	return "jwtgate_device"
}

// setDeviceCookie gives the browser its device cookie: sent only to the
// login routes, HttpOnly, and Strict, since only our own login page needs
// it.
func setDeviceCookie(w http.ResponseWriter, r *http.Request, ck cookies, v string) {
	http.SetCookie(w, &http.Cookie{
		Name: deviceCookieName(ck), Value: v, Path: "/login", MaxAge: int(deviceCookieMaxAge.Seconds()),
		HttpOnly: true, Secure: ck.secureFor(r), SameSite: http.SameSiteStrictMode,
	})
}

// handleLogout ends the token's session everywhere and clears the cookies.
func handleLogout(logger *slog.Logger, svc *auth.Service, ck cookies) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		claims := ClaimsFrom(r.Context())
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		if err := svc.Logout(ctx, claims); err != nil {
			writeServiceError(w, logger, err)
			return
		}
		ck.clear(w, r)
		w.WriteHeader(http.StatusNoContent)
	})
}
