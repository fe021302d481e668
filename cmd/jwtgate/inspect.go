package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/token"
)

// report is what inspect found; it is also the --json output.
type report struct {
	Header  map[string]any `json:"header"` // nil when undecodable
	Claims  map[string]any `json:"claims"`
	Valid   bool           `json:"valid"`
	Revoked bool           `json:"revoked"`
	Reason  string         `json:"reason"` // "" for a valid token
	Detail  string         `json:"detail,omitempty"`
	claims  token.Claims   // as the verifier reads them (unverified when !Valid)
}

// checker verifies tokens as the server would.
type checker struct {
	keys             token.KeyLookup
	ring             *auth.Keyring // nil in the HS256 mode
	algs             []string
	lax              bool // the HS256 mode's tutorial-compatible checks
	issuer, audience string
}

func (k *checker) verifier(now time.Time, withIssAud bool) *token.Verifier {
	o := token.VerifierOptions{Leeway: auth.Leeway, Now: func() time.Time { return now }, AllowMissingIssuerAndType: k.lax}
	if withIssAud {
		o.Issuer, o.Audience = k.issuer, k.audience
	}
	return token.NewVerifier(k.keys, k.algs, o)
}

// inspect decodes raw for display and verifies it. The verdict is the
// token package's alone; the reason explains it.
func (k *checker) inspect(raw string, truncated bool, now time.Time) *report {
	r := &report{}
	if truncated {
		r.Reason, r.Detail = reasonMalformed, fmt.Sprintf("malformed: more than %d bytes on standard input", maxTokenInput)
		return r
	}
	problem := r.decode(raw)
	_, err := k.verifier(now, true).Verify(raw)
	if err == nil {
		r.Valid = true
		return r
	}
	r.Reason, r.Detail = k.explain(raw, r, problem, err, now)
	return r
}

// decode fills r's header and claims from raw as far as they decode, and
// returns what makes raw malformed ("" if nothing). It follows golang-jwt's
// decoding (unpadded base64url, JSON objects, claims typed as
// token.Claims), so that it calls malformed what the verifier cannot parse.
func (r *report) decode(raw string) string {
	if raw == "" {
		return "empty token"
	}
	if len(raw) > token.MaxLen {
		return fmt.Sprintf("%d bytes, more than the %d a token may have", len(raw), token.MaxLen)
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return fmt.Sprintf("%d dot-separated parts, want 3", len(parts))
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "header is not base64url"
	}
	if r.Header = decodeObject(hb); r.Header == nil {
		return "header is not a JSON object"
	}
	cb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "claims are not base64url"
	}
	if r.Claims = decodeObject(cb); r.Claims == nil {
		return "claims are not a JSON object"
	}
	if err := json.Unmarshal(cb, &r.claims); err != nil {
		// Name the first claim that does not decode on its own.
		for _, name := range orderKeys(r.Claims, nil) {
			one, _ := json.Marshal(map[string]any{name: r.Claims[name]})
			if json.Unmarshal(one, new(token.Claims)) != nil {
				return fmt.Sprintf("claim %s has the wrong type", display(name))
			}
		}
		return "claims do not decode"
	}
	if _, ok := r.Header["alg"].(string); !ok {
		return "header has no alg"
	}
	if _, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
		return "signature is not base64url"
	}
	return ""
}

