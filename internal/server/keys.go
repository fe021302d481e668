package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

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
