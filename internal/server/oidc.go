package server

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/oidc"
)

// The OpenID Provider's HTTP side. The protocol endpoints (authorization,
// token, userinfo, revocation, introspection) are the op handler of
// internal/oidc, mounted route by route in routes.go; what involves the
// browser's session cookie or a page is here: the authorization
// endpoint's guard and continuation, the consent page's API, RP-initiated
// logout, and the user's connected apps.

// oidcUnavailable answers every provider route when there is no provider
// (the shared-secret mode has no asymmetric keys to sign id_tokens with).
func oidcUnavailable() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "oidc_unavailable", "the OpenID Provider needs asymmetric keys; it is off with a shared secret")
	})
}

// handleOIDC serves a protocol endpoint through the op handler, after
// refusing repeated, oversized or malformed parameters (RFC 6749 section
// 3.2: parameters must not be included more than once) with the OAuth
// invalid_request.
func handleOIDC(p *oidc.Provider) http.Handler {
	if p == nil {
		return oidcUnavailable()
	}
	h := p.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := r.ParseForm()
		if err == nil {
			err = oidc.CheckParams(r.Form)
		}
		if err != nil {
			var tooBig *http.MaxBytesError
			status := http.StatusBadRequest
			if errors.As(err, &tooBig) {
				status = http.StatusRequestEntityTooLarge
			}
			w.Header().Set("Cache-Control", "no-store")
			writeJSON(w, status, map[string]string{"error": "invalid_request", "error_description": err.Error()})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// withCORS lets browser apps on any origin (single-page apps, public
// clients with PKCE) call an OAuth endpoint that authenticates by what the
// request carries (client credentials, a code, a refresh or bearer token),
// never by cookie: answers are readable from any origin, without
// credentials (no Access-Control-Allow-Credentials), so a page elsewhere
// gains nothing a server of its own could not do.
func withCORS(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		h.ServeHTTP(w, r)
	})
}

// handleOAuthPreflight answers the CORS preflight of those endpoints.
func handleOAuthPreflight() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Allow-Methods", "GET, POST")
		h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, DPoP")
		h.Set("Access-Control-Max-Age", "600")
		h.Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
	})
}

// handleUserinfo is the userinfo endpoint, whose 401 carries the RFC 6750
// challenge the library leaves out.
func handleUserinfo(p *oidc.Provider) http.Handler {
	h := handleOIDC(p)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(challengeWriter{w}, r)
	})
}

// challengeWriter adds WWW-Authenticate to a 401.
type challengeWriter struct{ http.ResponseWriter }

func (c challengeWriter) WriteHeader(code int) {
	if code == http.StatusUnauthorized {
		c.Header().Set("WWW-Authenticate", `Bearer realm="jwtgate", error="invalid_token"`)
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c challengeWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// handleAuthorize is the authorization endpoint. It checks the request's
// parameters, client and redirect URI first and answers a failure with an
// error page, never a redirect (RFC 6749 section 4.1.2.1: the redirect
// URI is not trusted until it is known); the op handler does the rest.
func handleAuthorize(p *oidc.Provider) http.Handler {
	if p == nil {
		return oidcUnavailable()
	}
	h := p.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			oidcErrorPage(w, http.StatusBadRequest, "The request could not be read: "+err.Error())
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		if _, err := p.CheckAuthorize(ctx, r.Form); err != nil {
			oidcErrorPage(w, http.StatusBadRequest, oauthErrorText(err))
			return
		}
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// browserOf is the browser's jwtgate session from its session cookie, nil
// without a valid one. Tokens issued to clients never count: only a login
// on jwtgate's own page makes a browser session.
func browserOf(r *http.Request, svc *auth.Service, ck cookies) *oidc.Browser {
	raw, ok := cookieValue(r.Header, ck.access)
	if !ok {
		return nil
	}
	c, err := svc.Verify(raw)
	if err != nil || c.ClientID != "" || c.SessionID == "" {
		return nil
	}
	return &oidc.Browser{SessionID: c.SessionID, AMR: c.AMR}
}

// handleAuthorizeContinue takes the browser through login and consent and
// back to the client (oidc.Provider.Continue decides).
func handleAuthorizeContinue(logger *slog.Logger, p *oidc.Provider, svc *auth.Service, ck cookies) http.Handler {
	if p == nil {
		return oidcUnavailable()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		step, err := p.Continue(ctx, r.URL.Query().Get("id"), browserOf(r, svc, ck))
		if errors.Is(err, oidc.ErrRequestGone) {
			oidcErrorPage(w, http.StatusBadRequest, err.Error())
			return
		}
		if err != nil {
			logger.Error("authorization", "id", w.Header().Get("X-Request-Id"), "err", err)
			oidcErrorPage(w, http.StatusInternalServerError, "Something went wrong. Go back to the app and try again.")
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, step.URL, http.StatusFound)
	})
}

type consentInfo struct {
	ClientID   string   `json:"client_id"`
	ClientName string   `json:"client_name"`
	Scopes     []string `json:"scopes"`
	User       string   `json:"user"`
}

// handleConsentRequest tells the consent page which app asks for what.
func handleConsentRequest(logger *slog.Logger, p *oidc.Provider) http.Handler {
	if p == nil {
		return oidcUnavailable()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		req, c, err := p.ConsentInfo(ctx, r.URL.Query().Get("id"))
		if errors.Is(err, oidc.ErrRequestGone) {
			writeError(w, http.StatusNotFound, "request_gone", err.Error())
			return
		}
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		writeJSON(w, http.StatusOK, consentInfo{ClientID: c.ID, ClientName: c.Name, Scopes: req.Scopes, User: ClaimsFrom(r.Context()).Name})
	})
}

type consentDecision struct {
	ID      *string `json:"id"`
	Approve *bool   `json:"approve"`
}

// handleConsent records the user's answer and says where the browser goes
// next ({"redirect_to": URL}). It is a same-origin JSON POST: the server's
// cross-origin protection refuses it from any other site, so no page can
// approve an app on the user's behalf.
func handleConsent(logger *slog.Logger, p *oidc.Provider) http.Handler {
	if p == nil {
		return oidcUnavailable()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req consentDecision
		if rerr := decodeJSON(r, &req); rerr != nil {
			rerr.write(w)
			return
		}
		if req.ID == nil || req.Approve == nil {
			writeError(w, http.StatusBadRequest, "invalid_request", `want {"id": STRING, "approve": BOOLEAN}`)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		c := ClaimsFrom(r.Context())
		step, err := p.Decide(ctx, *req.ID, &oidc.Browser{SessionID: c.SessionID}, *req.Approve)
		if errors.Is(err, oidc.ErrRequestGone) {
			writeError(w, http.StatusNotFound, "request_gone", err.Error())
			return
		}
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"redirect_to": step.URL})
	})
}

