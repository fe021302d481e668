package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/passkey"
)

// Passkeys (WebAuthn) over HTTP. Every ceremony has two steps: begin
// answers {"ceremony": ID, "options": {"publicKey": …}} (the options for
// navigator.credentials.create or .get, binary fields base64url), and
// finish takes {"ceremony": ID, "credential": PublicKeyCredential as JSON}.
// The ceremony ID is a single-use token the client carries between the
// two, so they may reach different instances. Registering, listing,
// renaming and deleting need a token; passwordless sign-in is public and,
// on success, answers exactly as POST /login does.

// passkeyJSON is a passkey as the API shows it.
type passkeyJSON struct {
	ID         string     `json:"id"` // the credential ID, base64url
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	// Synced is the backup-eligible flag: a passkey a platform syncs
	// between devices, rather than one bound to a security key.
	Synced     bool     `json:"synced"`
	BackedUp   bool     `json:"backed_up"`
	Transports []string `json:"transports"`
}

func toPasskeyJSON(c *jwtgate.WebAuthnCredential) passkeyJSON {
	tr := c.Transports
	if tr == nil {
		tr = []string{}
	}
	return passkeyJSON{ID: base64.RawURLEncoding.EncodeToString(c.ID), Name: c.Name, CreatedAt: c.CreatedAt,
		LastUsedAt: c.LastUsedAt, Synced: c.BackupEligible, BackedUp: c.BackupState, Transports: tr}
}

// ceremonyJSON answers a begin step.
type ceremonyJSON struct {
	Ceremony string          `json:"ceremony"`
	Options  json.RawMessage `json:"options"`
}

// finishRequest is a finish step's body; Name only when registering.
type finishRequest struct {
	Ceremony   *string         `json:"ceremony"`
	Credential json.RawMessage `json:"credential"`
	Name       *string         `json:"name"`
}

// decodeFinish reads a finish body, with both required members.
func decodeFinish(w http.ResponseWriter, r *http.Request) (*finishRequest, bool) {
	var req finishRequest
	if rerr := decodeJSON(r, &req); rerr != nil {
		rerr.write(w)
		return nil, false
	}
	if req.Ceremony == nil || len(req.Credential) == 0 || string(req.Credential) == "null" {
		writeError(w, http.StatusBadRequest, "invalid_request", `fields "ceremony" and "credential" are required`)
		return nil, false
	}
	return &req, true
}

// passkeyRoutes builds the passkey handlers over pk. A server built
// without passkeys (tests of other parts) answers their routes 404, so the
// route table is the same either way.
func passkeyRoutes(pk *passkey.Service, logger *slog.Logger) func(func(*slog.Logger, *passkey.Service) http.Handler) http.Handler {
	return func(h func(*slog.Logger, *passkey.Service) http.Handler) http.Handler {
		if pk == nil {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeError(w, http.StatusNotFound, "not_found", "this server does not offer passkeys")
			})
		}
		return h(logger, pk)
	}
}

// writePasskeyError maps the ceremonies' errors, then the domain's.
func writePasskeyError(w http.ResponseWriter, logger *slog.Logger, err error) {
	switch {
	case errors.Is(err, passkey.ErrCeremony):
		writeError(w, http.StatusBadRequest, "invalid_ceremony", "unknown, used or expired passkey ceremony; start again")
	case errors.Is(err, passkey.ErrRefused):
		writeError(w, http.StatusBadRequest, "passkey_refused", "the passkey's answer was refused")
	case errors.Is(err, jwtgate.ErrConflict):
		writeError(w, http.StatusConflict, "passkey_exists", "this passkey is registered already")
	case errors.Is(err, jwtgate.ErrNotFound):
		writeError(w, http.StatusNotFound, "not_found", "no such passkey")
	default:
		writeServiceError(w, logger, err)
	}
}

// handleListPasskeys lists the caller's passkeys, oldest first.
func handleListPasskeys(logger *slog.Logger, pk *passkey.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		list, err := pk.List(ctx, ClaimsFrom(r.Context()).UserID)
		if err != nil {
			writePasskeyError(w, logger, err)
			return
		}
		out := make([]passkeyJSON, 0, len(list))
		for i := range list {
			out = append(out, toPasskeyJSON(&list[i]))
		}
		writeJSON(w, http.StatusOK, map[string]any{"passkeys": out})
	})
}

// handleBeginPasskeyRegistration starts adding a passkey for the caller.
func handleBeginPasskeyRegistration(logger *slog.Logger, pk *passkey.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		id, opts, err := pk.BeginRegistration(ctx, ClaimsFrom(r.Context()).UserID)
		if err != nil {
			writePasskeyError(w, logger, err)
			return
		}
		writeJSON(w, http.StatusOK, ceremonyJSON{Ceremony: id, Options: opts})
	})
}

// defaultPasskeyName labels a passkey registered without a name.
const defaultPasskeyName = "Passkey"

// handleFinishPasskeyRegistration stores the caller's new passkey: 201
// with it. The ceremony must be the caller's own.
func handleFinishPasskeyRegistration(logger *slog.Logger, pk *passkey.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, ok := decodeFinish(w, r)
		if !ok {
			return
		}
		name := defaultPasskeyName
		if req.Name != nil {
			name = *req.Name
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		c, err := pk.FinishRegistration(ctx, ClaimsFrom(r.Context()).UserID, *req.Ceremony, name, req.Credential)
		if err != nil {
			writePasskeyError(w, logger, err)
			return
		}
		writeJSON(w, http.StatusCreated, toPasskeyJSON(c))
	})
}

type renamePasskeyRequest struct {
	Name *string `json:"name"`
}

// handleRenamePasskey relabels one of the caller's passkeys; 404 if the
// caller has none with that ID.
func handleRenamePasskey(logger *slog.Logger, pk *passkey.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := passkey.DecodeID(r.PathValue("id"))
		if err != nil {
			writePasskeyError(w, logger, err)
			return
		}
		var req renamePasskeyRequest
		if rerr := decodeJSON(r, &req); rerr != nil {
			rerr.write(w)
			return
		}
		if req.Name == nil {
			writeError(w, http.StatusBadRequest, "invalid_request", `field "name" is required`)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		if err := pk.Rename(ctx, ClaimsFrom(r.Context()).UserID, id, *req.Name); err != nil {
			writePasskeyError(w, logger, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleDeletePasskey removes one of the caller's passkeys; 404 if the
// caller has none with that ID.
func handleDeletePasskey(logger *slog.Logger, pk *passkey.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := passkey.DecodeID(r.PathValue("id"))
		if err != nil {
			writePasskeyError(w, logger, err)
			return
		}
		c := ClaimsFrom(r.Context())
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		if err := pk.Delete(ctx, &jwtgate.User{ID: c.UserID, Name: c.Name}, id); err != nil {
			writePasskeyError(w, logger, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleBeginPasskeyLogin starts a passwordless sign-in with a
// discoverable credential (public).
func handleBeginPasskeyLogin(logger *slog.Logger, pk *passkey.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		id, opts, err := pk.BeginPasswordless(ctx)
		if err != nil {
			writePasskeyError(w, logger, err)
			return
		}
		writeJSON(w, http.StatusOK, ceremonyJSON{Ceremony: id, Options: opts})
	})
}
