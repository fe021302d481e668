package server

import (
	"net/http"
	"time"
)

// cookieConfig says how the browser session cookie is named and flagged.
type cookieConfig struct {
	name   string
	secure bool
}

// set stores the access token in an HttpOnly cookie: page scripts never see
// it, so an XSS cannot steal it. SameSite=Lax plus cross-origin protection
// on state changes stops cross-site requests from using it.
func (c cookieConfig) set(w http.ResponseWriter, value string, ttl time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: c.name, Value: value, Path: "/", MaxAge: int(ttl.Seconds()),
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode,
	})
}

func (c cookieConfig) clear(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: c.name, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: c.secure, SameSite: http.SameSiteLaxMode,
	})
}