// handleEndSession is RP-initiated logout (GET or POST form). A valid
// id_token_hint is required; the browser goes back only to a registered
// post_logout_redirect_uri, and otherwise sees a page saying it is logged
// out.
func handleEndSession(logger *slog.Logger, p *oidc.Provider, svc *auth.Service, ck cookies) http.Handler {
	if p == nil {
		return oidcUnavailable()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			oidcErrorPage(w, http.StatusBadRequest, "The request could not be read.")
			return
		}
		if err := oidc.CheckParams(r.Form); err != nil {
			oidcErrorPage(w, http.StatusBadRequest, err.Error())
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		f := r.Form
		b := browserOf(r, svc, ck)
		if f.Get("id_token_hint") == "" {
			endSessionUnhinted(w, r, logger, p, b, ck)
			return
		}
		to, err := p.Logout(ctx, f.Get("id_token_hint"), f.Get("client_id"), f.Get("post_logout_redirect_uri"), f.Get("state"), b)
		if errors.Is(err, jwtgate.ErrInvalid) {
			oidcErrorPage(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), jwtgate.ErrInvalid.Error()+": "))
			return
		}
		if err != nil {
			logger.Error("end session", "id", w.Header().Get("X-Request-Id"), "err", err)
			oidcErrorPage(w, http.StatusInternalServerError, "Something went wrong; you may still be logged in.")
			return
		}
		if b != nil {
			ck.clear(w, r)
		}
		if to != "" {
			w.Header().Set("Cache-Control", "no-store")
			http.Redirect(w, r, to, http.StatusFound)
			return
		}
		oidcPage(w, http.StatusOK, "Logged out", "You are logged out of the app. You can close this page.")
	})
}

