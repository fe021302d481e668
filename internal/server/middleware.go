package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/auth"
	"github.com/jwtgate/jwtgate/internal/clientip"
	"github.com/jwtgate/jwtgate/internal/metrics"
	"github.com/jwtgate/jwtgate/token"
)

type ctxKey int

const stateKey ctxKey = iota

// reqState is everything the middleware learns about one request, made once
// by logRequests and filled in as the request goes deeper (requireAuth sets
// the claims and the actor), so the hot path copies the request once.
type reqState struct {
	info   auth.RequestInfo
	claims *token.Claims
}

// withState returns r carrying a fresh reqState.
func withState(r *http.Request, c auth.Client) (*http.Request, *reqState) {
	st := &reqState{info: auth.RequestInfo{Client: c}}
	ctx := context.WithValue(auth.WithRequestInfo(r.Context(), &st.info), stateKey, st)
	return r.WithContext(ctx), st
}

func stateFrom(ctx context.Context) *reqState {
	st, _ := ctx.Value(stateKey).(*reqState)
	return st
}

// ClaimsFrom returns the verified claims of the request's access token, or
// nil on a public route.
func ClaimsFrom(ctx context.Context) *token.Claims {
	if st := stateFrom(ctx); st != nil {
		return st.claims
	}
	return nil
}

// bearerToken extracts the token from an Authorization header. present is
// true whenever the header was sent, so a malformed one is an error rather
// than a silent fall-back to the cookie.
func bearerToken(r *http.Request) (tok string, present bool) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", false
	}
	scheme, tok, ok := strings.Cut(h, " ")
	// RFC 6750 2.1: the scheme is case-insensitive; the token has no spaces.
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || strings.ContainsAny(tok, " \t") {
		return "", true
	}
	return tok, true
}

// requireAuth returns middleware that lets a request through only with a
// valid access token, from the Authorization header or else the session
// cookie, and puts its claims in the context.
func requireAuth(svc *auth.Service, ck cookies) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			raw, present := bearerToken(r)
			if !present {
				if c, err := r.Cookie(ck.access); err == nil {
					raw, present = c.Value, true
				}
			}
			if !present {
				unauthorized(w, "")
				return
			}
			claims, err := svc.Verify(raw)
			if err != nil {
				unauthorized(w, "invalid_token")
				return
			}
			st := stateFrom(r.Context())
			if st == nil { // not behind logRequests (a handler used alone)
				r, st = withState(r, auth.Client{})
			}
			st.claims, st.info.ActorID = claims, claims.UserID
			next.ServeHTTP(w, r)
		})
	}
}

// requireAdmin lets through only tokens with the admin role (403 otherwise).
// It runs after requireAuth.
func requireAdmin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := ClaimsFrom(r.Context())
		if c == nil || !slices.Contains(c.Roles, jwtgate.RoleAdmin) {
			writeError(w, http.StatusForbidden, "forbidden", "this needs the admin role")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// unauthorized answers 401 with the RFC 6750 challenge. The body stays
// empty, as the tutorial's middleware left it.
func unauthorized(w http.ResponseWriter, errCode string) {
	v := `Bearer realm="jwtgate"`
	if errCode != "" {
		v += `, error="` + errCode + `"`
	}
	w.Header().Set("WWW-Authenticate", v)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusUnauthorized)
}

// apiSecurityPolicy is the CSP of everything but the pages (JSON, assets):
// nothing may load or run, and nothing may frame it (OWASP REST Security
// Cheat Sheet). It is short on purpose: it goes on every API response.
const apiSecurityPolicy = "default-src 'none'; frame-ancestors 'none'"

// pageSecurityPolicy, the pages' CSP, allows only this origin's own scripts, styles and
// images, no inline code, no framing, no plugins.
const pageSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// staticHeaders go on every response. They are set by map assignment with
// canonical keys and shared value slices: no per-request allocation
// (net/http only reads them).
var staticHeaders = map[string][]string{
	"Content-Security-Policy":      {apiSecurityPolicy},
	"X-Content-Type-Options":       {"nosniff"},
	"X-Frame-Options":              {"DENY"},
	"Referrer-Policy":              {"no-referrer"},
	"Cross-Origin-Opener-Policy":   {"same-origin"},
	"Cross-Origin-Resource-Policy": {"same-origin"},
	"Permissions-Policy":           {"camera=(), microphone=(), geolocation=(), payment=()"},
}

var hstsValue = []string{"max-age=63072000; includeSubDomains"}

func securityHeaders(next http.Handler, tls bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range staticHeaders {
			h[k] = v
		}
		if tls {
			h["Strict-Transport-Security"] = hstsValue
		}
		next.ServeHTTP(w, r)
	})
}

// recoverPanics turns a handler panic into a logged 500 with a JSON body,
// never a stack trace on the wire.
func recoverPanics(next http.Handler, logger *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			logger.Error("handler panic", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
			writeError(w, http.StatusInternalServerError, "internal", "internal error")
		}()
		next.ServeHTTP(w, r)
	})
}

// statusWriter records the status code for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// logRequests logs one line per request with a request id (also sent back
// as X-Request-Id). It logs the path only: query strings and headers may
// carry tokens.
func logRequests(next http.Handler, logger *slog.Logger, ips *clientip.Resolver, m *metrics.Metrics) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := newRequestID()
		w.Header()["X-Request-Id"] = []string{id}
		sw := &statusWriter{ResponseWriter: w}
		// The origin of the request, for throttling and audit events further in.
		ip := ""
		if a := ips.ClientIP(r); a.IsValid() {
			ip = a.String()
		}
		r, _ = withState(r, auth.Client{IP: ip, UserAgent: r.UserAgent()})
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		if m != nil {
			// r.Pattern was set by the ServeMux further in, on this request.
			m.Request(r.Pattern, r.Method, sw.status, time.Since(start))
		}
		if !logger.Enabled(r.Context(), slog.LevelInfo) {
			return
		}
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", sw.status), slog.Duration("dur", time.Since(start)), slog.String("ip", ip))
	})
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
