package server

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"log/slog"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/clientip"
	"github.com/jwtgate/jwtgate/internal/metrics"
	"github.com/jwtgate/jwtgate/token"
)

type ctxKey int

const stateKey ctxKey = iota

// authInfoKey is the context key under which package auth looks for the
// request's RequestInfo; reqState answers it itself.
var authInfoKey = auth.RequestInfoKey()

// reqState is everything the middleware learns about one request, made once
// by logRequests and filled in as the request goes deeper (requireAuth sets
// the claims and the actor). It is the request's context, the access log's
// status recorder and the X-Request-Id header value in one allocation, so
// the hot path allocates it and one copy of the request, nothing more.
type reqState struct {
	context.Context // the request's own context

	w      statusWriter
	claims *token.Claims
	id     [1]string // the X-Request-Id header's value slice

	// info is what package auth records in audit events. Its client part
	// (address and user agent) is filled in only when asked for: most
	// requests never need it, and formatting the address allocates.
	info      auth.RequestInfo
	infoReady bool
	r         *http.Request
	ips       *clientip.Resolver
}

// Value answers the state's own key and package auth's RequestInfo key;
// everything else goes to the request's context.
func (s *reqState) Value(k any) any {
	switch k {
	case stateKey:
		return s
	case authInfoKey:
		return s.requestInfo()
	}
	return s.Context.Value(k)
}

func (s *reqState) requestInfo() *auth.RequestInfo {
	if !s.infoReady {
		s.infoReady = true
		s.info.Client = auth.Client{IP: s.clientIP(), UserAgent: s.r.UserAgent()}
	}
	return &s.info
}

// clientIP is the request's origin as text ("" when unknown).
func (s *reqState) clientIP() string {
	if s.infoReady && s.info.Client.IP != "" {
		return s.info.Client.IP
	}
	if s.ips == nil {
		return ""
	}
	if a := s.ips.ClientIP(s.r); a.IsValid() {
		return a.String()
	}
	return ""
}

// withState returns r carrying a fresh reqState whose status recorder wraps w.
func withState(w http.ResponseWriter, r *http.Request, ips *clientip.Resolver) (*http.Request, *reqState) {
	st := &reqState{Context: r.Context(), w: statusWriter{ResponseWriter: w}, ips: ips}
	r = r.WithContext(st)
	st.r = r
	return r, st
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
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" ||
		strings.IndexByte(tok, ' ') >= 0 || strings.IndexByte(tok, '\t') >= 0 { // IndexByte: vectorised, unlike ContainsAny
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
				raw, present = cookieValue(r.Header, ck.access)
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
				r, st = withState(w, r, nil)
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

// apiHeaders go on every response: what the OWASP REST Security Cheat
// Sheet asks of answers that are not documents (with Content-Type and,
// where a handler needs it, Cache-Control set by the handler). CSP's
// frame-ancestors 'none' forbids framing in every browser with CSP level 2;
// X-Frame-Options, which only older browsers need, goes on the documents
// (pages, assets), the only answers worth framing. They are set by map
// assignment with canonical keys and shared value slices: no per-request
// allocation (net/http only reads them). The set is kept short on purpose:
// each header costs every request a map entry and a sorted write, and the
// forward-auth answer (with its three identity headers, Content-Type,
// Cache-Control and X-Request-Id) then fits net/http's header map without
// growing it.
var apiHeaders = [...]struct {
	key   string
	value []string
}{
	{"Content-Security-Policy", []string{apiSecurityPolicy}},
	{"X-Content-Type-Options", []string{"nosniff"}},
}

// documentHeaders are added for what a browser renders or loads as part of
// a page (the HTML pages and /assets/*): they govern referrers, window
// openers, cross-origin embedding and powerful features, none of which
// means anything for a JSON answer.
var documentHeaders = map[string][]string{
	"X-Frame-Options":              {"DENY"},
	"Referrer-Policy":              {"no-referrer"},
	"Cross-Origin-Opener-Policy":   {"same-origin"},
	"Cross-Origin-Resource-Policy": {"same-origin"},
	"Permissions-Policy":           {"camera=(), microphone=(), geolocation=(), payment=()"},
}

func setDocumentHeaders(h http.Header) {
	for k, v := range documentHeaders {
		h[k] = v
	}
}

var hstsValue = []string{"max-age=63072000; includeSubDomains"}

func securityHeaders(next http.Handler, tls bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for _, kv := range apiHeaders {
			h[kv.key] = kv.value
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
			logger.Error("handler panic", "id", w.Header().Get("X-Request-Id"), "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
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
	ids := newRequestIDs()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		r, st := withState(w, r, ips)
		st.id[0] = ids.next()
		w.Header()["X-Request-Id"] = st.id[:]
		next.ServeHTTP(&st.w, r)
		status := st.w.status
		if status == 0 {
			status = http.StatusOK
		}
		if m != nil {
			// r.Pattern was set by the ServeMux further in, on this request.
			m.Request(r.Pattern, r.Method, status, time.Since(start))
		}
		if !logger.Enabled(r.Context(), slog.LevelInfo) {
			return
		}
		logger.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("id", st.id[0]), slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", status), slog.Duration("dur", time.Since(start)), slog.String("ip", st.clientIP()))
	})
}

// requestIDs makes request ids: a random per-process prefix and a counter,
// 16 hex digits. They only need to be unique enough to find a request in
// the logs, not unguessable, so they cost an atomic add, not a read of the
// random source.
type requestIDs struct {
	prefix uint32
	n      atomic.Uint32
}

func newRequestIDs() *requestIDs {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &requestIDs{prefix: binary.BigEndian.Uint32(b[:])}
}

func (g *requestIDs) next() string {
	var b [16]byte
	v := uint64(g.prefix)<<32 | uint64(g.n.Add(1))
	const digits = "0123456789abcdef"
	for i := 15; i >= 0; i-- {
		b[i] = digits[v&0xf]
		v >>= 4
	}
	return string(b[:])
}
