package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/accounts"
	"github.com/jwtgate/jwtgate/internal/server/web"
)

// accountRoutes builds the account flows' handlers over acc. A server
// built without them (tests of other parts) answers their routes 404, as
// a server with signup closed and no email would, so the route table is
// the same either way.
func accountRoutes(acc *accounts.Service, logger *slog.Logger) func(func(*slog.Logger, *accounts.Service) http.Handler) http.Handler {
	return func(h func(*slog.Logger, *accounts.Service) http.Handler) http.Handler {
		if acc == nil {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeError(w, http.StatusNotFound, "not_found", "this server does not offer self-service accounts")
			})
		}
		return h(logger, acc)
	}
}

// accountsConfig tells the pages which account flows acc offers.
func accountsConfig(acc *accounts.Service) web.Accounts {
	if acc == nil {
		return web.Accounts{Signup: string(accounts.SignupClosed)}
	}
	return web.Accounts{Signup: string(acc.Mode()), Email: acc.EmailEnabled(), RequireEmail: acc.RequireVerified()}
}

// writeAccountsError maps the account flows' own errors, then the domain's.
func writeAccountsError(w http.ResponseWriter, logger *slog.Logger, err error) {
	switch {
	case errors.Is(err, accounts.ErrSignupClosed):
		writeError(w, http.StatusNotFound, "not_found", "signup is closed on this server")
	case errors.Is(err, accounts.ErrNoEmail):
		writeError(w, http.StatusNotImplemented, "email_disabled", "this needs email, and no SMTP server is configured")
	case errors.Is(err, accounts.ErrInvalidToken):
		writeError(w, http.StatusBadRequest, "invalid_token", accounts.ErrInvalidToken.Error())
	case errors.Is(err, jwtgate.ErrConflict):
		msg := err.Error()
		if i := strings.LastIndex(msg, jwtgate.ErrConflict.Error()+": "); i >= 0 {
			msg = msg[i+len(jwtgate.ErrConflict.Error())+2:]
		} else {
			msg = "already exists"
		}
		writeError(w, http.StatusConflict, "conflict", msg)
	default:
		writeServiceError(w, logger, err)
	}
}

// withJSON builds a handler that decodes a JSON body into a Req (a clear
// 4xx if it cannot) and calls f with a context bounded by requestTimeout.
func withJSON[Req any](f func(ctx context.Context, w http.ResponseWriter, r *http.Request, req *Req)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req Req
		if err := decodeJSON(r, &req); err != nil {
			err.write(w)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		f(ctx, w, r, &req)
	})
}

type signupRequest struct {
	Name       *string `json:"name"`
	Password   *string `json:"password"`
	Email      string  `json:"email"`
	Invitation string  `json:"invitation"`
}

// handleSignup creates an account (POST /signup). With signup closed the
// route answers 404, as if it did not exist.
func handleSignup(logger *slog.Logger, acc *accounts.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if acc.Mode() == accounts.SignupClosed {
			writeAccountsError(w, logger, accounts.ErrSignupClosed)
			return
		}
		var req signupRequest
		if err := decodeJSON(r, &req); err != nil {
			err.write(w)
			return
		}
		if req.Name == nil || req.Password == nil {
			badRequest("name and password are required").write(w)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		res, err := acc.Signup(ctx, accounts.SignupInput{Name: *req.Name, Password: *req.Password, Email: req.Email, Invitation: req.Invitation})
		if err != nil {
			writeAccountsError(w, logger, err)
			return
		}
		out := map[string]any{"name": res.User.Name, "sub": strconv.FormatInt(res.User.ID, 10), "verification_sent": res.VerificationSent}
		if res.Email != nil {
			out["email"], out["email_verified"] = res.Email.Address, res.Email.Verified()
		}
		writeJSON(w, http.StatusCreated, out)
	})
}

type tokenRequest struct {
	Token      string `json:"token"`
	Invitation string `json:"invitation"`
	Password   string `json:"password"`
}

// handleCheckInvitation tells the signup page whom an invitation is for
// (POST /signup/invitation {"invitation"}), without using it. The token
// travels in a body, never a URL.
func handleCheckInvitation(logger *slog.Logger, acc *accounts.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if acc.Mode() != accounts.SignupInvite {
			writeAccountsError(w, logger, accounts.ErrSignupClosed)
			return
		}
		var req tokenRequest
		if err := decodeJSON(r, &req); err != nil {
			err.write(w)
			return
		}
		inv, err := acc.CheckInvitation(r.Context(), req.Invitation)
		if err != nil {
			writeAccountsError(w, logger, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"email": inv.Email, "roles": nonNil(inv.Roles), "expires_at": inv.ExpiresAt})
	})
}

// handleVerifyEmail uses a verification link (POST /email/verify {"token"}).
func handleVerifyEmail(logger *slog.Logger, acc *accounts.Service) http.Handler {
	return withJSON(func(ctx context.Context, w http.ResponseWriter, r *http.Request, req *tokenRequest) {
		u, err := acc.VerifyEmail(ctx, req.Token)
		if err != nil {
			writeAccountsError(w, logger, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"name": u.Name, "email_verified": true})
	})
}

