package server

import (
	"context"
	"log/slog"
	"net/http"

	"github.com/jwtgate/jwtgate/auth"
)

// addRoutes is the whole API on one screen. Routes wrapped in authed need a
// valid access token (Bearer header or session cookie); the rest are public.
// Anything not listed falls to the catch-all, which answers 401 without a
// token and 404 with one, as the tutorial's middleware did.
func addRoutes(mux *http.ServeMux, logger *slog.Logger, svc *auth.Service, ready func(context.Context) error, ck cookieConfig, o Options) {
	authed := requireAuth(svc, ck)

	// Pages and their assets (public).
	mux.Handle("GET /{$}", handlePage("index.html"))
	mux.Handle("GET /login", handlePage("login.html"))
	mux.Handle("GET /assets/", handleAssets())

	// The tutorial's API.
	mux.Handle("POST /login", handleLogin(logger, svc, ck, o.MaxBodyBytes))
	mux.Handle("GET /user", authed(handleUser()))
	mux.Handle("POST /logout", authed(handleLogout(logger, svc, ck)))

	// Operations (public).
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(ready))

	mux.Handle("/", authed(handleNotFound()))
}
