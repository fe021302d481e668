package oidc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/token"
)

// idTokenInput is what an id_token states about a login.
type idTokenInput struct {
	user        *jwtgate.User
	clientID    string
	idTokenAlg  string // the client's id_token_signed_response_alg; "" = RS256
	sid         string // the client session
	scopes      []string
	authTime    time.Time
	amr         []string
	nonce       string
	accessToken string // for at_hash
}

// idTokenSigner is the key for a client's id_tokens: of the algorithm it
// registered when the keyring has one, else RS256 (which OpenID Connect
// requires every provider to offer and the keyring always keeps).
func (p *Provider) idTokenSigner(alg string) (*token.Key, error) {
	if alg == "" {
		alg = token.RS256
	}
	if k := p.keys.IDTokenSigner(alg); k != nil {
		return k, nil
	}
	if k := p.keys.IDTokenSigner(token.RS256); k != nil {
		return k, nil
	}
	// Only while a first RS256 key waits out its publish delay (made by
	// `jwtgate keys rotate` on a store that had none): the signing key.
	if k := p.keys.Signer(); k != nil {
		return k, nil
	}
	return nil, errors.New("oidc: no key signs id_tokens")
}

// IDTokenAlgs are the id_token algorithms discovery may publish: RS256 and
// whatever else the keyring signs with now.
func (p *Provider) IDTokenAlgs() []string {
	algs := []string{token.RS256}
	if s := p.keys.Signer(); s != nil && s.Alg != token.RS256 {
		algs = append(algs, s.Alg)
	}
	return algs
}

// mintIDToken signs an id_token (OpenID Connect Core section 2): iss, sub,
// aud (the client), azp, exp, iat, auth_time, nonce, amr, sid, at_hash, and
// the user's claims for the scopes granted.
func (p *Provider) mintIDToken(ctx context.Context, in idTokenInput) (string, error) {
	k, err := p.idTokenSigner(in.idTokenAlg)
	if err != nil {
		return "", err
	}
	now := p.o.Now()
	c := jwt.MapClaims{
		"iss":       p.o.Issuer,
		"sub":       strconv.FormatInt(in.user.ID, 10),
		"aud":       in.clientID,
		"azp":       in.clientID,
		"iat":       now.Unix(),
		"exp":       now.Add(p.svc.AccessTTL()).Unix(),
		"auth_time": in.authTime.Unix(),
		"sid":       in.sid,
	}
	if in.nonce != "" {
		c["nonce"] = in.nonce
	}
	if len(in.amr) > 0 {
		c["amr"] = in.amr
	}
	if in.accessToken != "" {
		h, err := oidc.ClaimHash(in.accessToken, jose.SignatureAlgorithm(k.Alg))
		if err != nil {
			return "", fmt.Errorf("oidc: at_hash: %w", err)
		}
		c["at_hash"] = h
	}
	claims, err := p.userClaims(ctx, in.user, in.scopes)
	if err != nil {
		return "", err
	}
	for name, v := range claims {
		if name != "sub" {
			c[name] = v
		}
	}
	return token.SignClaims(k, c, "JWT")
}

// userClaims are the user's claims the scopes grant (OpenID Connect Core
// section 5.4): sub always; name and preferred_username for profile;
// email and email_verified for email, when the user has an address.
func (p *Provider) userClaims(ctx context.Context, u *jwtgate.User, scopes []string) (map[string]any, error) {
	out := map[string]any{"sub": strconv.FormatInt(u.ID, 10)}
	if slices.Contains(scopes, oidc.ScopeProfile) {
		out["name"] = u.Name
		out["preferred_username"] = u.Name
	}
	if slices.Contains(scopes, oidc.ScopeEmail) {
		e, err := p.store.UserEmail(ctx, u.ID)
		switch {
		case errors.Is(err, jwtgate.ErrNotFound):
		case err != nil:
			return nil, fmt.Errorf("oidc: user email: %w", err)
		default:
			out["email"] = e.Address
			out["email_verified"] = e.Verified()
		}
	}
	return out, nil
}

// idTokenHint is what an id_token_hint tells the end-session and
// authorization endpoints.
type idTokenHint struct {
	Subject  string
	ClientID string
	SID      string
}

// verifyIDTokenHint checks that raw is an id_token this provider signed
// (with a key still published; its expiry does not matter, OpenID Connect
// RP-Initiated Logout section 2 and Core section 3.1.2.1) and returns what
// it names. Which client it was issued to is the caller's to check.
func (p *Provider) verifyIDTokenHint(raw string) (*idTokenHint, error) {
	if len(raw) > token.MaxLen {
		return nil, errors.New("id_token_hint too large")
	}
	parser := jwt.NewParser(jwt.WithoutClaimsValidation(), jwt.WithIssuer(p.o.Issuer), jwt.WithValidMethods([]string{token.RS256, token.ES256, token.EdDSA}))
	claims := jwt.MapClaims{}
	_, err := parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		if typ, _ := t.Header["typ"].(string); typ != "JWT" {
			return nil, errors.New("not an id_token")
		}
		kid, _ := t.Header["kid"].(string)
		k, ok := p.keys.Lookup(kid)
		if !ok || k.Alg != t.Method.Alg() {
			return nil, errors.New("unknown key")
		}
		return k.Public(), nil
	})
	if err != nil {
		return nil, fmt.Errorf("id_token_hint: %w", err)
	}
	iss, _ := claims["iss"].(string)
	if iss != p.o.Issuer {
		return nil, errors.New("id_token_hint: wrong issuer")
	}
	h := &idTokenHint{}
	h.Subject, _ = claims["sub"].(string)
	h.ClientID, _ = claims["azp"].(string)
	h.SID, _ = claims["sid"].(string)
	if h.ClientID == "" {
		h.ClientID, _ = claims["aud"].(string)
	}
	return h, nil
}
