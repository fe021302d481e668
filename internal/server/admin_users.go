package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
)

type adminUserJSON struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Roles     []string  `json:"roles"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func toAdminUser(u *jwtgate.User) adminUserJSON {
	roles := u.Roles
	if roles == nil {
		roles = []string{}
	}
	return adminUserJSON{ID: u.ID, Name: u.Name, Roles: roles, Disabled: u.Disabled, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// handleListUsers lists users: ?q= filters by a case-insensitive substring
// of the name; ?limit= (default 100, at most 1000) and ?offset= page.
func handleListUsers(logger *slog.Logger, svc *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		limit, offset := 100, 0
		for name, dst := range map[string]*int{"limit": &limit, "offset": &offset} {
			if v := q.Get(name); v != "" {
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 || (name == "limit" && (n < 1 || n > 1000)) {
					writeError(w, http.StatusBadRequest, "invalid_request", name+" is out of range")
					return
				}
				*dst = n
			}
		}
		users, err := svc.ListUsers(r.Context())
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		needle := strings.ToLower(q.Get("q"))
		out := []adminUserJSON{}
		total := 0
		for i := range users {
			if needle != "" && !strings.Contains(strings.ToLower(users[i].Name), needle) {
				continue
			}
			if total >= offset && len(out) < limit {
				out = append(out, toAdminUser(&users[i]))
			}
			total++
		}
		w.Header().Set("Cache-Control", "no-store")
		writeJSON(w, http.StatusOK, map[string]any{"users": out, "total": total})
	})
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

// handleUserAction runs one action on the user named in the path and
// answers 204. Admins may not disable or delete themselves: the last admin
// locking themselves out would need the CLI to recover.
func handleUserAction(logger *slog.Logger, svc *auth.Service, action string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := r.PathValue("name")
		self := ClaimsFrom(r.Context())
		if (action == "disable" || action == "delete") && jwtgate.NameKey(name) == jwtgate.NameKey(self.Name) {
			writeError(w, http.StatusConflict, "self", "you cannot "+action+" your own account")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		var err error
		switch action {
		case "disable", "enable":
			err = svc.SetDisabled(ctx, name, action == "disable")
		case "delete":
			err = svc.DeleteUser(ctx, name)
		case "roles":
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
			// Taking admin from yourself could leave no admin at all.
			if jwtgate.NameKey(name) == jwtgate.NameKey(self.Name) && !slices.Contains(*req.Roles, jwtgate.RoleAdmin) {
				writeError(w, http.StatusConflict, "self", "you cannot remove your own admin role")
				return
			}
			err = svc.SetRoles(ctx, name, *req.Roles)
		case "password":
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
			err = svc.SetPassword(ctx, name, *req.Password)
		default:
			err = errors.New("server: unknown user action " + action)
		}
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
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
