package server

import (
	"net/http"
	"net/textproto"
	"strings"
	"time"
)

// refreshPath is the only path the refresh cookie is sent to.
const refreshPath = "/token/refresh"

// cookies says how the two browser cookies are named and flagged: the access
// token for every path, the refresh token only for refreshPath.
type cookies struct {
	access, refresh string
	secure          bool
}

func newCookies(tls bool) cookies {
	if tls {
		// __Host- cookies must be Secure, Path=/ and host-only: a sibling
		// subdomain cannot plant or overwrite them. The refresh cookie has a
		// narrower path, so it can only take __Secure-.
		return cookies{access: "__Host-jwtgate_access", refresh: "__Secure-jwtgate_refresh", secure: true}
	}
	return cookies{access: "jwtgate_access", refresh: "jwtgate_refresh"}
}

// set stores the tokens in HttpOnly cookies: page scripts never see them,
// so an XSS cannot steal them. SameSite plus cross-origin protection on
// state changes stops cross-site requests from using them.
func (c cookies) set(w http.ResponseWriter, access string, accessTTL time.Duration, refresh string, refreshTTL time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: c.access, Value: access, Path: "/", MaxAge: int(accessTTL.Seconds()),
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode,
	})
	if refresh != "" {
		// Strict: only our own pages ever refresh.
		http.SetCookie(w, &http.Cookie{
			Name: c.refresh, Value: refresh, Path: refreshPath, MaxAge: int(refreshTTL.Seconds()),
			HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteStrictMode,
		})
	}
}

func (c cookies) clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: c.access, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode,
	})
	http.SetCookie(w, &http.Cookie{
		Name: c.refresh, Value: "", Path: refreshPath, MaxAge: -1,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteStrictMode,
	})
}

// cookieValue returns the value of the first cookie called name in the
// request's Cookie headers, parsed exactly as r.Cookie(name) does
// (FuzzCookieValue checks it against net/http) but without building a
// *http.Cookie for every cookie the browser sends: it runs on every
// cookie-authenticated request.
func cookieValue(h http.Header, name string) (string, bool) {
	for _, line := range h["Cookie"] {
		for len(line) > 0 {
			var part string
			part, line, _ = strings.Cut(line, ";")
			k, v, _ := strings.Cut(textproto.TrimString(part), "=")
			if textproto.TrimString(k) != name {
				continue
			}
			if len(v) > 1 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if validCookieValue(v) {
				return v, true
			}
		}
	}
	return "", false
}

// validCookieValue is net/http's rule for a cookie value's bytes.
func validCookieValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if b := v[i]; b < 0x20 || b >= 0x7f || b == '"' || b == ';' || b == '\\' {
			return false
		}
	}
	return true
}
