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
		// Direct assignment with canonical keys: this is the hottest route
		// behind a proxy.
		h["X-Auth-User"] = []string{c.Name}
		h["X-Auth-User-Id"] = []string{strconv.FormatInt(c.UserID, 10)}
		h["X-Auth-Roles"] = []string{strings.Join(c.Roles, ",")}
		h["Cache-Control"] = noStore
		// Proxies ignore the body; it repeats the identity for people with curl.
		writeJSON(w, http.StatusOK, identity{Name: c.Name, ID: c.UserID, Roles: nonNil(c.Roles)})
	})
}

// identity is the forward-auth body.
type identity struct {
	Name  string   `json:"name"`
	ID    int64    `json:"id"`
	Roles []string `json:"roles"`
}

var noStore = []string{"no-store"}

// nonNil returns s, or an empty slice for nil, so JSON shows [] not null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
