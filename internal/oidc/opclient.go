package oidc

import (
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/jwtgate/jwtgate"
)

// opClient presents a jwtgate client to the op library, which asks it what
// the client may do while it parses and routes requests.
type opClient struct{ c *jwtgate.Client }

func (o opClient) GetID() string                    { return o.c.ID }
func (o opClient) RedirectURIs() []string           { return o.c.RedirectURIs }
func (o opClient) PostLogoutRedirectURIs() []string { return o.c.PostLogoutRedirectURIs }

// ApplicationType: a public client is a native app or a single-page app;
// the library then allows RFC 8252 loopback ports and private-use schemes,
// which CheckRedirectURI already limited to public clients.
func (o opClient) ApplicationType() op.ApplicationType {
	if o.c.Public {
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}

func (o opClient) AuthMethod() oidc.AuthMethod {
	if o.c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}

// ResponseTypes names the implicit ones too, only so that the library lets
// such a request reach Authorize, which refuses it with the standard
// unsupported_response_type (the library would say unauthorized_client).
func (o opClient) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode, oidc.ResponseTypeIDToken, oidc.ResponseTypeIDTokenOnly,
		"token", "code id_token", "code token", "code id_token token", "none"}
}

// GrantTypes: client_credentials only for a confidential client, which can
// prove who it is.
func (o opClient) GrantTypes() []oidc.GrantType {
	g := []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
	if !o.c.Public {
		g = append(g, oidc.GrantTypeClientCredentials)
	}
	return g
}

func (o opClient) LoginURL(string) string               { return "" }
func (o opClient) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeJWT }
func (o opClient) IDTokenLifetime() time.Duration       { return 0 }
func (o opClient) DevMode() bool                        { return false }
func (o opClient) IDTokenUserinfoClaimsAssertion() bool { return true }
func (o opClient) ClockSkew() time.Duration             { return 0 }
func (o opClient) IsScopeAllowed(scope string) bool     { return false }
func (o opClient) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (o opClient) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
