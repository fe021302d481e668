package token

import (
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// Sign returns the compact JWS of c signed with k. Asymmetric keys put their
// kid in the header; every token carries typ at+jwt (PyJWT, the tutorial's
// library, ignores typ, so this keeps interop).
func Sign(k *Key, c *Claims) (string, error) {
	if !k.CanSign() {
		return "", fmt.Errorf("token: key %q cannot sign", k.ID)
	}
	t := jwt.NewWithClaims(k.method, c)
	t.Header["typ"] = TypeAccessToken
	if k.ID != "" {
		t.Header["kid"] = k.ID
	}
	s, err := t.SignedString(k.private)
	if err != nil {
		return "", fmt.Errorf("token: sign with %s key %q: %w", k.Alg, k.ID, err)
	}
	return s, nil
}

// SignClaims signs claims that are not an access token, such as an OpenID
// Connect id_token, with typ as given ("JWT"): a verifier of access tokens
// (which requires typ at+jwt) thus never accepts one for the other (RFC
// 8725 section 3.11). Asymmetric keys put their kid in the header.
func SignClaims(k *Key, claims jwt.Claims, typ string) (string, error) {
	if !k.CanSign() {
		return "", fmt.Errorf("token: key %q cannot sign", k.ID)
	}
	t := jwt.NewWithClaims(k.method, claims)
	t.Header["typ"] = typ
	if k.ID != "" {
		t.Header["kid"] = k.ID
	}
	s, err := t.SignedString(k.private)
	if err != nil {
		return "", fmt.Errorf("token: sign with %s key %q: %w", k.Alg, k.ID, err)
	}
	return s, nil
}
