package server

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/accounts"
	"github.com/jwtgate/jwtgate/internal/auth"
)

type adminUserJSON struct {
	ID            int64    `json:"id"`
	Name          string   `json:"name"`
	Roles         []string `json:"roles"`
	Disabled      bool     `json:"disabled"`
	Email         *string  `json:"email"` // null when the user has none
	EmailVerified bool     `json:"email_verified"`
	// Factors are the user's second factors (zero when none).
	Factors   adminFactorsJSON `json:"factors"`
	CreatedAt time.Time        `json:"created_at"`
	UpdatedAt time.Time        `json:"updated_at"`
}

// adminFactorsJSON is a user's second factors, as admins see them.
type adminFactorsJSON struct {
	TOTP          bool `json:"totp"`
	RecoveryCodes int  `json:"recovery_codes"`
	Passkeys      int  `json:"passkeys"`
}

func toAdminUser(u *jwtgate.User) adminUserJSON {
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	return adminUserJSON{ID: u.ID, Name: u.Name, Roles: roles, Disabled: u.Disabled, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// handleListUsers answers one page of users in id order, searched and
// paged by the store: ?q= keeps names containing it (compared as names
// are, so case and width do not matter); ?limit= (default 100, at most
// 1000); ?cursor= (the next_cursor of the previous page: a seek however
// deep the page) or ?offset= (skip that many, for jumping to a page).
// The answer is {"users", "total", "next_cursor"}, next_cursor only when
// more users follow.
func handleListUsers(logger *slog.Logger, svc *auth.Service, acc *accounts.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		uq := jwtgate.UserQuery{Match: q.Get("q"), Limit: 100}
		for name, dst := range map[string]*int{"limit": &uq.Limit, "offset": &uq.Offset} {
			if v := q.Get(name); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 || (name == "limit" && (n < 1 || n > jwtgate.MaxUserPage)) {
					writeError(w, http.StatusBadRequest, "invalid_request", name+" is out of range")
					return
				}
				*dst = n
			}
		}
		if c := q.Get("cursor"); c != "" {
			after, ok := parseUserCursor(c)
			if !ok {
				writeError(w, http.StatusBadRequest, "invalid_request", "cursor is not one this server gave")
				return
			}
			if uq.Offset != 0 {
				writeError(w, http.StatusBadRequest, "invalid_request", "give cursor or offset, not both")
				return
			}
			uq.After = after
		}
		page, err := svc.SearchUsers(r.Context(), uq)
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		var emails map[int64]jwtgate.UserEmail
		ids := make([]int64, len(page.Users))
		for i := range page.Users {
			ids[i] = page.Users[i].ID
		}
		var factors map[int64]jwtgate.Factors
		if len(ids) > 0 {
			if factors, err = svc.UserFactors(r.Context(), ids); err != nil {
				writeServiceError(w, logger, err)
				return
			}
		}
		if acc != nil && len(page.Users) > 0 {
			if emails, err = acc.Emails(r.Context(), ids); err != nil {
				writeServiceError(w, logger, err)
				return
			}
		}
		out := userListJSON{Users: make([]adminUserJSON, 0, len(page.Users)), Total: page.Total}
		for i := range page.Users {
			u := toAdminUser(&page.Users[i])
			if e, ok := emails[u.ID]; ok {
				u.Email, u.EmailVerified = &e.Address, e.Verified()
			}
			if f, ok := factors[u.ID]; ok {
				u.Factors = adminFactorsJSON{TOTP: f.TOTP, RecoveryCodes: f.RecoveryCodes, Passkeys: f.Passkeys}
			}
			out.Users = append(out.Users, u)
		}
		if page.More {
			out.NextCursor = userCursor(page.Users[len(page.Users)-1].ID)
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, out)
	})
}

type userListJSON struct {
	Users      []adminUserJSON `json:"users"`
	Total      int             `json:"total"`
	NextCursor string          `json:"next_cursor,omitempty"`
}

// userCursor makes the opaque cursor that continues a user list after id.
// Opaque, so that the server may change what it pages by: clients only
// hand it back.
func userCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("u" + strconv.FormatInt(id, 10)))
}

// parseUserCursor reads userCursor's output.
func parseUserCursor(c string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) < 2 || b[0] != 'u' {
		return 0, false
	}
	id, err := strconv.ParseInt(string(b[1:]), 10, 64)
	return id, err == nil && id >= 0
}

type createUserRequest struct {
	Name     *string  `json:"name"`
	Password *string  `json:"password"`
	Roles    []string `json:"roles"`
}

// handleCreateUser creates a user: 201 with the user, 409 if the name is
// taken, 400 naming the invalid field.
func handleCreateUser(logger *slog.Logger, svc *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req createUserRequest
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
		u, err := svc.CreateUser(ctx, *req.Name, *req.Password, req.Roles)
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		writeJSON(w, http.StatusCreated, toAdminUser(u))
	})
}

// isSelf reports whether the user named in the path is the caller, compared
// as the store compares names.
func isSelf(r *http.Request) bool {
	self := ClaimsFrom(r.Context())
	return self != nil && jwtgate.NameKey(r.PathValue("name")) == jwtgate.NameKey(self.Name)
}

