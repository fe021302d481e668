package server

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/clientip"
	"github.com/jwtgate/jwtgate/token"
)

// forwardAuth is requireAuth for /auth/verify, with one addition: with
// ?redirect=1 in the URL the proxy calls (Traefik forwardAuth, Caddy
// forward_auth, which pass non-2xx answers to the browser), a browser
// navigation without a valid token gets a 302 to the login page, carrying
// the page it wanted as return_to when that is on an allowed host. API
// clients, and nginx's auth_request (which takes only 2xx, 401 and 403),
// get 401 as before; the shipped nginx config sends a 401 back here with
// ?redirect=1 through error_page.
func forwardAuth(svc *auth.Service, ck cookies, rt returnTargets, issuer string, ips *clientip.Resolver) func(http.Handler) http.Handler {
	authed := requireToken(svc, ck, ips, true)
	return func(next http.Handler) http.Handler {
		withAuth := authed(next)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.RawQuery == "" || r.URL.Query().Get("redirect") != "1" || !wantsPage(r, ips.FromTrustedProxy(r)) {
				withAuth.ServeHTTP(w, r)
				return
			}
			// Let requireAuth decide; catch its 401.
			rec := &statusOnly{ResponseWriter: w}
			withAuth.ServeHTTP(rec, r)
			if rec.status != http.StatusUnauthorized {
				return
			}
			// The page it wanted: rd=URL when the proxy's configuration
			// passes it, else what a trusted proxy's X-Forwarded-* say.
			// loginURL keeps it only on an allowed host, so whoever wrote it
			// can do no more than a link to /login?return_to= could.
			target := r.URL.Query().Get("rd")
			if target == "" {
				target = forwardedURL(r, ips.FromTrustedProxy(r))
			}
			w.Header().Del("WWW-Authenticate")
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, rt.loginURL(issuer, target), http.StatusFound)
		})
	}
}

// statusOnly passes everything through except a 401, which it holds back
// (no header written, no body) so the caller can answer differently.
type statusOnly struct {
	http.ResponseWriter
	status int
}

func (s *statusOnly) WriteHeader(code int) {
	s.status = code
	if code != http.StatusUnauthorized {
		s.ResponseWriter.WriteHeader(code)
	}
}

func (s *statusOnly) Write(b []byte) (int, error) {
	if s.status == http.StatusUnauthorized {
		return len(b), nil
	}
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

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
//
// X-Auth-Amr lists the login's methods (RFC 8176, comma-separated like
// the roles: "pwd,otp,mfa"; "none" for a token without amr). With ?mfa=1 in the URL the proxy calls, a
// token whose login used no second factor is refused: 401 with the RFC
// 9470 challenge error="insufficient_user_authentication" (a browser with
// ?redirect=1 goes to the login page, to sign in with the factor). A
// session --require-mfa-for confines to enrolment is refused so on every
// route.
func handleForwardAuth(svc *auth.Service) http.Handler { return forwardAuthHandler{svc: svc} }

// forwardAuthHandler is a claimsHandler: requireAuth hands it the claims.
type forwardAuthHandler struct{ svc *auth.Service }

func (h forwardAuthHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.serveClaims(w, r, ClaimsFrom(r.Context()))
}

func (fa forwardAuthHandler) serveClaims(w http.ResponseWriter, r *http.Request, c *token.Claims) {
	if (queryFlag(r.URL.RawQuery, "mfa") && !c.HasAMR(auth.AMRMFA)) || fa.svc.RequiresMFA(c) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="jwtgate", error="insufficient_user_authentication", error_description="a second factor is required"`)
		w.Header()["Cache-Control"] = noStore
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	h := w.Header()
	// Direct assignment with canonical keys: this is the hottest route
	// behind a proxy.
	v := &forwardedIdentity{
		user:  [1]string{c.Name},
		id:    [1]string{strconv.FormatInt(c.UserID, 10)},
		roles: [1]string{strings.Join(c.Roles, ",")},
		amr:   [1]string{amrHeader(c.AMR)},
	}
	h["X-Auth-User"] = v.user[:]
	h["X-Auth-User-Id"] = v.id[:]
	h["X-Auth-Roles"] = v.roles[:]
	h["X-Auth-Amr"] = v.amr[:]
	h["Cache-Control"] = noStore
	// Proxies ignore the body; it repeats the identity for people with curl.
	writeIdentity(w, c.Name, c.UserID, c.Roles, 0, false)
}

// forwardedIdentity backs the identity headers' value slices with one
// allocation.
type forwardedIdentity struct{ user, id, roles, amr [1]string }

// amrHeader is the X-Auth-Amr value: never empty ("none" for a token
// without amr, minted by the tutorial app), so a proxy that copies only
// headers present in our answer still replaces one a client sent.
func amrHeader(amr []string) string {
	if len(amr) == 0 {
		return "none"
	}
	return strings.Join(amr, ",")
}

// queryFlag reports whether the raw query has name=1, without parsing it
// into a map (this runs on every forward-auth request).
func queryFlag(raw, name string) bool {
	for raw != "" {
		var part string
		part, raw, _ = strings.Cut(raw, "&")
		if k, v, ok := strings.Cut(part, "="); ok && k == name && v == "1" {
			return true
		}
	}
	return false
}

var noStore = []string{"no-store"}
