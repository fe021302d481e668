package server

import (
	"net/http"

	"github.com/jwtgate/jwtgate/internal/clientip"
)

// addRoutes is the whole API on one screen. Routes wrapped in authed need a
// valid access token (Bearer header or session cookie), admin ones also the
// admin role; the rest are public. Anything not listed falls to the
// catch-all, which answers 401 without a token and 404 with one, as the
// tutorial's middleware did.
func addRoutes(mux handler, d Deps, ck cookies, o Options) {
	ips := clientip.New(o.TrustedProxies)
	// enrol routes take any valid token; authed ones also refuse the
	// sessions --require-mfa-for confines to enrolment (a role that must
	// use a second factor, a login without one).
	enrol := requireAuth(d.Auth, ck, ips)
	authed := func(h http.Handler) http.Handler { return enrol(confineUnenrolled(d.Auth, h)) }
	// Public routes whose rules record or throttle by where a request came
	// from get the client in their context (authed ones get it with the
	// token's claims).
	public := withClient(ips)
	admin := func(h http.Handler) http.Handler { return authed(requireAdmin(h)) }
	log, svc := d.Logger, d.Auth
	rt := newReturnTargets(o.Issuer, o.ForwardAuthHosts, o.CookieDomain)

	// Pages and their assets (public).
	pg := newPages(rt, accountsConfig(d.Accounts), d.Passkeys != nil, d.OIDC != nil)
	mux.Handle("GET /{$}", pg.handler("home"))
	mux.Handle("GET /login", handleLoginPage(rt, pg.handler("login")))
	mux.Handle("GET /admin", pg.handler("admin"))
	mux.Handle("GET /assets/", handleAssets())
	mux.Handle("GET /signup", pg.handler("signup"))
	mux.Handle("GET /email/verify", pg.handler("verify"))
	mux.Handle("GET /password/forgot", pg.handler("forgot"))
	mux.Handle("GET /password/reset", pg.handler("reset"))

	// The tutorial's API, and the session around it.
	mux.Handle("POST /login", public(handleLogin(log, svc, ck)))
	mux.Handle(userPattern, enrol(handleUser()))
	mux.Handle("POST /token/refresh", public(handleRefresh(log, svc, ck)))
	mux.Handle("POST /logout", enrol(handleLogout(log, svc, ck)))
	mux.Handle("GET /user/sessions", authed(handleListSessions(log, svc)))
	mux.Handle("DELETE /user/sessions/{id}", authed(handleRevokeSession(log, svc)))
	mux.Handle("POST /user/password", authed(requireStepUp(log, svc, handleChangePassword(log, svc))))

	// Second factors: the login's second step, and the user's own TOTP
	// and recovery codes (enrolment is open to confined sessions).
	mux.Handle("POST /login/mfa", public(handleLoginMFA(log, svc, ck)))
	mux.Handle("GET /user/factors", enrol(handleFactors(log, svc)))
	mux.Handle("POST /user/totp", enrol(handleStartTOTP(log, svc)))
	mux.Handle("GET /user/totp/qr.png", enrol(handleTOTPQRCode(log, svc)))
	mux.Handle("POST /user/totp/confirm", enrol(handleConfirmTOTP(log, svc)))
	mux.Handle("DELETE /user/totp", authed(handleDisableTOTP(log, svc)))
	mux.Handle("POST /user/recovery-codes", authed(handleRegenerateRecoveryCodes(log, svc)))

	// Accounts that run themselves (public unless marked).
	acc := accountRoutes(d.Accounts, log)
	mux.Handle("POST /signup", public(acc(handleSignup)))
	mux.Handle("POST /signup/invitation", public(acc(handleCheckInvitation)))
	mux.Handle("POST /email/verify", public(acc(handleVerifyEmail)))
	mux.Handle("POST /password/forgot", public(acc(handleForgotPassword)))
	mux.Handle("POST /password/reset", public(acc(handleResetPassword)))
	mux.Handle("GET /user/email", authed(acc(handleGetEmail)))
	mux.Handle("POST /user/email", authed(requireStepUp(log, svc, acc(handleChangeEmail))))
	mux.Handle("POST /user/email/resend", authed(acc(handleResendVerification)))

	// Passkeys (WebAuthn): each ceremony is a begin step, then the step
	// that carries the authenticator's answer. Adding one is enrolment.
	pk, pks := offersPasskeys(d.Passkeys), d.Passkeys
	mux.Handle("GET /user/passkeys", enrol(pk(handleListPasskeys(log, pks))))
	mux.Handle("POST /user/passkeys/begin", enrol(pk(handleBeginPasskeyRegistration(log, pks, svc))))
	mux.Handle("POST /user/passkeys", enrol(pk(handleFinishPasskeyRegistration(log, pks))))
	mux.Handle("PATCH /user/passkeys/{id}", authed(pk(handleRenamePasskey(log, pks))))
	mux.Handle("DELETE /user/passkeys/{id}", authed(pk(handleDeletePasskey(log, pks, svc))))
	mux.Handle("POST /login/passkey/begin", public(pk(handleBeginPasskeyLogin(log, pks))))
	mux.Handle("POST /login/passkey", public(pk(handleFinishPasskeyLogin(log, pks, svc, ck))))
	mux.Handle("POST /login/mfa/passkey/begin", public(pk(handleBeginMFAPasskey(log, pks, svc))))
	mux.Handle("POST /login/mfa/passkey", public(pk(handleFinishMFAPasskey(log, pks, svc, ck))))

	// Forward auth for reverse proxies: any method, as nginx keeps it.
	mux.Handle(verifyPattern, forwardAuth(svc, ck, rt, o.Issuer, ips)(handleForwardAuth(svc)))

	// The OpenID Provider (public protocol endpoints; the consent API
	// and connected apps need the browser's session).
	op := d.OIDC
	mux.Handle("GET /oauth2/authorize", public(handleAuthorize(op)))
	mux.Handle("POST /oauth2/authorize", public(handleAuthorize(op)))
	mux.Handle("GET /oauth2/authorize/continue", public(handleAuthorizeContinue(log, op, svc, ck)))
	mux.Handle("GET /oauth2/consent", pg.handler("consent"))
	mux.Handle("GET /oauth2/consent/request", authed(handleConsentRequest(log, op)))
	mux.Handle("POST /oauth2/consent", authed(handleConsent(log, op)))
	mux.Handle("POST /oauth2/token", public(withCORS(handleOIDC(op))))
	mux.Handle("GET /oauth2/userinfo", public(withCORS(handleUserinfo(op))))
	mux.Handle("POST /oauth2/userinfo", public(withCORS(handleUserinfo(op))))
	mux.Handle("POST /oauth2/revoke", public(withCORS(handleOIDC(op))))
	mux.Handle("POST /oauth2/introspect", public(withCORS(handleOIDC(op))))
	for _, p := range []string{"/oauth2/token", "/oauth2/userinfo", "/oauth2/revoke", "/oauth2/introspect"} {
		mux.Handle("OPTIONS "+p, handleOAuthPreflight())
	}
	mux.Handle("GET /oauth2/end_session", public(handleEndSession(log, op, svc, ck)))
	mux.Handle("POST /oauth2/end_session", public(handleEndSession(log, op, svc, ck)))
	mux.Handle("GET /user/apps", authed(handleListApps(log, op)))
	mux.Handle("DELETE /user/apps/{client_id}", authed(handleDisconnectApp(log, op)))

	// Keys and revocations, for verifiers (public).
	mux.Handle("GET /.well-known/jwks.json", handleJWKS(log, d.Keys))
	discovery := handleDiscovery(o.Issuer, d.Keys, op)
	mux.Handle("GET /.well-known/openid-configuration", discovery)
	mux.Handle("GET /.well-known/oauth-authorization-server", discovery)
	mux.Handle("GET /revocations", handleRevocationFeed(log, svc))

	// Administration.
	mux.Handle("GET /admin/keys", admin(handleListKeys(d.Keys)))
	mux.Handle("POST /admin/keys/rotate", admin(handleRotateKey(log, svc, d.Keys)))
	mux.Handle("GET /admin/audit", admin(handleAudit(log, svc)))
	mux.Handle("GET /admin/users", admin(handleListUsers(log, svc, d.Accounts)))
	mux.Handle("POST /admin/users", admin(handleCreateUser(log, svc)))
	mux.Handle("POST /admin/users/{name}/disable", admin(handleDisableUser(log, svc)))
	mux.Handle("POST /admin/users/{name}/enable", admin(handleEnableUser(log, svc)))
	mux.Handle("POST /admin/users/{name}/password", admin(handleSetUserPassword(log, svc)))
	mux.Handle("PUT /admin/users/{name}/roles", admin(handleSetUserRoles(log, svc)))
	mux.Handle("GET /admin/users/{name}/sessions", admin(handleUserSessions(log, svc)))
	mux.Handle("DELETE /admin/users/{name}", admin(handleDeleteUser(log, svc)))
	mux.Handle("DELETE /admin/users/{name}/sessions", admin(handleRevokeUserSessions(log, svc)))
	mux.Handle("DELETE /admin/users/{name}/factors", admin(handleResetFactors(log, svc)))
	mux.Handle("PUT /admin/users/{name}/email", admin(acc(handleSetUserEmail)))
	mux.Handle("GET /admin/invitations", admin(acc(handleListInvitations)))
	mux.Handle("POST /admin/invitations", admin(acc(handleInvite)))
	mux.Handle("DELETE /admin/invitations/{id}", admin(acc(handleRevokeInvitation)))
	cl := clientRoutes(d.Clients, log)
	mux.Handle("GET /admin/clients", admin(cl(handleListClients)))
	mux.Handle("POST /admin/clients", admin(cl(handleCreateClient)))
	mux.Handle("GET /admin/clients/{id}", admin(cl(handleGetClient)))
	mux.Handle("DELETE /admin/clients/{id}", admin(cl(handleDeleteClient)))
	mux.Handle("POST /admin/clients/{id}/secret", admin(cl(handleRotateClientSecret)))

	// Operations (public).
	mux.Handle("GET /openapi.json", handleOpenAPI())
	mux.Handle("GET /healthz", handleHealthz())
	mux.Handle("GET /readyz", handleReadyz(d.Ready, d.Warnings))

	mux.Handle("/", authed(handleNotFound()))
}

