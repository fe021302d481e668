package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/token"
)

// handleJWKS publishes the public keys whose tokens may be live, and the
// pending key. Verifiers may cache it for the keyring's JWKSMaxAge, which
// the publish delay exceeds, so a cached JWKS always knows the key that
// signs. With a shared secret there is nothing to publish: 404.
func handleJWKS(logger *slog.Logger, kr *auth.Keyring) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if kr == nil {
			writeError(w, http.StatusNotFound, "not_found", "no public keys: tokens are signed with a shared secret")
			return
		}
		b, err := token.MarshalJWKS(kr.Published())
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(kr.JWKSMaxAge().Seconds())))
		// Verifiers on other origins (browsers, SPAs) may fetch it.
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
		_, _ = w.Write(b)
	})
}

// serverMetadata is what discovery publishes: only what this server does
// today (RFC 8414 section 2, OpenID Connect Discovery 1.0 section 3).
// There is no OAuth authorization or token endpoint (POST /login and
// /token/refresh take JSON, not RFC 6749 forms), so no authorization_endpoint,
// token_endpoint or response type is listed, and grant_types_supported is
// given, empty, because its absence would mean ["authorization_code",
// "implicit"]. No id_token is issued, so no id_token signing algorithm is
// listed either. A feature that adds an endpoint adds its member here.
type serverMetadata struct {
	Issuer                 string   `json:"issuer"`
	JWKSURI                string   `json:"jwks_uri,omitempty"` // none with a shared secret
	UserinfoEndpoint       string   `json:"userinfo_endpoint"`  // GET /user: sub, name, ... of the token
	ResponseTypesSupported []string `json:"response_types_supported"`
	GrantTypesSupported    []string `json:"grant_types_supported"`
	SubjectTypesSupported  []string `json:"subject_types_supported"`
	// RevocationFeedEndpoint is jwtgate's own (RFC 8414 section 2 allows
	// more members): the feed the verify package follows.
	RevocationFeedEndpoint string `json:"revocation_feed_endpoint"`
}

// handleDiscovery serves the server's metadata, at both well-known names:
// /.well-known/openid-configuration (OpenID libraries, the verify package)
// and /.well-known/oauth-authorization-server (RFC 8414). The document is
// the same; libraries check that its issuer is the URL they started from.
func handleDiscovery(issuer string, kr *auth.Keyring) http.Handler {
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
		doc.JWKSURI = base + "/.well-known/jwks.json"
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
		writeJSON(w, http.StatusOK, doc)
	})
}

// handleListKeys lists the signing keys (never a private half).
func handleListKeys(kr *auth.Keyring) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if kr == nil {
			writeJSON(w, http.StatusOK, map[string]any{"keys": []auth.KeyInfo{}})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"keys": kr.List()})
	})
}

// handleRotateKey starts a key rotation: the new key is published now and
// signs after the publish delay.
func handleRotateKey(logger *slog.Logger, svc *auth.Service, kr *auth.Keyring) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if kr == nil {
			writeError(w, http.StatusConflict, "shared_secret", "tokens are signed with a shared secret; there is no key to rotate")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		k, err := svc.RotateKey(ctx, kr)
		if errors.Is(err, auth.ErrKeyPending) {
			writeError(w, http.StatusConflict, "key_pending", err.Error())
			return
		}
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"kid": k.ID, "alg": k.Alg, "activates_at": k.ActivatesAt})
	})
}
