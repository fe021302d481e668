package server

import (
	"net/http"

	"github.com/jwtgate/jwtgate/token"
)

// handleUser is the tutorial's GET /user: who the token says you are,
// and when the token expires ("exp", unix seconds: the home page refreshes
// its session shortly before).
func handleUser() http.Handler { return userHandler{} }

// userHandler is a claimsHandler: requireAuth hands it the claims.
type userHandler struct{}

func (h userHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.serveClaims(w, r, ClaimsFrom(r.Context()))
}

func (userHandler) serveClaims(w http.ResponseWriter, _ *http.Request, c *token.Claims) {
	w.Header()["Cache-Control"] = noStore
	var exp int64
	if c.ExpiresAt != nil {
		exp = c.ExpiresAt.Unix()
	}
	writeIdentity(w, c.Name, c.UserID, c.Roles, exp, true)
}

// handleNotFound answers authenticated requests for unknown paths.
func handleNotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "not_found", "no such route")
	})
}
