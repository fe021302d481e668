package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/mfa"
)

// The second step of a login, and the user's own TOTP and recovery codes
// (SPEC section 4). Passkey routes are in passkey.go.

type loginMFARequest struct {
	MFAToken *string `json:"mfa_token"`
	Code     *string `json:"code"`
}

// handleLoginMFA is POST /login/mfa {"mfa_token","code"}: the second step
// of a login POST /login answered with mfa_required. Success answers
// exactly as POST /login does (JSON and cookies); a wrong code is 400
// invalid_code and leaves the mfa_token usable; a spent, expired or
// unknown token is 400 invalid_mfa_token; wrong codes are throttled (429).
func handleLoginMFA(logger *slog.Logger, svc *auth.Service, ck cookies) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req loginMFARequest
		if rerr := decodeJSON(r, &req); rerr != nil {
			rerr.write(w)
			return
		}
		if req.MFAToken == nil || req.Code == nil {
			writeError(w, http.StatusBadRequest, "invalid_request", `fields "mfa_token" and "code" are required`)
			return
		}
		if *req.Code == "" || len(*req.Code) > maxCodeLen {
			writeError(w, http.StatusBadRequest, "invalid_code", "wrong or already used code")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		c := auth.ClientFrom(r.Context())
		tok, err := svc.FinishMFA(ctx, *req.MFAToken, c, svc.CodeFactor(*req.Code, c.IP))
		if err != nil {
			if errors.Is(err, jwtgate.ErrThrottled) {
				hold(r.Context())
			}
			writeServiceError(w, logger, err)
			return
		}
		writeTokens(w, r, svc, ck, tok)
	})
}

// codeRequest is the body of the routes that take a code (and, for
// DELETE /user/totp, the password).
type codeRequest struct {
	Code     *string `json:"code"`
	Password *string `json:"password"`
}

// decodeCode reads an optional JSON body with a code: a request without a
// body has no code.
func decodeCode(r *http.Request) (codeRequest, *requestError) {
	var req codeRequest
	if r.Body == nil || r.Body == http.NoBody || r.ContentLength == 0 {
		return req, nil
	}
	if rerr := decodeJSON(r, &req); rerr != nil {
		return req, rerr
	}
	if req.Code != nil && len(*req.Code) > maxCodeLen {
		return req, &requestError{status: http.StatusBadRequest, code: "invalid_code", msg: "wrong or already used code"}
	}
	return req, nil
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// writeMFAError is writeServiceError, holding throttled answers as the
// login does.
func writeMFAError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	if errors.Is(err, jwtgate.ErrThrottled) {
		hold(r.Context())
	}
	writeServiceError(w, logger, err)
}

type totpStartResponse struct {
	Secret string `json:"secret"`
	URI    string `json:"uri"`
}

// handleStartTOTP is POST /user/totp: a new pending TOTP secret, as text
// and otpauth:// URI (GET /user/totp/qr.png draws it). It replaces a
// pending one; with TOTP already on it is 409. A user who has a passkey
// sends {"code"} or signed in with it in the last minutes (step-up).
func handleStartTOTP(logger *slog.Logger, svc *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, rerr := decodeCode(r)
		if rerr != nil {
			rerr.write(w)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		en, err := svc.StartTOTP(ctx, ClaimsFrom(r.Context()), str(req.Code))
		if errors.Is(err, jwtgate.ErrConflict) {
			writeError(w, http.StatusConflict, "totp_enabled", "TOTP is already on; turn it off first to enrol another app")
			return
		}
		if err != nil {
			writeMFAError(w, r, logger, err)
			return
		}
		writeJSON(w, http.StatusOK, totpStartResponse{Secret: en.Secret, URI: en.URI})
	})
}

// qrSize is the QR code's side in pixels: sharp on a phone camera, small
// as a PNG (about 1 KiB).
const qrSize = 256

// handleTOTPQRCode is GET /user/totp/qr.png: the pending secret's
// otpauth:// URI as a PNG QR code for the user page (same origin, so the
// page CSP's img-src 'self' allows it). 404 when nothing is pending.
func handleTOTPQRCode(logger *slog.Logger, svc *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		u, err := svc.User(ctx, ClaimsFrom(r.Context()))
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		uri, err := svc.MFA().PendingURI(ctx, u)
		if errors.Is(err, jwtgate.ErrNotFound) {
			writeError(w, http.StatusNotFound, "not_found", "no TOTP enrolment is pending; start one with POST /user/totp")
			return
		}
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		png, err := mfa.QRCode(uri, qrSize)
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "image/png")
		h["Cache-Control"] = noStore // it encodes the secret
		// The page that shows it is this origin's: no other may embed it.
		h.Set("Cross-Origin-Resource-Policy", "same-origin")
		_, _ = w.Write(png)
	})
}

type recoveryCodesResponse struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

// handleConfirmTOTP is POST /user/totp/confirm {"code"}: a code from the
// app turns the pending secret on, and the answer carries the user's 10
// recovery codes, shown this once.
func handleConfirmTOTP(logger *slog.Logger, svc *auth.Service) http.Handler {
	return handleCodeForRecoveryCodes(logger, svc, `field "code" is required`, svc.MFA().ConfirmTOTP)
}

