package token

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/go-jose/go-jose/v4"
	josejson "github.com/go-jose/go-jose/v4/json"
)

// Limits on a JWKS document parsed by ParseJWKS. jwtgate publishes a handful
// of keys in a few KiB; the bounds stop a hostile or broken issuer from
// making a verifier spend memory or CPU on its document.
const (
	MaxJWKSLen  = 1 << 20 // bytes
	maxJWKSKeys = 100
	maxKIDLen   = 256 // bytes; longer kids are skipped (they end up in logs)
)

// ErrSecretNotPublishable is returned by JWK for an HS256 shared secret: a
// secret has no public half, and publishing it would let anyone mint tokens.
var ErrSecretNotPublishable = errors.New("token: a shared secret is never published")

// JWK returns the public half of k as an RFC 7517 JSON Web Key with kty, kid,
// alg and use "sig", and the key type's public members only (OKP: crv, x; EC:
// crv, x, y with 32-byte coordinates; RSA: n, e), even when k can sign. For an
// HS256 secret it returns ErrSecretNotPublishable.
func (k *Key) JWK() (json.RawMessage, error) {
	if k.Alg == HS256 {
		return nil, ErrSecretNotPublishable
	}
	// go-jose writes exactly the members of the Go value it is given; giving
	// it k.public (never k.private) is what keeps d, p, q... out.
	b, err := jose.JSONWebKey{Key: k.public, KeyID: k.ID, Algorithm: k.Alg, Use: "sig"}.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("token: encode %s key %q as JWK: %w", k.Alg, k.ID, err)
	}
	return b, nil
}

// MarshalJWKS returns the JWK Set (RFC 7517 section 5) of the public halves of
// keys, in order. HS256 secrets are skipped, never published, so a set of
// only secrets is {"keys":[]} (jwtgate's server, in shared-secret mode,
// serves no JWKS at all: 404). It fails only if a key cannot be encoded.
func MarshalJWKS(keys []*Key) ([]byte, error) {
	set := struct {
		Keys []json.RawMessage `json:"keys"`
	}{Keys: make([]json.RawMessage, 0, len(keys))}
	for _, k := range keys {
		if k.Alg == HS256 {
			continue
		}
		j, err := k.JWK()
		if err != nil {
			return nil, err
		}
		set.Keys = append(set.Keys, j)
	}
	return json.Marshal(set)
}

// ParseJWKS parses a JWK Set into verify-only keys, each pinned to one of
// EdDSA, ES256 or RS256. It is meant for untrusted input (a document fetched
// from the network).
//
// It fails on documents that are not a JWK Set (larger than MaxJWKSLen, not
// JSON, duplicate member names, no "keys" array, more than 100 entries) and
// on two usable keys with the same kid, since a token's kid would not say
// which one it means.
//
// Within a valid document it skips, silently, every key it cannot or must not
// use, as RFC 7517 section 5 recommends, so one odd key cannot take the
// others down with it: an unknown kty, crv or alg; a "use"
// other than "sig" or "key_ops" without "verify"; no kid or a kid longer than
// 256 bytes; any private member (d, p, q, dp, dq, qi, oth, priv); every
// symmetric (oct) key, so a published secret can never become an HS256 key;
// RSA keys outside 2048 to 4096 bits; EC keys not on P-256; an "alg" that
// does not fit the key type. Without "alg", Ed25519 keys pin EdDSA, P-256 keys
// ES256 and RSA keys RS256. An empty set is not an error.
func ParseJWKS(data []byte) ([]*Key, error) {
	keys, _, err := parseJWKS(data)
	return keys, err
}

// parseJWKS is ParseJWKS that also says why each skipped key was skipped.
func parseJWKS(data []byte) (keys []*Key, skipped []error, err error) {
	if len(data) > MaxJWKSLen {
		return nil, nil, fmt.Errorf("token: JWKS is %d bytes, limit %d", len(data), MaxJWKSLen)
	}
	// go-jose's json fork matches member names exactly and refuses
	// duplicates, so "KEYS", or a second "alg", cannot mean something other
	// than what another JOSE library reads.
	var set struct {
		Keys *[]josejson.RawMessage `json:"keys"`
	}
	if err := josejson.Unmarshal(data, &set); err != nil {
		return nil, nil, fmt.Errorf("token: JWKS is not a JSON object: %w", err)
	}
	if set.Keys == nil {
		return nil, nil, errors.New(`token: JWKS has no "keys" array`)
	}
	if n := len(*set.Keys); n > maxJWKSKeys {
		return nil, nil, fmt.Errorf("token: JWKS has %d keys, limit %d", n, maxJWKSKeys)
	}
	seen := make(map[string]bool)
	for i, raw := range *set.Keys {
		k, err := parseJWK(raw)
		if err != nil {
			skipped = append(skipped, fmt.Errorf("key %d: %w", i, err))
			continue
		}
		if seen[k.ID] {
			return nil, nil, fmt.Errorf("token: JWKS has two usable keys with kid %q", k.ID)
		}
		seen[k.ID] = true
		keys = append(keys, k)
	}
	return keys, skipped, nil
}

