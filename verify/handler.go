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
// Authorization header, scheme "Bearer" in any case). Cookies and query
// parameters are never read. It returns an error wrapping ErrNoToken when r
// has no Authorization header or one with another scheme, and otherwise
// what Verify returns; every error wraps ErrUnauthenticated. Check is safe
// for concurrent use.
func (v *Verifier) Check(r *http.Request) (*Claims, error) {
	raw, err := bearerToken(r.Header)
	if err != nil {
		return nil, err
	}
	return v.Verify(r.Context(), raw)
}

// Handler returns middleware that lets a request reach next only with a
// valid bearer token, whose claims it puts in the request context (read
// them with ClaimsFrom). Otherwise it answers 401 with an empty body and a
// WWW-Authenticate challenge (RFC 6750 section 3): `Bearer realm="jwtgate"`,
// with `error="invalid_token"` when a token was sent but refused. It never
// says why; the reason is logged at debug level.
func (v *Verifier) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := v.Check(r)
		if err != nil {
			challenge := `Bearer realm="jwtgate"`
			if !errors.Is(err, ErrNoToken) {
				challenge += `, error="invalid_token"`
				if v.log.Enabled(r.Context(), slog.LevelDebug) {
					v.log.DebugContext(r.Context(), "verify: token refused", "path", r.URL.Path, "err", err)
				}
			}
			h := w.Header()
			h.Set("WWW-Authenticate", challenge)
			h.Set("Cache-Control", "no-store")
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