// handleCodeForRecoveryCodes answers {"code"} with the user's new
// recovery codes from issue (confirming TOTP, or regenerating the codes);
// missing is the message when the code is absent.
func handleCodeForRecoveryCodes(logger *slog.Logger, svc *auth.Service, missing string,
	issue func(ctx context.Context, u *jwtgate.User, code, ip string) ([]string, error)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, rerr := decodeCode(r)
		if rerr != nil {
			rerr.write(w)
			return
		}
		if req.Code == nil {
			writeError(w, http.StatusBadRequest, "invalid_request", missing)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		u, err := svc.User(ctx, ClaimsFrom(r.Context()))
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		codes, err := issue(ctx, u, *req.Code, auth.ClientFrom(r.Context()).IP)
		if err != nil {
			writeMFAError(w, r, logger, err)
			return
		}
		writeJSON(w, http.StatusOK, recoveryCodesResponse{RecoveryCodes: codes})
	})
}

// handleDisableTOTP is DELETE /user/totp {"password","code"}: turns TOTP
// off (and voids the recovery codes) after both the password and a code.
func handleDisableTOTP(logger *slog.Logger, svc *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, rerr := decodeCode(r)
		if rerr != nil {
			rerr.write(w)
			return
		}
		if req.Password == nil || req.Code == nil {
			writeError(w, http.StatusBadRequest, "invalid_request", `fields "password" and "code" are required`)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		if err := svc.DisableTOTP(ctx, ClaimsFrom(r.Context()), *req.Password, *req.Code); err != nil {
			if errors.Is(err, jwtgate.ErrBadCredentials) {
				writeError(w, http.StatusBadRequest, "invalid_credentials", "wrong password")
				return
			}
			writeMFAError(w, r, logger, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleRegenerateRecoveryCodes is POST /user/recovery-codes {"code"}: a
// TOTP code voids the recovery codes and returns a new set.
func handleRegenerateRecoveryCodes(logger *slog.Logger, svc *auth.Service) http.Handler {
	return handleCodeForRecoveryCodes(logger, svc, `field "code" (from the authenticator app) is required`, svc.MFA().RegenerateRecoveryCodes)
}

// factorsResponse is GET /user/factors: what the user page shows.
type factorsResponse struct {
	TOTP          bool `json:"totp"`
	RecoveryCodes int  `json:"recovery_codes"`
	Passkeys      int  `json:"passkeys"`
	// Required: the user's role requires a second factor and this session
	// was not started with one: only enrolment is open to it.
	Required bool     `json:"mfa_required"`
	AMR      []string `json:"amr"`
}

// handleFactors is GET /user/factors: the user's second factors.
func handleFactors(logger *slog.Logger, svc *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := ClaimsFrom(r.Context())
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		f, err := svc.MFA().Factors(ctx, c.UserID)
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		amr := c.AMR
		if amr == nil {
			amr = []string{}
		}
		writeJSON(w, http.StatusOK, factorsResponse{TOTP: f.TOTP, RecoveryCodes: f.RecoveryCodes, Passkeys: f.Passkeys,
			Required: svc.RequiresMFA(c), AMR: amr})
	})
}

// requireStepUp guards a sensitive change (password, email): a user with
// a second factor must send a "code" member in the JSON body, or have
// signed in with the factor in the last auth.StepUpMaxAge (403
// step_up_required otherwise). The body is read, bounded as every body
// is, and handed on unchanged to next.
func requireStepUp(logger *slog.Logger, svc *auth.Service, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var code string
		if r.Body != nil && r.Body != http.NoBody {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					writeError(w, http.StatusRequestEntityTooLarge, "body_too_large", "request body too large")
					return
				}
				writeError(w, http.StatusBadRequest, "invalid_request", "could not read request body")
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			var peek struct {
				Code json.RawMessage `json:"code"`
			}
			if json.Unmarshal(body, &peek) == nil && len(peek.Code) > 0 && !bytes.Equal(peek.Code, []byte("null")) {
				if err := json.Unmarshal(peek.Code, &code); err != nil || code == "" || len(code) > maxCodeLen {
					writeError(w, http.StatusBadRequest, "invalid_code", `field "code" must be a 6-digit code or a recovery code`)
					return
				}
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		if err := svc.StepUp(ctx, ClaimsFrom(r.Context()), strings.TrimSpace(code)); err != nil {
			writeMFAError(w, r, logger, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// confineUnenrolled refuses, with 403 mfa_enrolment_required, the tokens
// auth.Service.RequiresMFA names (a role that must use a second factor, a
// login without one). It wraps every authenticated route but the few a
// user needs to enrol (see addRoutes: enrol), so such a session can set up
// a factor and do nothing else.
func confineUnenrolled(svc *auth.Service, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := ClaimsFrom(r.Context()); c != nil && svc.RequiresMFA(c) {
			writeError(w, http.StatusForbidden, "mfa_enrolment_required",
				"your role requires a second factor: set one up on your account page (TOTP or a passkey), then sign in again with it")
			return
		}
		next.ServeHTTP(w, r)
	})
}