// decodeObject decodes a JSON object, keeping numbers exact. It returns
// nil if b is not one, or not one golang-jwt decodes (it reads headers
// into map[string]any, where a number must fit a float64).
func decodeObject(b []byte) map[string]any {
	var strict map[string]any
	if json.Unmarshal(b, &strict) != nil || strict == nil {
		return nil
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if d.Decode(&m) != nil {
		return nil
	}
	// Whatever key a token carries is not shown: it is the forger's.
	for _, h := range []string{"jwk", "x5c"} {
		if _, ok := m[h]; ok {
			m[h] = "(key material, not shown)"
		}
	}
	return m
}

// forbiddenHeaders are those the token package refuses, in its order.
var forbiddenHeaders = []string{"jku", "x5u", "jwk", "x5c", "crit"}

// explain turns a verification error into a reason and a one-line detail.
// The token package's sentinels name most failures; the rest (nbf, iat, a
// missing exp, iss or aud, a bad signature) share one error, told apart
// here by a second verification.
func (k *checker) explain(raw string, r *report, problem string, err error, now time.Time) (string, string) {
	c := &r.claims
	switch {
	case errors.Is(err, token.ErrTooLarge):
		return reasonMalformed, "malformed: " + problem
	case errors.Is(err, token.ErrExpired):
		return reasonExpired, "expired " + when(c.ExpiresAt.Time, now)
	case errors.Is(err, token.ErrUnknownKey):
		return reasonUnknownKey, "unknown key: " + k.unknownKey(r.Header, now)
	case errors.Is(err, token.ErrAlgMismatch):
		return reasonAlgMismatch, reasonAlgMismatch + ": " + k.algMismatch(r.Header)
	case errors.Is(err, token.ErrForbiddenHeader):
		return reasonForbiddenHeader, forbidden(r.Header)
	case errors.Is(err, token.ErrWrongType):
		return reasonWrongType, fmt.Sprintf("wrong type: typ %s, want %s", quoteHeader(r.Header, "typ"), token.TypeAccessToken)
	case errors.Is(err, token.ErrIssuer):
		return reasonIssuer, fmt.Sprintf("wrong issuer: %s, want %s", quote(c.Issuer), quote(k.issuer))
	case errors.Is(err, token.ErrAudience):
		return reasonAudience, fmt.Sprintf("wrong audience: %s, want %s", quoteList(c.Audience), quote(k.audience))
	case problem != "":
		return reasonMalformed, "malformed: " + problem
	}
	for _, h := range forbiddenHeaders {
		if _, ok := r.Header[h]; ok {
			return reasonForbiddenHeader, forbidden(r.Header)
		}
	}
	if alg, _ := r.Header["alg"].(string); !slices.Contains(k.algs, alg) {
		return reasonAlgMismatch, reasonAlgMismatch + ": " + k.algMismatch(r.Header)
	}
	// golang-jwt checks the signature before the claims. Verifying again
	// at a moment when nbf and iat hold, without iss and aud, passes (or
	// fails only as expired) exactly when the signature is good.
	at := now
	if c.NotBefore != nil && c.NotBefore.After(at) {
		at = c.NotBefore.Time
	}
	if c.IssuedAt != nil && c.IssuedAt.After(at) {
		at = c.IssuedAt.Time
	}
	if _, perr := k.verifier(at, false).Verify(raw); perr != nil && !errors.Is(perr, token.ErrExpired) {
		if c.ExpiresAt == nil {
			return reasonMalformed, "malformed: no exp claim (every token must expire)"
		}
		return reasonBadSignature, "bad signature: the token was altered, or signed by another key"
	}
	switch {
	case c.NotBefore != nil && now.Before(c.NotBefore.Add(-auth.Leeway)):
		return reasonNotYetValid, "not yet valid: nbf " + when(c.NotBefore.Time, now)
	case c.IssuedAt != nil && now.Before(c.IssuedAt.Add(-auth.Leeway)):
		return reasonNotYetValid, "not yet valid: issued in the future, " + when(c.IssuedAt.Time, now)
	case k.issuer != "" && c.Issuer == "":
		return reasonIssuer, fmt.Sprintf("wrong issuer: none, want %s", quote(k.issuer))
	case k.audience != "" && len(c.Audience) == 0:
		return reasonAudience, fmt.Sprintf("wrong audience: none, want %s", quote(k.audience))
	}
	return reasonMalformed, "malformed: " + strings.TrimPrefix(err.Error(), token.ErrInvalid.Error()+": ")
}

func (k *checker) unknownKey(h map[string]any, now time.Time) string {
	v, ok := h["kid"]
	kid, isString := v.(string)
	switch {
	case !ok:
		return "the token has no kid"
	case !isString:
		return "kid is not a string"
	}
	var keys []auth.KeyInfo
	if k.ring != nil {
		keys = k.ring.List()
	}
	for _, ki := range keys {
		if ki.ID == kid && ki.State == "expired" && ki.RetiresAt != nil {
			return fmt.Sprintf("key %s retired %s, and every token it signed has expired", quote(kid), when(*ki.RetiresAt, now))
		}
	}
	if len(keys) == 0 {
		return fmt.Sprintf("no key %s: the store has no keys", quote(kid))
	}
	return fmt.Sprintf("no key %s in the store", quote(kid))
}

func (k *checker) algMismatch(h map[string]any) string {
	alg := quoteHeader(h, "alg")
	if k.lax {
		return fmt.Sprintf("token says %s; with JWTGATE_JWT_SECRET set, only HS256 is accepted", alg)
	}
	kid, _ := h["kid"].(string)
	if key, ok := k.keys.Lookup(kid); ok {
		return fmt.Sprintf("token says %s, key %s is %s", alg, quote(kid), key.Alg)
	}
	return fmt.Sprintf("token says %s; the store's keys are EdDSA, ES256 or RS256", alg)
}

func forbidden(h map[string]any) string {
	for _, name := range forbiddenHeaders {
		if _, ok := h[name]; ok {
			return fmt.Sprintf("forbidden header %s: a token may not name its own key or demand extensions", name)
		}
	}
	return "forbidden header"
}

// revoked looks the token's sid and jti up in the revocation feed. A
// revoked token may be otherwise valid: it is refused all the same.
func (r *report) revoked(revs *auth.Revocations) {
	sid, jti := r.claims.SessionID, r.claims.ID
	switch {
	case revs.Revoked(sid, ""):
		r.Revoked = true
		if r.Valid {
			r.Reason, r.Detail = reasonRevoked, fmt.Sprintf("revoked: its session (sid %s) has ended", quote(sid))
		}
	case revs.Revoked("", jti):
		r.Revoked = true
		if r.Valid {
			r.Reason, r.Detail = reasonRevoked, fmt.Sprintf("revoked: the token (jti %s) was revoked", quote(jti))
		}
	}
}
