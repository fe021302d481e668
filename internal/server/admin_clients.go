package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/oidc"
)

// ClientJSON is the wire form of an OpenID Connect client, shared by the
// admin API and `jwtgate client list|show --json`. It never holds the
// secret or its hash. Scopes and IDTokenAlg are what the client gets: the
// defaults filled in when it registered none.
type ClientJSON struct {
	ClientID               string    `json:"client_id"`
	Name                   string    `json:"name"`
	Public                 bool      `json:"public"`
	Trusted                bool      `json:"trusted"`
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	Scopes                 []string  `json:"scopes"`
	IDTokenAlg             string    `json:"id_token_alg"`
	CreatedAt              time.Time `json:"created_at"`
	UpdatedAt              time.Time `json:"updated_at"`
}

// ToClientJSON makes c's wire form.
func ToClientJSON(c *jwtgate.Client) ClientJSON {
	orEmpty := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	scopes := c.Scopes
	if len(scopes) == 0 {
		scopes = oidc.SupportedScopes
	}
	alg := c.IDTokenAlg
	if alg == "" {
		alg = "RS256"
	}
	return ClientJSON{
		ClientID: c.ID, Name: c.Name, Public: c.Public, Trusted: c.Trusted,
		RedirectURIs: orEmpty(c.RedirectURIs), PostLogoutRedirectURIs: orEmpty(c.PostLogoutRedirectURIs),
		Scopes: scopes, IDTokenAlg: alg, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

// createdClientJSON answers a registration: the client and, for a
// confidential one, its secret, which the server never shows again.
type createdClientJSON struct {
	ClientJSON
	ClientSecret string `json:"client_secret,omitempty"`
}

// clientRoutes wraps the admin client handlers: with no client registry
// (a server built without one, as some tests build it) they answer 404.
func clientRoutes(clients *oidc.Clients, logger *slog.Logger) func(func(*slog.Logger, *oidc.Clients) http.Handler) http.Handler {
	return func(mk func(*slog.Logger, *oidc.Clients) http.Handler) http.Handler {
		if clients == nil {
			return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				writeError(w, http.StatusNotFound, "not_found", "this server has no OpenID Connect clients")
			})
		}
		return mk(logger, clients)
	}
}

// handleListClients lists every client, ordered by name: {"clients": [...]}.
func handleListClients(logger *slog.Logger, clients *oidc.Clients) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		list, err := clients.List(ctx)
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		out := make([]ClientJSON, 0, len(list))
		for i := range list {
			out = append(out, ToClientJSON(&list[i]))
		}
		writeJSON(w, http.StatusOK, map[string]any{"clients": out})
	})
}

type createClientRequest struct {
	Name                   *string  `json:"name"`
	RedirectURIs           []string `json:"redirect_uris"`
	PostLogoutRedirectURIs []string `json:"post_logout_redirect_uris"`
	Public                 bool     `json:"public"`
	Scopes                 []string `json:"scopes"`
	Trusted                bool     `json:"trusted"`
	IDTokenAlg             string   `json:"id_token_alg"`
}

// handleCreateClient registers a client: 201 with the client and, for a
// confidential one, "client_secret" (shown this once); 400 naming what is
// wrong (a redirect URI that is not exact https or loopback http, an
// unknown scope...); 409 when the name is taken.
func handleCreateClient(logger *slog.Logger, clients *oidc.Clients) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req createClientRequest
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
		c, secret, err := clients.Create(ctx, oidc.ClientSpec{
			Name: *req.Name, RedirectURIs: req.RedirectURIs, PostLogoutRedirectURIs: req.PostLogoutRedirectURIs,
			Public: req.Public, Scopes: req.Scopes, Trusted: req.Trusted, IDTokenAlg: req.IDTokenAlg,
		})
		if errors.Is(err, jwtgate.ErrConflict) {
			writeError(w, http.StatusConflict, "conflict", "a client named "+*req.Name+" already exists")
			return
		}
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		writeJSON(w, http.StatusCreated, createdClientJSON{ClientJSON: ToClientJSON(c), ClientSecret: secret})
	})
}

// findClient looks up the client whose client_id is the path's {id}
// (exactly: the CLI also takes names, the API does not, so that a path
// always means one client). It answers 404 itself when there is none.
func findClient(w http.ResponseWriter, r *http.Request, logger *slog.Logger, clients *oidc.Clients) *jwtgate.Client {
	id := r.PathValue("id")
	c, err := clients.Find(r.Context(), id)
	if err == nil && c.ID != id {
		err = jwtgate.ErrNotFound
	}
	if errors.Is(err, jwtgate.ErrNotFound) {
		writeError(w, http.StatusNotFound, "not_found", "no such client")
		return nil
	}
	if err != nil {
		writeServiceError(w, logger, err)
		return nil
	}
	return c
}

// handleGetClient answers one client, 404 if unknown.
func handleGetClient(logger *slog.Logger, clients *oidc.Clients) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c := findClient(w, r, logger, clients); c != nil {
			writeJSON(w, http.StatusOK, ToClientJSON(c))
		}
	})
}

// handleDeleteClient removes a client: 204, 404 if unknown.
func handleDeleteClient(logger *slog.Logger, clients *oidc.Clients) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := findClient(w, r, logger, clients)
		if c == nil {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		err := clients.Delete(ctx, c.ID)
		if errors.Is(err, jwtgate.ErrNotFound) { // deleted meanwhile
			writeError(w, http.StatusNotFound, "not_found", "no such client")
			return
		}
		answerChange(w, logger, err)
	})
}

// handleRotateClientSecret gives a confidential client a new secret and
// answers it once, {"client_id","client_secret"}; the old one stops
// working at once. 400 for a public client (it has none), 404 if unknown.
func handleRotateClientSecret(logger *slog.Logger, clients *oidc.Clients) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := findClient(w, r, logger, clients)
		if c == nil {
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		secret, err := clients.RotateSecret(ctx, c.ID)
		if err != nil {
			if errors.Is(err, jwtgate.ErrInvalid) {
				writeError(w, http.StatusBadRequest, "invalid_request", strings.TrimPrefix(err.Error(), jwtgate.ErrInvalid.Error()+": "))
				return
			}
			writeServiceError(w, logger, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"client_id": c.ID, "client_secret": secret})
	})
}
