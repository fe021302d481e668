package server

import (
	"context"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/token"
)

// JWKSMaxAge is how long verifiers may cache the JWKS. The key publish
// delay must exceed it (serve checks), so a cached JWKS always knows the
// key that signs.
const JWKSMaxAge = 5 * time.Minute

// handleJWKS publishes the public keys whose tokens may be live, and the
// pending key. With a shared secret there is nothing to publish: 404.
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
		w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(JWKSMaxAge.Seconds())))
		// Verifiers on other origins (browsers, SPAs) may fetch it.
		w.Header().Set("Access-Control-Allow-Origin", "*")
		w.Header().Set("Cross-Origin-Resource-Policy", "cross-origin")
		_, _ = w.Write(b)
	})
}

// handleDiscovery serves the OpenID-style metadata that lets standard
// libraries find the JWKS from the issuer URL alone.
func handleDiscovery(issuer string, kr *auth.Keyring) http.Handler {
	base := strings.TrimRight(issuer, "/")
	algs := []string{token.HS256}
	if kr != nil {
		algs = []string{token.EdDSA, token.ES256, token.RS256}
	}
	doc := map[string]any{
		"issuer":                                issuer,
		"token_endpoint":                        base + "/login",
		"revocation_feed_endpoint":              base + "/revocations",
		"userinfo_endpoint":                     base + "/user",
		"response_types_supported":              []string{"token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": algs,
		"token_endpoint_auth_methods_supported": []string{"none"},
	}
	if kr != nil {
		doc["jwks_uri"] = base + "/.well-known/jwks.json"
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
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		writeJSON(w, http.StatusCreated, map[string]any{"kid": k.ID, "alg": k.Alg, "activates_at": k.ActivatesAt})
	})
}
