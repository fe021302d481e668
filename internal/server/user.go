package server

import "net/http"

type userResponse struct {
	Name  string   `json:"name"`
	ID    int64    `json:"id"`
	Roles []string `json:"roles"`
	// Exp is when the access token expires (unix seconds): the home page
	// refreshes its session shortly before.
	Exp int64 `json:"exp"`
}

// handleUser is the tutorial's GET /user: who the token says you are.
func handleUser() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := ClaimsFrom(r.Context())
		roles := c.Roles
		if roles == nil {
			roles = []string{}
		}
		w.Header().Set("Cache-Control", "no-store")
		var exp int64
		if c.ExpiresAt != nil {
			exp = c.ExpiresAt.Unix()
		}
		writeJSON(w, http.StatusOK, userResponse{Name: c.Name, ID: c.UserID, Roles: roles, Exp: exp})
	})
}

// handleNotFound answers authenticated requests for unknown paths.
func handleNotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such route")
	})
}
