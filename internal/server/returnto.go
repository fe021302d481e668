package server

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// returnTargets decides where the login page may send a browser back to
// after logging in: only http(s) URLs on the issuer's own host or on hosts
// the operator listed (--forward-auth-hosts). Anything else would make
// jwtgate an open redirect (a phishing link "log in at the real jwtgate,
// land on the attacker's page").
type returnTargets struct {
	hosts []string // lower-case host[:port] values
}

func newReturnTargets(issuer string, extra []string) returnTargets {
	var hosts []string
	if u, err := url.Parse(issuer); err == nil && u.Host != "" {
		hosts = append(hosts, strings.ToLower(u.Host))
	}
	for _, h := range extra {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			hosts = append(hosts, h)
		}
	}
	return returnTargets{hosts: hosts}
}

// allowed reports whether raw is a URL the login page may return to.
func (rt returnTargets) allowed(raw string) bool {
	if raw == "" || len(raw) > 2048 {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || u.Opaque != "" {
		return false
	}
	return slices.Contains(rt.hosts, strings.ToLower(u.Host))
}

// loginURL is the login page, with return_to when target is allowed.
func (rt returnTargets) loginURL(issuer, target string) string {
	login := strings.TrimRight(issuer, "/") + "/login"
	if rt.allowed(target) {
		login += "?return_to=" + url.QueryEscape(target)
	}
	return login
}

// handleLoginPage serves the login page, first dropping a return_to the
// page must not follow (302 to the bare /login), so the page's script can
// trust whatever return_to reaches it.
func handleLoginPage(rt returnTargets) http.Handler {
	page := handlePage("login.html")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v, ok := r.URL.Query()["return_to"]; ok && (len(v) != 1 || !rt.allowed(v[0])) {
			http.Redirect(w, r, "/login", http.StatusFound)
			return
		}
		page.ServeHTTP(w, r)
	})
}

// forwardedURL rebuilds the URL the browser asked the proxy for from the
// X-Forwarded-Proto/-Host/-Uri headers Traefik and Caddy send, but only
// when the request comes from a trusted proxy; otherwise "".
func forwardedURL(r *http.Request, fromProxy bool) string {
	if !fromProxy {
		return ""
	}
	proto, host, uri := r.Header.Get("X-Forwarded-Proto"), r.Header.Get("X-Forwarded-Host"), r.Header.Get("X-Forwarded-Uri")
	if (proto != "http" && proto != "https") || host == "" || !strings.HasPrefix(uri, "/") || strings.HasPrefix(uri, "//") {
		return ""
	}
	return proto + "://" + host + uri
}

// wantsPage reports whether a request is a browser navigation (GET or HEAD
// asking for HTML), which a login redirect helps; API clients get 401.
func wantsPage(r *http.Request) bool {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		return false
	}
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "text/html")
}
