package server

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// returnTargets decides where the login page may send a browser back to
// after logging in: only http(s) URLs on the issuer's own host, on hosts
// the operator listed (--forward-auth-hosts), or on hosts under the cookie
// domain (--cookie-domain, which the session cookie reaches anyway).
// Anything else would make jwtgate an open redirect (a phishing link "log in
// at the real jwtgate, land on the attacker's page").
type returnTargets struct {
	hosts  []string // lower-case host[:port] values, matched exactly
	domain string   // lower-case; the domain itself and every host under it, any port
}

func newReturnTargets(issuer string, extra []string, cookieDomain string) returnTargets {
	var hosts []string
	if u, err := url.Parse(issuer); err == nil && u.Host != "" {
		hosts = append(hosts, strings.ToLower(u.Host))
	}
	for _, h := range extra {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			hosts = append(hosts, h)
		}
	}
	return returnTargets{hosts: hosts, domain: strings.ToLower(strings.TrimPrefix(cookieDomain, "."))}
}

// maxReturnTarget bounds a return URL; a real page's URL is far shorter.
const maxReturnTarget = 2048

// allowed reports whether raw is a URL the login page may return to.
//
// A browser does not parse URLs as Go does (the WHATWG URL standard: "\" is
// "/" in http(s) URLs, tabs and newlines are dropped anywhere, leading
// slashes after the scheme are skipped, hosts are percent-decoded and
// IDNA-mapped). So rather than trust Go's reading alone, allowed accepts
// only URLs that every reader splits the same way: printable ASCII without
// "\", the scheme followed by exactly "//", and an authority of host
// characters only (no userinfo, no percent escapes), equal to the host Go
// finds. FuzzReturnTarget checks the result against a browser-like reading.
func (rt returnTargets) allowed(raw string) bool {
	if raw == "" || len(raw) > maxReturnTarget {
		return false
	}
	for i := 0; i < len(raw); i++ {
		if b := raw[i]; b <= ' ' || b >= 0x7f || b == '\\' {
			return false
		}
	}
	lower := strings.ToLower(raw)
	var rest string
	switch {
	case strings.HasPrefix(lower, "https://"):
		rest = raw[len("https://"):]
	case strings.HasPrefix(lower, "http://"):
		rest = raw[len("http://"):]
	default:
		return false
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	if authority == "" || strings.Trim(authority, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]") != "" {
		return false
	}
	u, err := url.Parse(raw)
	if err != nil || u.User != nil || u.Opaque != "" || u.Host != authority {
		return false
	}
	host := strings.ToLower(u.Host)
	if slices.Contains(rt.hosts, host) {
		return true
	}
	name := strings.ToLower(u.Hostname())
	if rt.domain == "" || strings.HasPrefix(name, ".") || strings.Contains(name, "..") {
		return false
	}
	return name == rt.domain || strings.HasSuffix(name, "."+rt.domain)
}

// loginURL is the login page, with return_to when target is allowed.
func (rt returnTargets) loginURL(issuer, target string) string {
	login := strings.TrimRight(issuer, "/") + "/login"
	if rt.allowed(target) {
		login += "?return_to=" + url.QueryEscape(target)
	}
	return login
}

// handleLoginPage serves the login page, first sending the browser to the
// bare /login when the query holds a return_to the page must not follow,
// so the page's script can trust whatever return_to reaches it:
//
//   - a query Go cannot parse (a ";" or a bad "%" escape): Go would drop
//     the pair while the browser's URLSearchParams keeps it, so the page
//     would see a target the server never checked;
//   - more than one return_to, or one on a host that is not allowed.
//
// rd=URL (the name oauth2-proxy and Kubernetes' ingress-nginx auth-signin
// use) is taken as return_to: an allowed one comes back as
// /login?return_to=URL, so the page reads only one name.
//
// page is the login page itself.
func handleLoginPage(rt returnTargets, page http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.RawQuery == "" {
			page.ServeHTTP(w, r)
			return
		}
		q, err := url.ParseQuery(r.URL.RawQuery)
		returnTo, hasReturnTo := q["return_to"]
		rd, hasRD := q["rd"]
		switch {
		case err != nil, hasReturnTo && hasRD:
			redirectNoStore(w, r, "/login")
		case hasRD:
			if len(rd) != 1 || !rt.allowed(rd[0]) {
				redirectNoStore(w, r, "/login")
				return
			}
			redirectNoStore(w, r, "/login?return_to="+url.QueryEscape(rd[0]))
		case hasReturnTo && (len(returnTo) != 1 || !rt.allowed(returnTo[0])):
			redirectNoStore(w, r, "/login")
		default:
			page.ServeHTTP(w, r)
		}
	})
}

// redirectNoStore answers 302 to a path of this server, not to be cached:
// the same URL answers differently once the allowed hosts change.
func redirectNoStore(w http.ResponseWriter, r *http.Request, to string) {
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, to, http.StatusFound)
}

// forwardedURL rebuilds the URL the browser asked the proxy for from the
// X-Forwarded-Proto/-Host/-Uri headers Traefik and Caddy send (and the
// shipped nginx config sets), but only when the request comes from a
// trusted proxy; otherwise "". The caller still checks it with allowed.
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
// Caddy and Traefik always ask with GET and send the browser's method as
// X-Forwarded-Method, which counts when fromProxy (a trusted proxy sent it).
func wantsPage(r *http.Request, fromProxy bool) bool {
	method := r.Method
	if m := r.Header.Get("X-Forwarded-Method"); m != "" && fromProxy {
		method = m
	}
	if method != http.MethodGet && method != http.MethodHead {
		return false
	}
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "text/html")
}
