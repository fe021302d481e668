package server

import (
	"net/http"
	"strings"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/oidc"
)

// serverMetadata is what discovery publishes: only what this server does
// (RFC 8414 section 2, OpenID Connect Discovery 1.0 section 3). Members
// whose absence would claim a default the server does not honour are
// given explicitly: grant_types_supported (absent means implicit too),
// request_uri_parameter_supported (absent means true). Without the
// OpenID Provider (the shared-secret mode) there is no authorization or
// token endpoint: the lists are empty and userinfo is GET /user.
type serverMetadata struct {
	Issuer                                     string   `json:"issuer"`
	AuthorizationEndpoint                      string   `json:"authorization_endpoint,omitempty"`
	TokenEndpoint                              string   `json:"token_endpoint,omitempty"`
	JWKSURI                                    string   `json:"jwks_uri,omitempty"` // none with a shared secret
	UserinfoEndpoint                           string   `json:"userinfo_endpoint"`
	RevocationEndpoint                         string   `json:"revocation_endpoint,omitempty"`
	IntrospectionEndpoint                      string   `json:"introspection_endpoint,omitempty"`
	EndSessionEndpoint                         string   `json:"end_session_endpoint,omitempty"`
	ScopesSupported                            []string `json:"scopes_supported,omitempty"`
	ResponseTypesSupported                     []string `json:"response_types_supported"`
	ResponseModesSupported                     []string `json:"response_modes_supported,omitempty"`
	GrantTypesSupported                        []string `json:"grant_types_supported"`
	SubjectTypesSupported                      []string `json:"subject_types_supported"`
	IDTokenSigningAlgValuesSupported           []string `json:"id_token_signing_alg_values_supported,omitempty"`
	TokenEndpointAuthMethodsSupported          []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	RevocationEndpointAuthMethodsSupported     []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	IntrospectionEndpointAuthMethodsSupported  []string `json:"introspection_endpoint_auth_methods_supported,omitempty"`
	CodeChallengeMethodsSupported              []string `json:"code_challenge_methods_supported,omitempty"`
	ClaimsSupported                            []string `json:"claims_supported,omitempty"`
	PromptValuesSupported                      []string `json:"prompt_values_supported,omitempty"`
	AuthorizationResponseIssParameterSupported bool     `json:"authorization_response_iss_parameter_supported,omitempty"`
	RequestParameterSupported                  *bool    `json:"request_parameter_supported,omitempty"`
	RequestURIParameterSupported               *bool    `json:"request_uri_parameter_supported,omitempty"`
	// RevocationFeedEndpoint is jwtgate's own (RFC 8414 section 2 allows
	// more members): the feed the verify package follows.
	RevocationFeedEndpoint string `json:"revocation_feed_endpoint"`
}

// metadata is the discovery document of a server at issuer.
func metadata(issuer string, kr *auth.Keyring, p *oidc.Provider) serverMetadata {
	base := strings.TrimRight(issuer, "/")
	doc := serverMetadata{
		Issuer:                 issuer,
		UserinfoEndpoint:       base + "/user",
		ResponseTypesSupported: []string{},
		GrantTypesSupported:    []string{},
		SubjectTypesSupported:  []string{"public"},
		RevocationFeedEndpoint: base + "/revocations",
	}
	if kr != nil {
		doc.JWKSURI = base + oidc.JWKSPath
	}
	if p == nil {
		return doc
	}
	no := false
	doc.AuthorizationEndpoint = base + oidc.AuthorizePath
	doc.TokenEndpoint = base + oidc.TokenPath
	doc.UserinfoEndpoint = base + oidc.UserinfoPath
	doc.RevocationEndpoint = base + oidc.RevokePath
	doc.IntrospectionEndpoint = base + oidc.IntrospectPath
	doc.EndSessionEndpoint = base + oidc.EndSessionPath
	doc.ScopesSupported = oidc.SupportedScopes
	doc.ResponseTypesSupported = []string{"code"}
	doc.ResponseModesSupported = []string{"query"}
	doc.GrantTypesSupported = []string{"authorization_code", "refresh_token", "client_credentials"}
	doc.IDTokenSigningAlgValuesSupported = p.IDTokenAlgs()
	doc.TokenEndpointAuthMethodsSupported = []string{"client_secret_basic", "client_secret_post", "none"}
	doc.RevocationEndpointAuthMethodsSupported = []string{"client_secret_basic", "client_secret_post", "none"}
	doc.IntrospectionEndpointAuthMethodsSupported = []string{"client_secret_basic", "client_secret_post"}
	doc.CodeChallengeMethodsSupported = []string{"S256"}
	doc.ClaimsSupported = []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "amr", "sid", "azp", "at_hash",
		"name", "preferred_username", "email", "email_verified"}
	doc.PromptValuesSupported = []string{"none", "login", "consent"}
	doc.AuthorizationResponseIssParameterSupported = true
	doc.RequestParameterSupported = &no
	doc.RequestURIParameterSupported = &no
	return doc
}

// handleDiscovery serves the server's metadata, at both well-known names:
// /.well-known/openid-configuration (OpenID libraries, the verify package)
// and /.well-known/oauth-authorization-server (RFC 8414). The document is
// the same; libraries check that its issuer is the URL they started from.
func handleDiscovery(issuer string, kr *auth.Keyring, p *oidc.Provider) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
		writeJSON(w, http.StatusOK, metadata(issuer, kr, p))
	})
}
