package server

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/clientip"
	"github.com/jwtgate/jwtgate/internal/metrics"
	"github.com/jwtgate/jwtgate/token"
)

// ClaimsFrom returns the verified claims of the request's access token, or
// nil on a public route. requireAuth puts them in the request's context as
// the acting user of package auth's request value, which the rules read
// for audit events: one immutable context value per authenticated request.
func ClaimsFrom(ctx context.Context) *token.Claims {
	return auth.RequestFrom(ctx).Actor
}

// clientOf is where r came from, for audit events and login throttling:
// the address (through trusted proxies; "" when unknown or ips is nil) and
// the User-Agent.
func clientOf(r *http.Request, ips *clientip.Resolver) auth.Client {
	c := auth.Client{UserAgent: r.UserAgent()}
	if ips != nil {
		if a := ips.ClientIP(r); a.IsValid() {
			c.IP = addrString(a, r.RemoteAddr)
		}
	}
	return c
}

// addrString is a.String(), taken from remoteAddr ("host:port", as
// net/http sets RemoteAddr) without an allocation when its host is
// exactly that text, as it is for a client connecting directly.
func addrString(a netip.Addr, remoteAddr string) string {
	host := remoteAddr
	if i := strings.LastIndexByte(host, ':'); i >= 0 {
		host = host[:i]
	}
	if len(host) > 1 && host[0] == '[' && host[len(host)-1] == ']' {
		host = host[1 : len(host)-1]
	}
	var buf [64]byte
	if string(a.AppendTo(buf[:0])) == host {
		return host
	}
	return a.String()
}

// withClient returns middleware that puts the request's client (ips finds
// its address) in the context, for public routes whose rules record or
// throttle by it (auth.ClientFrom).
func withClient(ips *clientip.Resolver) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			next.ServeHTTP(w, r.WithContext(auth.WithClient(r.Context(), clientOf(r, ips))))
		})
	}
}

// bearerToken extracts the token from an Authorization header. present is
// true whenever the header was sent, so a malformed one is an error rather
// than a silent fall-back to the cookie.
func bearerToken(r *http.Request) (tok string, present bool) {
	// The canonical key, read directly: Header.Get would first check
	// that it is canonical, on every authenticated request.
	v := r.Header["Authorization"]
	if len(v) == 0 || v[0] == "" {
		return "", false
	}
	h := v[0]
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
// cookie, and puts its claims and the client (ips finds its address) in
// the context. A next that is a claimsHandler gets the claims directly
// instead.
func requireAuth(svc *auth.Service, ck cookies, ips *clientip.Resolver) func(http.Handler) http.Handler {
	return requireToken(svc, ck, ips, false)
}

// requireToken is requireAuth; clients says whether tokens issued to
// OpenID Connect clients are accepted too (forward auth: the services
// behind a proxy are what they are for).
func requireToken(svc *auth.Service, ck cookies, ips *clientip.Resolver, clients bool) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		direct, _ := next.(claimsHandler)
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
			// A token issued to an OpenID Connect client is for the
			// services the client calls (verify, /auth/verify), not for
			// jwtgate's own account and admin API: an app the user signed
			// in to must not change their password or end their sessions.
			if err != nil || (claims.ClientID != "" && !clients) {
				unauthorized(w, "invalid_token")
				return
			}
			if direct != nil {
				direct.serveClaims(w, r, claims)
				return
			}
			ctx := auth.WithRequest(r.Context(), auth.Request{Client: clientOf(r, ips), Actor: claims})
			next.ServeHTTP(w, r.WithContext(ctx))
		})
	}
}

// claimsHandler is a handler that needs nothing of its request's context
// but the caller's claims: GET /user and GET /auth/verify, which answer
// every authenticated request behind them. requireAuth calls serveClaims
// with the claims it verified, sparing each such request a context value
// (a boxed auth.Request), a copy of the *http.Request (WithContext) and
// the client's address, which only audit events and throttling read.
// ServeHTTP, for any other caller, reads the claims from the context.
// The claims are shared with other requests: read only (auth.Service.Verify).
type claimsHandler interface {
	http.Handler
	serveClaims(w http.ResponseWriter, r *http.Request, c *token.Claims)
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

// logRequests gives every request an id (sent back as X-Request-Id),
// records its latency in m (nil: not recorded) and writes an access-log
// line to al (nil: no access log). It logs the path only: query strings
// and headers may carry tokens.
//
// Without either (the default configuration) it only sets the id: no
// clock reads and no status recorder.
func logRequests(next http.Handler, al *AccessLog, ips *clientip.Resolver, m *metrics.Metrics) http.Handler {
	ids := newRequestIDs()
	if al == nil && m == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header()["X-Request-Id"] = ids.header()
			next.ServeHTTP(w, r)
		})
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusWriter{ResponseWriter: w}
		id := ids.header()
		w.Header()["X-Request-Id"] = id
		next.ServeHTTP(rec, r)
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		end := time.Now()
		dur := end.Sub(start)
		if m != nil {
			// r.Pattern was set by the ServeMux further in, on this request.
			m.Request(r.Pattern, r.Method, status, dur)
		}
		if al != nil {
			var addr netip.Addr
			if ips != nil {
				addr = ips.ClientIP(r)
			}
			al.Log(end, id[0], r.Method, r.URL.Path, status, dur, addr)
		}
	})
}

// requestIDs makes request ids: a random per-process prefix and a counter,
// 16 hex digits. They only need to be unique enough to find a request in
// the logs, not unguessable, so they cost an atomic add, not a read of the
// random source. They are made idBatchLen at a time, in two allocations
// (the text of all, and their header value slices), which a sync.Pool
// hands out per P: an id costs no allocation of its own.
type requestIDs struct {
	prefix  uint32
	n       atomic.Uint32
	batches sync.Pool // *idBatch
}

const idBatchLen = 64

// idBatch is ids not handed out yet: vals[next:].
type idBatch struct {
	vals [idBatchLen]string
	next int
}

func newRequestIDs() *requestIDs {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &requestIDs{prefix: binary.BigEndian.Uint32(b[:])}
}

// header returns a fresh id as a header value: a one-element slice of its
// own (its capacity is one, so an append elsewhere cannot reach another
// request's id).
func (g *requestIDs) header() []string {
	b, _ := g.batches.Get().(*idBatch)
	if b == nil || b.next == idBatchLen {
		b = g.newBatch()
	}
	i := b.next
	b.next++
	g.batches.Put(b)
	return b.vals[i : i+1 : i+1]
}

// newBatch reserves idBatchLen counter values and formats them.
func (g *requestIDs) newBatch() *idBatch {
	first := g.n.Add(idBatchLen) - idBatchLen + 1
	var text [idBatchLen * 16]byte
	const digits = "0123456789abcdef"
	for i := range idBatchLen {
		v := uint64(g.prefix)<<32 | uint64(first+uint32(i))
		for j := 15; j >= 0; j-- {
			text[i*16+j] = digits[v&0xf]
			v >>= 4
		}
	}
	all := string(text[:])
	b := &idBatch{}
	for i := range b.vals {
		b.vals[i] = all[i*16 : i*16+16]
	}
	return b
}
