// Package server is jwtgate's HTTP face: routes, handlers, middleware and
// the embedded pages. Handlers are built by functions that take exactly the
// dependencies they use; the rules they call live in package auth.
package server

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/jwtgate/jwtgate/internal/accounts"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/clientip"
	"github.com/jwtgate/jwtgate/internal/metrics"
	"github.com/jwtgate/jwtgate/internal/oidc"
	"github.com/jwtgate/jwtgate/internal/passkey"
)

// Options are the HTTP-level settings.
type Options struct {
	// TLS means the server terminates TLS itself: HSTS is sent, and
	// cookies get Secure and the __Host-/__Secure- prefixes (as they do
	// whenever Issuer is https://).
	TLS bool
	// MaxBodyBytes bounds request bodies (default 64 KiB).
	MaxBodyBytes int64
	// Issuer is the public base URL, for the discovery document.
	Issuer string
	// TrustedProxies are the addresses whose X-Forwarded-For is believed
	// when finding the client's address; none by default.
	TrustedProxies []netip.Prefix
	// ForwardAuthHosts are hosts (host[:port]) besides the issuer's that the
	// login page may send a browser back to after a forward-auth redirect.
	ForwardAuthHosts []string
	// CookieDomain, when set, is the session cookie's Domain: the cookie
	// then reaches every host under it (an app behind forward auth on a
	// sibling of the issuer's host), and the login page may return to any
	// of them. See ValidateCookieDomain.
	CookieDomain string
}

// Deps are what the handlers need. Each handler is given only its part.
type Deps struct {
	Logger *slog.Logger
	Auth   *auth.Service
	// Keys is the keyring in the asymmetric modes; nil with a shared secret
	// (no JWKS to publish, no keys to rotate).
	Keys  *auth.Keyring
	Ready func(context.Context) error
	// Accounts runs signup, invitations, email verification and password
	// reset; nil answers their routes 404.
	Accounts *accounts.Service
	// Clients is the OpenID Connect client registry (the admin API's
	// clients); nil answers those routes 404.
	Clients *oidc.Clients
	// Passkeys runs WebAuthn ceremonies; nil answers their routes 404.
	Passkeys *passkey.Service
	// Metrics records request latency; nil records nothing. This handler
	// never serves it: login and throttling counts are not for the
	// public, so the caller serves them on their own address.
	Metrics *metrics.Metrics
	// AccessLog gets one line per request; nil logs none.
	AccessLog *AccessLog
	// Warnings are conditions the operator should fix that do not make
	// the server unready; /readyz lists them.
	Warnings []Warning
	// OIDC is the OpenID Provider; nil (the shared-secret mode) answers
	// its routes 404.
	OIDC *oidc.Provider
}

// Warning is one such condition: a stable code and a sentence saying what
// to do.
type Warning struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// NewServer returns the complete jwtgate handler: routes wrapped in the
// middleware every request passes (panic recovery, logging with a request
// id, security headers, cross-origin protection).
func NewServer(d Deps, o Options) http.Handler {
	if o.MaxBodyBytes == 0 {
		o.MaxBodyBytes = 64 << 10
	}
	if o.Issuer == "" {
		o.Issuer = "http://localhost"
	}
	logger := d.Logger
	ck := newCookies(o.TLS || issuerIsHTTPS(o.Issuer), o.CookieDomain, clientip.New(o.TrustedProxies))
	mux := &routeMux{ServeMux: http.NewServeMux()}
	addRoutes(mux, d, ck, o)

	cop := http.NewCrossOriginProtection()
	// The OAuth endpoints clients call are not authenticated by cookie
	// (client credentials, codes and tokens in the body or header), so a
	// cross-origin request to them forges nothing; single-page apps make
	// exactly such requests.
	for _, p := range []string{"POST " + oidc.TokenPath, "POST " + oidc.RevokePath, "POST " + oidc.IntrospectPath, "POST " + oidc.UserinfoPath} {
		cop.AddInsecureBypassPattern(p)
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusForbidden, "cross_origin", "cross-origin request refused")
	}))
	var h http.Handler = mux
	h = cop.Handler(h)
	h = securityHeaders(h, o.TLS)
	h = recoverPanics(h, logger)
	h = logRequests(h, d.AccessLog, clientip.New(o.TrustedProxies), d.Metrics)
	h = limitBodies(h, o.MaxBodyBytes)
	return h
}

// limitBodies caps every request body. It wraps the server's own
// ResponseWriter, outermost: when a handler reads past the cap, net/http
// then knows, answers without reading the rest and closes the connection
// cleanly, so the client sees our 413 rather than a reset.
func limitBodies(next http.Handler, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != http.NoBody { // most GETs: nothing to cap
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

// requestTimeout bounds handler work that talks to the store.
const requestTimeout = 10 * time.Second
