package verify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"

	"github.com/jwtgate/jwtgate/token"
)

type claimsKey struct{}

// ClaimsFrom returns the claims Handler put in a request's context, and
// whether there were any.
func ClaimsFrom(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok && c != nil
}

// Preallocated errors of Check, so a flood of bad headers allocates nothing.
var (
	errNoToken   = fmt.Errorf("%w: %w", ErrUnauthenticated, ErrNoToken)
	errBadHeader = fmt.Errorf("%w: %w: malformed Authorization header", ErrUnauthenticated, token.ErrInvalid)
)

// Check verifies the bearer token of r (RFC 6750 section 2.1: the
// Authorization header, scheme "Bearer" in any case) or, with WithCookie
// and no Authorization header, the token in the session cookie. Query
// parameters are never read. It returns an error wrapping ErrNoToken when r
// has no token (no Authorization header or one with another scheme, and no
// cookie), ErrCrossOrigin for a cookie on a cross-origin state-changing
// request, and otherwise what Verify returns. Check is safe for concurrent
// use.
func (v *Verifier) Check(r *http.Request) (*Claims, error) {
	raw, err := bearerToken(r.Header)
	if errors.Is(err, ErrNoToken) && len(v.cookies) > 0 && len(r.Header["Authorization"]) == 0 {
		if raw = v.cookieToken(r); raw != "" {
			if v.cop.Check(r) != nil {
				return nil, errCrossOrigin
			}
			err = nil
		}
	}
	if err != nil {
		return nil, err
	}
	return v.Verify(r.Context(), raw)
}

var errCrossOrigin = fmt.Errorf("%w: %w", ErrUnauthenticated, ErrCrossOrigin)

// cookieToken returns the value of the first WithCookie cookie r carries.
func (v *Verifier) cookieToken(r *http.Request) string {
	for _, name := range v.cookies {
		if c, err := r.Cookie(name); err == nil && c.Value != "" {
			return c.Value
		}
	}
	return ""
}

// Handler returns middleware that lets a request reach next only with a
// valid token, whose claims it puts in the request context (read them with
// ClaimsFrom). Otherwise it answers, with an empty body and Cache-Control:
// no-store:
//   - 401 with a WWW-Authenticate challenge (RFC 6750 section 3),
//     `Bearer realm="jwtgate"`, plus `error="invalid_token"` when a token
//     was sent but refused. It never says why; the reason is logged at
//     debug level;
//   - 403 for a cookie-authenticated cross-origin state-changing request
//     (see WithCookie);
//   - 503 with Retry-After while New's Verifier does not know the issuer's
//     keys yet (see the package documentation): the token may be valid.
func (v *Verifier) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := v.Check(r)
		if err != nil {
			h := w.Header()
			h.Set("Cache-Control", "no-store")
			switch {
			case errors.Is(err, ErrUnavailable):
				h.Set("Retry-After", "5")
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			case errors.Is(err, ErrCrossOrigin):
				w.WriteHeader(http.StatusForbidden)
				return
			}
			challenge := `Bearer realm="jwtgate"`
			if !errors.Is(err, ErrNoToken) {
				challenge += `, error="invalid_token"`
				if v.log.Enabled(r.Context(), slog.LevelDebug) {
					v.log.DebugContext(r.Context(), "verify: token refused", "path", r.URL.Path, "err", err)
				}
			}
			h.Set("WWW-Authenticate", challenge)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, c)))
	})
}

// bearerToken extracts the token from the Authorization header:
//
//	credentials = "Bearer" 1*SP b64token
//	b64token    = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
//
// Two Authorization headers are refused rather than guessed between.
func bearerToken(h http.Header) (string, error) {
	vals := h["Authorization"]
	switch {
	case len(vals) == 0:
		return "", errNoToken
	case len(vals) > 1:
		return "", errBadHeader
	}
	scheme, rest, _ := strings.Cut(vals[0], " ")
	if !strings.EqualFold(scheme, "Bearer") {
		if !isToken(scheme) {
			return "", errBadHeader
		}
		return "", errNoToken // another scheme (Basic, DPoP...): not ours to judge
	}
	tok := strings.TrimLeft(rest, " ")
	if !isB64Token(tok) {
		return "", errBadHeader
	}
	return tok, nil
}

func isB64Token(s string) bool {
	end := len(s)
	for end > 0 && s[end-1] == '=' {
		end--
	}
	if end == 0 {
		return false
	}
	for i := range end {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '+', c == '/':
		default:
			return false
		}
	}
	return true
}

// isToken reports whether s is an RFC 9110 token, as a scheme name must be.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}