// handler is the part of *http.ServeMux addRoutes uses; tests record the
// patterns through it.
type handler interface {
	Handle(pattern string, h http.Handler)
}

// routeMux is the ServeMux with a shortcut to the two routes that answer
// every authenticated request behind them: GET /user (the tutorial's
// clients) and /auth/verify (every request a proxy forwards). Matching
// them among the API's ninety patterns was a sixth of the handler chain's
// time (BenchmarkUser); an exact path comparison is a few nanoseconds.
// The answer is the same either way (TestRouteShortcut): both patterns
// have no wildcards, no host and a clean path, so the mux would pick them
// for exactly these requests, and the shortcut sets r.Pattern as the mux
// does (the metrics' route label). HEAD and anything else go to the mux.
type routeMux struct {
	*http.ServeMux
	user, verify http.Handler
}

const (
	userPattern   = "GET /user"
	verifyPattern = "/auth/verify"
)

func (m *routeMux) Handle(pattern string, h http.Handler) {
	switch pattern {
	case userPattern:
		m.user = h
	case verifyPattern:
		m.verify = h
	}
	m.ServeMux.Handle(pattern, h)
}

func (m *routeMux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/user" && r.Method == http.MethodGet && m.user != nil:
		r.Pattern = userPattern
		m.user.ServeHTTP(w, r)
	case r.URL.Path == verifyPattern && m.verify != nil:
		r.Pattern = verifyPattern
		m.verify.ServeHTTP(w, r)
	default:
		m.ServeMux.ServeHTTP(w, r)
	}
}
