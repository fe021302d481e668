package server

import (
	"net/http"
	"strconv"
	"strings"
)

// handleForwardAuth answers a reverse proxy's sub-request (nginx
// auth_request, Traefik forwardAuth, Caddy forward_auth): it runs behind
// requireAuth, so reaching it means the token (Bearer or session cookie) is
// valid and not revoked. 200 carries who it is in headers the proxy copies
// to the upstream (and, for people with curl, in a small JSON body);
// requireAuth answers 401 otherwise. Any method is
// accepted, because nginx sub-requests keep the original request's method.
//
// Names cannot hold control characters (jwtgate.ValidateName), so they are
// safe in a header value.
func handleForwardAuth() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := ClaimsFrom(r.Context())
		h := w.Header()
		h.Set("X-Auth-User", c.Name)
		h.Set("X-Auth-User-Id", strconv.FormatInt(c.UserID, 10))
		h.Set("X-Auth-Roles", strings.Join(c.Roles, ","))
		h.Set("Cache-Control", "no-store")
		roles := c.Roles
		if roles == nil {
			roles = []string{}
		}
		// Proxies ignore the body; it repeats the identity for people with curl.
		writeJSON(w, http.StatusOK, map[string]any{"name": c.Name, "id": c.UserID, "roles": roles})
	})
}