// refuseSelf answers 409 "self" with msg. Admins may not disable, delete
// or demote themselves: the last admin locking themselves out would need
// the CLI to recover.
func refuseSelf(w http.ResponseWriter, msg string) {
	writeError(w, http.StatusConflict, "self", msg)
}

// answerChange answers 204 for a change that succeeded, else the error.
func answerChange(w http.ResponseWriter, logger *slog.Logger, err error) {
	if err != nil {
		writeServiceError(w, logger, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// handleDisableUser disables the user named in the path, ending every one
// of their sessions: 204, 404 if unknown, 409 "self" for oneself.
func handleDisableUser(logger *slog.Logger, svc *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isSelf(r) {
			refuseSelf(w, "you cannot disable your own account")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		answerChange(w, logger, svc.SetDisabled(ctx, r.PathValue("name"), true))
	})
}

// handleEnableUser enables the user named in the path: 204, 404 if unknown.
func handleEnableUser(logger *slog.Logger, svc *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		answerChange(w, logger, svc.SetDisabled(ctx, r.PathValue("name"), false))
	})
}

// handleDeleteUser deletes the user named in the path: 204, 404 if
// unknown, 409 "self" for oneself.
func handleDeleteUser(logger *slog.Logger, svc *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isSelf(r) {
			refuseSelf(w, "you cannot delete your own account")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		answerChange(w, logger, svc.DeleteUser(ctx, r.PathValue("name")))
	})
}

// handleSetUserRoles replaces the roles of the user named in the path
// ({"roles": [...]}, [] for none); losing a role ends the user's sessions
// (see auth.Service.SetRoles). 409 "self" when admins would take the admin
// role from themselves, which could leave no admin at all.
func handleSetUserRoles(logger *slog.Logger, svc *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Roles *[]string `json:"roles"`
		}
		if rerr := decodeJSON(r, &req); rerr != nil {
			rerr.write(w)
			return
		}
		if req.Roles == nil {
			writeError(w, http.StatusBadRequest, "invalid_request", `field "roles" is required (an array, [] for none)`)
			return
		}
		if isSelf(r) && !slices.Contains(*req.Roles, jwtgate.RoleAdmin) {
			refuseSelf(w, "you cannot remove your own admin role")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		answerChange(w, logger, svc.SetRoles(ctx, r.PathValue("name"), *req.Roles))
	})
}

// handleSetUserPassword resets the password of the user named in the path
// ({"password": ...}) and ends their sessions. Admins get 409 "self" for
// their own account: a reset needs no current password, so a stolen admin
// session could otherwise take the account over; POST /user/password asks
// for the current one.
func handleSetUserPassword(logger *slog.Logger, svc *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if isSelf(r) {
			refuseSelf(w, "you cannot reset your own password here; change it with POST /user/password, which asks for the current one")
			return
		}
		var req struct {
			Password *string `json:"password"`
		}
		if rerr := decodeJSON(r, &req); rerr != nil {
			rerr.write(w)
			return
		}
		if req.Password == nil {
			writeError(w, http.StatusBadRequest, "invalid_request", `field "password" is required`)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		answerChange(w, logger, svc.SetPassword(ctx, r.PathValue("name"), *req.Password))
	})
}

// handleUserSessions lists a user's live sessions (admin).
func handleUserSessions(logger *slog.Logger, svc *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		list, err := svc.UserSessions(ctx, r.PathValue("name"))
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		out := make([]sessionJSON, 0, len(list))
		for _, s := range list {
			out = append(out, sessionJSON{ID: s.ID, CreatedAt: s.CreatedAt, LastUsedAt: s.LastUsedAt, ExpiresAt: s.ExpiresAt, IP: s.IP, UserAgent: s.UserAgent})
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, map[string]any{"sessions": out})
	})
}

type setEmailRequest struct {
	Email    *string `json:"email"` // null or "" removes the address
	Verified bool    `json:"verified"`
}

// handleSetUserEmail sets or removes a user's address (PUT
// /admin/users/{name}/email {"email","verified"}); unverified, the user
// gets a link to verify it when email is configured.
func handleSetUserEmail(logger *slog.Logger, acc *accounts.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req setEmailRequest
		if err := decodeJSON(r, &req); err != nil {
			err.write(w)
			return
		}
		addr := ""
		if req.Email != nil {
			addr = *req.Email
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		e, err := acc.SetEmail(ctx, ClaimsFrom(r.Context()).UserID, r.PathValue("name"), addr, req.Verified)
		if err != nil {
			writeAccountsError(w, logger, err)
			return
		}
		if e == nil {
			writeJSON(w, http.StatusOK, map[string]any{"email": nil, "email_verified": false})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"email": e.Address, "email_verified": e.Verified()})
	})
}

// handleResetFactors is DELETE /admin/users/{name}/factors: removes the
// user's TOTP, recovery codes and passkeys (a lost phone), audited, and
// ends the user's sessions.
func handleResetFactors(logger *slog.Logger, svc *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		had, err := svc.ResetFactors(ctx, r.PathValue("name"))
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]bool{"had_factors": had})
	})
}