// endSessionUnhinted is a logout request without an id_token_hint: any
// page could send one, so jwtgate asks the user first (OpenID Connect
// RP-Initiated Logout section 2). The page's form posts back here with
// confirm=1, which the server's cross-origin protection lets through only
// from jwtgate's own page; then the browser's session ends and the page
// links back to the app's registered post-logout URI. A link, not a
// redirect: the pages' CSP (form-action 'self') would stop a form's
// redirect to another origin.
func endSessionUnhinted(w http.ResponseWriter, r *http.Request, logger *slog.Logger, p *oidc.Provider, b *oidc.Browser, ck cookies) {
	ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
	defer cancel()
	f := r.Form
	to, err := p.LogoutTarget(ctx, f.Get("client_id"), f.Get("post_logout_redirect_uri"), f.Get("state"))
	if errors.Is(err, jwtgate.ErrInvalid) {
		oidcErrorPage(w, http.StatusBadRequest, strings.TrimPrefix(err.Error(), jwtgate.ErrInvalid.Error()+": "))
		return
	}
	if err != nil {
		logger.Error("end session", "id", w.Header().Get("X-Request-Id"), "err", err)
		oidcErrorPage(w, http.StatusInternalServerError, "Something went wrong; you may still be logged in.")
		return
	}
	if r.Method != http.MethodPost || f.Get("confirm") != "1" {
		if b == nil {
			oidcPageLink(w, http.StatusOK, "Logged out", "You are not logged in to jwtgate.", to, nil)
			return
		}
		oidcPageLink(w, http.StatusOK, "Log out?", "An app asks to log you out of jwtgate.", "", url.Values{
			"client_id": {f.Get("client_id")}, "post_logout_redirect_uri": {f.Get("post_logout_redirect_uri")}, "state": {f.Get("state")}, "confirm": {"1"},
		})
		return
	}
	if err := p.EndBrowserSession(ctx, b); err != nil {
		logger.Error("end session", "id", w.Header().Get("X-Request-Id"), "err", err)
		oidcErrorPage(w, http.StatusInternalServerError, "Something went wrong; you may still be logged in.")
		return
	}
	ck.clear(w, r)
	oidcPageLink(w, http.StatusOK, "Logged out", "You are logged out of jwtgate.", to, nil)
}

// handleListApps lists the apps the user has approved ("Connected apps").
func handleListApps(logger *slog.Logger, p *oidc.Provider) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p == nil {
			writeJSON(w, http.StatusOK, map[string]any{"apps": []oidc.ConnectedApp{}})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		apps, err := p.ConnectedApps(ctx, ClaimsFrom(r.Context()).UserID)
		if err != nil {
			writeServiceError(w, logger, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"apps": apps})
	})
}

// handleDisconnectApp forgets the user's consent for an app and ends its
// sessions: its tokens stop working at once.
func handleDisconnectApp(logger *slog.Logger, p *oidc.Provider) http.Handler {
	if p == nil {
		return oidcUnavailable()
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), requestTimeout)
		defer cancel()
		if err := p.Disconnect(ctx, ClaimsFrom(r.Context()).UserID, r.PathValue("client_id")); err != nil {
			writeServiceError(w, logger, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// oauthErrorText is what the error page says about an authorization
// request refused before its redirect URI was trusted.
func oauthErrorText(err error) string {
	msg := "it was refused"
	var oe *zoidc.Error
	if errors.As(err, &oe) && oe.Description != "" {
		msg = oe.Description
	}
	return "This sign-in request is not valid: " + msg + ". The app that sent you here is misconfigured; nothing was sent back to it."
}

var oidcPageTemplate = template.Must(template.New("oidc").Parse(`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="color-scheme" content="light dark">
  <meta name="referrer" content="no-referrer">
  <title>{{.Title}} · jwtgate</title>
  <link rel="icon" href="/assets/favicon.svg" type="image/svg+xml">
  <link rel="stylesheet" href="/assets/app.css">
</head>
<body>
  <header class="site-header">
    <a class="brand" href="/"><span class="brand-name">jwtgate</span></a>
  </header>
  <main class="page">
    <section class="card" aria-labelledby="oidc-title">
      <div class="card-head">
        <h1 id="oidc-title">{{.Title}}</h1>
        <p class="lead" id="oidc-message">{{.Message}}</p>
      </div>
      {{- if .Form}}
      <form class="form" method="post" action="/oauth2/end_session">
        {{- range $k, $v := .Form}}
        <input type="hidden" name="{{$k}}" value="{{index $v 0}}">
        {{- end}}
        <button id="oidc-confirm" class="button button-primary button-block" type="submit"><span class="button-label">Log out</span></button>
      </form>
      {{- end}}
      {{- if .Link}}
      <p><a id="oidc-return" class="button button-block" href="{{.Link}}">Return to the app</a></p>
      {{- end}}
    </section>
  </main>
</body>
</html>
`))

// oidcErrorPage answers a browser with a page instead of a redirect.
func oidcErrorPage(w http.ResponseWriter, status int, msg string) {
	oidcPage(w, status, "Sign-in failed", msg)
}

func oidcPage(w http.ResponseWriter, status int, title, msg string) {
	oidcPageLink(w, status, title, msg, "", nil)
}

// oidcPageLink is a page with, optionally, a link (a URI the server
// checked) and a form posting back to the end-session endpoint.
func oidcPageLink(w http.ResponseWriter, status int, title, msg, link string, form url.Values) {
	w.Header()["Content-Security-Policy"] = pagePolicy
	setDocumentHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = oidcPageTemplate.Execute(w, struct {
		Title, Message string
		Link           template.URL
		Form           url.Values
	}{title, msg, template.URL(link), form}) // link: a registered URI (CheckRedirectURI), possibly a native app's own scheme
}
