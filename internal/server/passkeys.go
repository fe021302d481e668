package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/passkey"
	"github.com/jwtgate/jwtgate/internal/throttle"
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

// offersPasskeys returns middleware for the passkey routes: a server built
// without passkeys (its issuer is an IP address, or a test of other
// parts) answers them 404, so the route table is the same either way, and
// the handlers, built with a nil service, are never called.
func offersPasskeys(pk *passkey.Service) func(http.Handler) http.Handler {
	return func(h http.Handler) http.Handler {
		if pk == nil {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				writeError(w, http.StatusNotFound, "not_found", "this server does not offer passkeys")
			})
		}
		return h
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
// Adding a factor is a sensitive change: a user who has one already sends
// {"code"} (TOTP or recovery code) or signed in with a second factor in
// the last minutes (step-up, 403 step_up_required otherwise); the first
// factor needs none.
func handleBeginPasskeyRegistration(logger *slog.Logger, pk *passkey.Service, svc *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, rerr := decodeCode(r)
		if rerr != nil {
			rerr.write(w)
			return
		}
		c := ClaimsFrom(r.Context())
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		if err := svc.StepUp(ctx, c, str(req.Code)); err != nil {
			writeMFAError(w, r, logger, err)
			return
		}
		id, opts, err := pk.BeginRegistration(ctx, c.UserID)
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
// caller has none with that ID. It is a sensitive change: step-up as for
// adding one (an optional {"code"} body).
func handleDeletePasskey(logger *slog.Logger, pk *passkey.Service, svc *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, err := passkey.DecodeID(r.PathValue("id"))
		if err != nil {
			writePasskeyError(w, logger, err)
			return
		}
		req, rerr := decodeCode(r)
		if rerr != nil {
			rerr.write(w)
			return
		}
		c := ClaimsFrom(r.Context())
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		if err := svc.StepUp(ctx, c, str(req.Code)); err != nil {
			writeMFAError(w, r, logger, err)
			return
		}
		if err := pk.Delete(ctx, &jwtgate.User{ID: c.UserID, Name: c.Name}, id); err != nil {
			writePasskeyError(w, logger, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// passwordlessPolicy bounds the passwordless sign-ins one client address
// (see throttle.IPKey) may begin: each stores a challenge before anything
// is known of the client, so a flood would fill the store. 30 a minute is
// far more than a person clicks "Sign in with a passkey".
var passwordlessPolicy = throttle.Policy{MaxFailures: 30, Window: time.Minute, BanTime: time.Minute, MaxBan: 15 * time.Minute}

// handleBeginPasskeyLogin starts a passwordless sign-in with a
// discoverable credential (public); 429 with Retry-After past
// passwordlessPolicy (counted per instance).
func handleBeginPasskeyLogin(logger *slog.Logger, pk *passkey.Service) http.Handler {
	lim := throttle.NewMemory(passwordlessPolicy, nil)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		ip, _ := netip.ParseAddr(auth.ClientFrom(r.Context()).IP)
		key := throttle.IPKey(ip)
		if wait, _ := lim.Check(ctx, key); wait > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
			writeError(w, http.StatusTooManyRequests, "throttled", "too many passkey sign-ins from this address; retry later")
			return
		}
		_, _ = lim.Fail(ctx, key) // memory: never fails
		id, opts, err := pk.BeginPasswordless(ctx)
		if err != nil {
			writePasskeyError(w, logger, err)
			return
		}
		writeJSON(w, http.StatusOK, ceremonyJSON{Ceremony: id, Options: opts})
	})
}

// handleFinishPasskeyLogin signs in with a passkey alone (public): the
// answer to a ceremony of POST /login/passkey/begin, with user
// verification. Success answers exactly as POST /login does (JSON and
// cookies), with amr hwk or swk, user and mfa.
func handleFinishPasskeyLogin(logger *slog.Logger, pk *passkey.Service, svc *auth.Service, ck cookies) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req, ok := decodeFinish(w, r)
		if !ok {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		res, err := pk.FinishLogin(ctx, 0, *req.Ceremony, req.Credential)
		if err != nil {
			writePasskeyError(w, logger, err)
			return
		}
		c := auth.ClientFrom(r.Context())
		c.Device, _ = cookieValue(r.Header, deviceCookieName(ck))
		tok, err := svc.StartSession(ctx, res.User, res.AMR, c)
		if errors.Is(err, jwtgate.ErrBadCredentials) {
			// Disabled or deleted since the assertion: as a refused passkey.
			writePasskeyError(w, logger, passkey.ErrRefused)
			return
		}
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		writeTokens(w, r, svc, ck, tok)
	})
}