type forgotRequest struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

// handleForgotPassword accepts a reset request (POST /password/forgot
// {"email"} or {"name"}): 202 and the same body whether or not the account
// exists; the look-up and email happen after the answer.
func handleForgotPassword(logger *slog.Logger, acc *accounts.Service) http.Handler {
	return withJSON(func(ctx context.Context, w http.ResponseWriter, r *http.Request, req *forgotRequest) {
		ident := req.Email
		if ident == "" {
			ident = req.Name
		}
		if err := acc.ForgotPassword(ctx, ident); err != nil {
			writeAccountsError(w, logger, err)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "accepted",
			"message": "if an account with an email address matches, a reset link is on its way"})
	})
}

// handleResetPassword uses a reset link (POST /password/reset
// {"token","password"}): 204, every session of the user ended.
func handleResetPassword(logger *slog.Logger, acc *accounts.Service) http.Handler {
	return withJSON(func(ctx context.Context, w http.ResponseWriter, r *http.Request, req *tokenRequest) {
		if err := acc.ResetPassword(ctx, req.Token, req.Password); err != nil {
			writeAccountsError(w, logger, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleGetEmail answers the caller's address (GET /user/email).
func handleGetEmail(logger *slog.Logger, acc *accounts.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e, err := acc.Email(r.Context(), ClaimsFrom(r.Context()).UserID)
		if errors.Is(err, jwtgate.ErrNotFound) {
			writeJSON(w, http.StatusOK, map[string]any{"email": nil, "email_verified": false})
			return
		}
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"email": e.Address, "email_verified": e.Verified()})
	})
}

// handleChangeEmail starts a change of the caller's address (POST
// /user/email {"email"}): 202, a link goes to the new address.
func handleChangeEmail(logger *slog.Logger, acc *accounts.Service) http.Handler {
	return withJSON(func(ctx context.Context, w http.ResponseWriter, r *http.Request, req *forgotRequest) {
		if err := acc.ChangeEmail(ctx, ClaimsFrom(r.Context()).UserID, req.Email); err != nil {
			writeAccountsError(w, logger, err)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "sent", "message": "a confirmation link was sent to the new address"})
	})
}

// handleResendVerification sends the caller a new verification link
// (POST /user/email/resend).
func handleResendVerification(logger *slog.Logger, acc *accounts.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		if err := acc.ResendVerification(ctx, ClaimsFrom(r.Context()).UserID); err != nil {
			writeAccountsError(w, logger, err)
			return
		}
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "sent", "message": "a new confirmation link was sent"})
	})
}

type inviteRequest struct {
	Email string   `json:"email"`
	Roles []string `json:"roles"`
	TTL   string   `json:"ttl"` // Go duration; empty: the default
}

type invitationJSON struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Roles     []string  `json:"roles"`
	CreatedBy int64     `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// Link is set only when the server cannot email it: the admin hands it over.
	Link string `json:"link,omitempty"`
}

func toInvitationJSON(inv *accounts.Invitation) invitationJSON {
	return invitationJSON{ID: inv.ID, Email: inv.Email, Roles: nonNil(inv.Roles), CreatedBy: inv.CreatedBy, CreatedAt: inv.CreatedAt, ExpiresAt: inv.ExpiresAt}
}

// handleInvite creates an invitation (POST /admin/invitations).
func handleInvite(logger *slog.Logger, acc *accounts.Service) http.Handler {
	return withJSON(func(ctx context.Context, w http.ResponseWriter, r *http.Request, req *inviteRequest) {
		var ttl time.Duration
		if req.TTL != "" {
			d, err := time.ParseDuration(req.TTL)
			if err != nil || d <= 0 {
				badRequest("ttl must be a positive Go duration such as 72h").write(w)
				return
			}
			ttl = d
		}
		inv, link, err := acc.Invite(ctx, ClaimsFrom(r.Context()).UserID, req.Email, req.Roles, ttl)
		if err != nil {
			writeAccountsError(w, logger, err)
			return
		}
		out := toInvitationJSON(inv)
		if !acc.EmailEnabled() {
			out.Link = link
		}
		writeJSON(w, http.StatusCreated, out)
	})
}

// handleListInvitations lists open invitations (GET /admin/invitations).
func handleListInvitations(logger *slog.Logger, acc *accounts.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		list, err := acc.Invitations(r.Context())
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		out := make([]invitationJSON, len(list))
		for i := range list {
			out[i] = toInvitationJSON(&list[i])
		}
		writeJSON(w, http.StatusOK, map[string]any{"invitations": out})
	})
}

// handleRevokeInvitation voids an open invitation (DELETE /admin/invitations/{id}).
func handleRevokeInvitation(logger *slog.Logger, acc *accounts.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil || id <= 0 {
			badRequest("invitation id must be a positive number").write(w)
			return
		}
		if err := acc.RevokeInvitation(r.Context(), ClaimsFrom(r.Context()).UserID, id); err != nil {
			writeAccountsError(w, logger, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