// privateMembers are the JWK members that carry secret material (RFC 7518
// section 6 and RFC 9964's AKP "priv").
var privateMembers = []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k", "priv"}

// parseJWK turns one JWK into a verify-only Key, or says why it will not.
func parseJWK(raw []byte) (*Key, error) {
	var m map[string]josejson.RawMessage
	if err := josejson.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("not a JSON object: %w", err)
	}
	str := func(name string) (string, error) {
		v, ok := m[name]
		if !ok {
			return "", nil
		}
		var s string
		if err := josejson.Unmarshal(v, &s); err != nil {
			return "", fmt.Errorf("%q is not a string", name)
		}
		return s, nil
	}
	kty, err := str("kty")
	if err != nil {
		return nil, err
	}
	if kty == "oct" {
		return nil, errors.New("symmetric (oct) keys are never used")
	}
	for _, name := range privateMembers {
		if _, ok := m[name]; ok {
			return nil, fmt.Errorf("carries private member %q", name)
		}
	}
	kid, err := str("kid")
	if err != nil {
		return nil, err
	}
	if kid == "" {
		return nil, errors.New("no kid")
	}
	if len(kid) > maxKIDLen {
		return nil, fmt.Errorf("kid is %d bytes, limit %d", len(kid), maxKIDLen)
	}
	use, err := str("use")
	if err != nil {
		return nil, err
	}
	if _, ok := m["use"]; ok && use != "sig" {
		return nil, fmt.Errorf("use %q is not sig", use)
	}
	if v, ok := m["key_ops"]; ok {
		var ops []string
		if err := josejson.Unmarshal(v, &ops); err != nil {
			return nil, errors.New(`"key_ops" is not an array of strings`)
		}
		if !slices.Contains(ops, "verify") {
			return nil, fmt.Errorf("key_ops %q lack verify", ops)
		}
	}
	alg, err := str("alg")
	if err != nil {
		return nil, err
	}
	crv, err := str("crv")
	if err != nil {
		return nil, err
	}
	var want string // the one alg this key type can pin
	var members []string
	switch {
	case kty == "OKP" && crv == "Ed25519":
		want, members = EdDSA, []string{"kty", "crv", "x"}
	case kty == "EC" && crv == "P-256":
		want, members = ES256, []string{"kty", "crv", "x", "y"}
	case kty == "EC":
		return nil, fmt.Errorf("EC curve %q is not P-256", crv)
	case kty == "RSA":
		want, members = RS256, []string{"kty", "n", "e"}
	default:
		return nil, fmt.Errorf("unsupported key type %q (crv %q)", kty, crv)
	}
	if alg == "" {
		alg = want
	}
	if alg != want {
		return nil, fmt.Errorf("alg %q does not fit a %s %s key (want %s)", alg, kty, crv, want)
	}
	// Hand go-jose only the public members it needs: no x5c chain to parse,
	// no x5u to be tempted by, nothing private.
	// (encoding/json, not the fork: the fork's RawMessage marshals by
	// pointer only, so map values would come out as base64.)
	pub := make(map[string]json.RawMessage, len(members))
	for _, name := range members {
		if v, ok := m[name]; ok {
			pub[name] = json.RawMessage(v)
		}
	}
	minimal, err := json.Marshal(pub)
	if err != nil {
		return nil, err
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(minimal); err != nil {
		return nil, fmt.Errorf("bad %s key: %w", kty, err)
	}
	if !jwk.Valid() || !jwk.IsPublic() {
		return nil, fmt.Errorf("bad %s key", kty)
	}
	switch p := jwk.Key.(type) {
	case *rsa.PublicKey:
		// Larger moduli only cost verifiers CPU; go-jose's own bound is a
		// global any program may raise, so keep ours here.
		if n := p.N.BitLen(); n < 2048 || n > 4096 {
			return nil, fmt.Errorf("RSA key of %d bits, want 2048 to 4096", n)
		}
		if p.E < 3 || p.E%2 == 0 {
			return nil, fmt.Errorf("RSA exponent %d is not an odd number of at least 3", p.E)
		}
	case *ecdsa.PublicKey:
		if p.Curve != elliptic.P256() {
			return nil, errors.New("EC key not on P-256")
		}
	case ed25519.PublicKey:
	default:
		return nil, fmt.Errorf("unexpected key type %T", p)
	}
	k, err := newKey(kid, alg, nil, jwk.Key)
	if err != nil {
		return nil, err
	}
	return k, nil
}
