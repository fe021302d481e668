package server

import (
	"encoding/binary"
	"fmt"
	"net/http"
	"net/netip"
	"net/textproto"
	"net/url"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/internal/clientip"
)

// refreshPath is the only path the refresh cookie is sent to.
const refreshPath = "/token/refresh"

// cookies says how the two browser cookies are named, scoped and flagged:
// the access token for every path (and, with a cookie domain, every host
// under it), the refresh token only for refreshPath on jwtgate's own host.
//
// The names depend on the configuration only, never on the request, so a
// cookie set over one request is found on the next: a server whose public
// URL is https:// uses the prefixed names, which a browser accepts only
// with Secure (and, for __Host-, only host-only with Path=/), so neither a
// sibling subdomain nor a network attacker on plain http can plant or
// overwrite them. It reads only those names then: reading the plain ones
// too would let such an attacker plant a session (log the victim into the
// attacker's account). Switching a server to https therefore asks every
// browser to log in once more.
type cookies struct {
	access, refresh string
	// secure: every cookie is Secure, because the public URL is https://
	// or jwtgate terminates TLS itself.
	secure bool
	// domain is the access cookie's Domain attribute (--cookie-domain),
	// "" for a host-only cookie.
	domain string
	// proxies are the trusted reverse proxies, whose X-Forwarded-Proto:
	// https also makes the cookies of that answer Secure.
	proxies *clientip.Resolver
}

// newCookies returns the cookie settings for a server whose public URL is
// https:// (or that terminates TLS) when secure is true, whose access
// cookie is shared with every host under domain when it is not "", and
// that believes X-Forwarded-Proto from proxies.
func newCookies(secure bool, domain string, proxies *clientip.Resolver) cookies {
	c := cookies{access: "jwtgate_access", refresh: "jwtgate_refresh", secure: secure, domain: domain, proxies: proxies}
	if secure {
		// __Host- needs Secure, Path=/ and no Domain. A shared cookie has a
		// Domain, and the refresh cookie a narrower path: both can only
		// take __Secure-.
		c.access, c.refresh = "__Host-jwtgate_access", "__Secure-jwtgate_refresh"
		if domain != "" {
			c.access = "__Secure-jwtgate_access"
		}
	}
	return c
}

// secureFor reports whether the cookies of the answer to r get Secure: when
// the server is configured for https, when r came over TLS, or when a
// trusted proxy says the browser used https. The last one is a safety net
// for a proxy terminating TLS in front of a server whose --issuer still
// says http://; the names stay unprefixed then (see cookies).
func (c cookies) secureFor(r *http.Request) bool {
	if c.secure || r.TLS != nil {
		return true
	}
	return r.Header.Get("X-Forwarded-Proto") == "https" && c.proxies.FromTrustedProxy(r)
}

// set stores the tokens in HttpOnly cookies: page scripts never see them,
// so an XSS cannot steal them. SameSite plus cross-origin protection on
// state changes stops cross-site requests from using them.
func (c cookies) set(w http.ResponseWriter, r *http.Request, access string, accessTTL time.Duration, refresh string, refreshTTL time.Duration) {
	secure := c.secureFor(r)
	http.SetCookie(w, &http.Cookie{
		Name: c.access, Value: access, Path: "/", Domain: c.domain, MaxAge: int(accessTTL.Seconds()),
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
	})
	if refresh != "" {
		// Strict and host-only: only our own pages ever refresh.
		http.SetCookie(w, &http.Cookie{
			Name: c.refresh, Value: refresh, Path: refreshPath, MaxAge: int(refreshTTL.Seconds()),
			HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode,
		})
	}
}