type mfaPasskeyRequest struct {
	MFAToken   *string         `json:"mfa_token"`
	Ceremony   *string         `json:"ceremony"`
	Credential json.RawMessage `json:"credential"`
}

// handleBeginMFAPasskey starts a passkey check as the second step of a
// login (public): {"mfa_token"} in, a ceremony for that user's passkeys
// out. The token is not spent: POST /login/mfa/passkey spends it.
func handleBeginMFAPasskey(logger *slog.Logger, pk *passkey.Service, svc *auth.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req mfaPasskeyRequest
		if rerr := decodeJSON(r, &req); rerr != nil {
			rerr.write(w)
			return
		}
		if req.MFAToken == nil {
			writeError(w, http.StatusBadRequest, "invalid_request", `field "mfa_token" is required`)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		u, err := svc.MFAUser(ctx, *req.MFAToken)
		if err != nil {
			writeMFAError(w, r, logger, err)
			return
		}
		id, opts, err := pk.BeginLogin(ctx, u.ID)
		if errors.Is(err, jwtgate.ErrNotFound) {
			writeError(w, http.StatusConflict, "no_factor", "this account has no passkey; use a code")
			return
		}
		if err != nil {
			writePasskeyError(w, logger, err)
			return
		}
		writeJSON(w, http.StatusOK, ceremonyJSON{Ceremony: id, Options: opts})
	})
}

// handleFinishMFAPasskey finishes a login with a passkey as the second
// factor (public): {"mfa_token","ceremony","credential"}. Success answers
// exactly as POST /login does, with amr pwd, hwk or swk (and user), mfa.
// A refused passkey leaves the mfa_token usable.
func handleFinishMFAPasskey(logger *slog.Logger, pk *passkey.Service, svc *auth.Service, ck cookies) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req mfaPasskeyRequest
		if rerr := decodeJSON(r, &req); rerr != nil {
			rerr.write(w)
			return
		}
		if req.MFAToken == nil || req.Ceremony == nil || len(req.Credential) == 0 || string(req.Credential) == "null" {
			writeError(w, http.StatusBadRequest, "invalid_request", `fields "mfa_token", "ceremony" and "credential" are required`)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		c := auth.ClientFrom(r.Context())
		c.Device, _ = cookieValue(r.Header, deviceCookieName(ck))
		tok, err := svc.FinishMFA(ctx, *req.MFAToken, c, func(ctx context.Context, u *jwtgate.User) ([]string, error) {
			// The ceremony was begun for the token's user (BeginLogin),
			// and FinishLogin refuses one begun for another.
			res, err := pk.FinishLogin(ctx, u.ID, *req.Ceremony, req.Credential)
			if err != nil {
				return nil, err
			}
			if res.User.ID != u.ID {
				return nil, passkey.ErrRefused
			}
			return res.AMR, nil
		})
		switch {
		case err == nil:
			writeTokens(w, r, svc, ck, tok)
		case errors.Is(err, passkey.ErrCeremony), errors.Is(err, passkey.ErrRefused):
			writePasskeyError(w, logger, err)
		default:
			writeMFAError(w, r, logger, err)
		}
	})
}
