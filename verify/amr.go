package verify

import (
	"net/http"
	"strings"
)

// RequireAMR returns middleware, for routes behind a Verifier's Handler,
// that lets a request through only when its token's login used every one
// of methods (RFC 8176 amr values): RequireAMR("mfa") demands a second
// factor. Other requests get 401 with the RFC 9470 step-up challenge
// `Bearer realm="jwtgate", error="insufficient_user_authentication"`: the
// user must sign in again, with the factor. A request that did not pass
// Handler (no claims in its context) gets a plain 401.
func RequireAMR(methods ...string) func(http.Handler) http.Handler {
	challenge := `Bearer realm="jwtgate", error="insufficient_user_authentication", error_description="sign in with: ` +
		strings.Join(methods, " ") + `"`
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, ok := ClaimsFrom(r.Context())
			if !ok {
				w.Header().Set("WWW-Authenticate", `Bearer realm="jwtgate"`)
				w.Header().Set("Cache-Control", "no-store")
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			for _, m := range methods {
				if !c.HasAMR(m) {
					w.Header().Set("WWW-Authenticate", challenge)
					w.Header().Set("Cache-Control", "no-store")
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
			}
			next.ServeHTTP(w, r)
		})
	}
}