// clear removes both cookies. With a cookie domain it also removes a
// host-only access cookie of the same name, which a browser keeps from
// before the domain was configured.
func (c cookies) clear(w http.ResponseWriter, r *http.Request) {
	secure := c.secureFor(r)
	http.SetCookie(w, &http.Cookie{
		Name: c.access, Value: "", Path: "/", Domain: c.domain, MaxAge: -1,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
	})
	if c.domain != "" {
		http.SetCookie(w, &http.Cookie{
			Name: c.access, Value: "", Path: "/", MaxAge: -1,
			HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
		})
	}
	http.SetCookie(w, &http.Cookie{
		Name: c.refresh, Value: "", Path: refreshPath, MaxAge: -1,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode,
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

// validCookieValue is net/http's rule for a cookie value's bytes: none
// below 0x20 or from 0x7f up, and no '"', ';' or '\\'. It runs over the
// whole token on every cookie-authenticated request, so it tests eight
// bytes at a time (validCookieByte is the rule for one; TestValidCookieValue
// checks that they agree).
func validCookieValue(v string) bool {
	i := 0
	for ; i+8 <= len(v); i += 8 {
		if invalidCookieBytes(binary.LittleEndian.Uint64([]byte(v[i : i+8]))) {
			return false
		}
	}
	for ; i < len(v); i++ {
		if !validCookieByte(v[i]) {
			return false
		}
	}
	return true
}

func validCookieByte(b byte) bool {
	return b >= 0x20 && b < 0x7f && b != '"' && b != ';' && b != '\\'
}

// invalidCookieBytes reports whether any of the eight bytes of x breaks
// validCookieByte, with the bit tricks of "Bit Twiddling Hacks"
// (haszero, hasless): a borrow can only spread from a byte that matched,
// so the answer for the word as a whole is exact.
func invalidCookieBytes(x uint64) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	hasZero := func(y uint64) uint64 { return (y - ones) & ^y & highs }
	bad := x & highs                    // 0x80 and up
	bad |= (x - 0x20*ones) & ^x & highs // below 0x20
	bad |= hasZero(x ^ 0x7f*ones)
	bad |= hasZero(x ^ '"'*ones)
	bad |= hasZero(x ^ ';'*ones)
	bad |= hasZero(x ^ '\\'*ones)
	return bad != 0
}

// issuerIsHTTPS reports whether the public URL is https://, which makes
// every cookie Secure even when a proxy in front terminates TLS.
func issuerIsHTTPS(issuer string) bool {
	u, err := url.Parse(issuer)
	return err == nil && u.Scheme == "https"
}

// PlainHTTPIssuer reports whether issuer is an http:// URL on a host that is
// not loopback: browsers out there would then send the session cookies in
// clear, and serve would rather say so at startup.
func PlainHTTPIssuer(issuer string) bool {
	u, err := url.Parse(issuer)
	if err != nil || u.Scheme != "http" {
		return false
	}
	h := strings.ToLower(u.Hostname())
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return false
	}
	a, err := netip.ParseAddr(h)
	return err != nil || !a.IsLoopback()
}

// ParseCookieDomain checks a --cookie-domain against the issuer and returns
// it in the form the cookie carries (lower case, no leading dot). It must be
// a domain name of at least two labels (browsers refuse Domain=localhost and
// top-level domains, and a Domain of an IP address shares with no other
// host), and the issuer's host must be it or under it: jwtgate sets the
// cookie from that host, and a browser drops a Domain its host is not in.
func ParseCookieDomain(domain, issuer string) (string, error) {
	d := strings.ToLower(strings.TrimPrefix(domain, "."))
	if d == "" {
		return "", nil
	}
	if _, err := netip.ParseAddr(d); err == nil {
		return "", fmt.Errorf("%q is an IP address, want a domain name such as example.com", domain)
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return "", fmt.Errorf("%q has one label: browsers refuse cookies for it; want a domain such as example.com", domain)
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' || strings.Trim(l, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return "", fmt.Errorf("%q is not a domain name (letters, digits and hyphens in dot-separated labels)", domain)
		}
	}
	u, err := url.Parse(issuer)
	if err != nil {
		return "", fmt.Errorf("issuer %q: %w", issuer, err)
	}
	if h := strings.ToLower(u.Hostname()); h != d && !strings.HasSuffix(h, "."+d) {
		return "", fmt.Errorf("the issuer's host %q is not %s or under it, so browsers would refuse the cookie", h, d)
	}
	return d, nil
}
