package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/accounts"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/clientip"
	"github.com/jwtgate/jwtgate/internal/logwriter"
	"github.com/jwtgate/jwtgate/internal/metrics"
	"github.com/jwtgate/jwtgate/internal/oidc"
	"github.com/jwtgate/jwtgate/internal/postgres"
	"github.com/jwtgate/jwtgate/internal/redis"
	"github.com/jwtgate/jwtgate/internal/seal"
	"github.com/jwtgate/jwtgate/internal/server"
	"github.com/jwtgate/jwtgate/internal/throttle"
	"github.com/jwtgate/jwtgate/token"
)

// serveConfig is everything `jwtgate serve` is told.
type serveConfig struct {
	addr, db, issuer, audience string
	accessTTL, refreshTTL      time.Duration
	idleTTL                    time.Duration
	publishDelay, rotateEvery  time.Duration
	signingAlg                 string
	demo                       bool
	tlsCert, tlsKey            string
	trustedProxies             string
	metricsAddr                string
	forwardAuthHosts           string
	requireMFAFor              string
	cookieDomain               string
	redisURL                   string
	pair, ip, account, device  throttle.Policy
	maxSessions                int
	logLevel                   slog.Level
	logFormat                  logFormat
	accessLog                  bool
	secret                     string // env only
	adminPassword              string // env only
	keyEncryptionKey           string // env only
	accounts                   accountsConfig
}

// serveFlags defines serve's flags on cfg. The README's configuration table
// is generated from it (TestREADMEConfigTable).
func serveFlags(cfg *serveConfig) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:8000", "listen address")
	dbURL := dbFlag(fs)
	fs.StringVar(&cfg.issuer, "issuer", "", "token issuer (iss) (default http://ADDR, https:// under TLS)")
	fs.StringVar(&cfg.audience, "audience", "", "token audience (aud); set in tokens and required when verifying")
	fs.DurationVar(&cfg.accessTTL, "access-ttl", auth.DefaultAccessTTL, "access token lifetime")
	fs.DurationVar(&cfg.refreshTTL, "refresh-ttl", auth.DefaultSessionTTL, "session lifetime: a refresh token chain ends this long after login")
	fs.DurationVar(&cfg.idleTTL, "session-idle-ttl", auth.DefaultSessionIdleTTL, "a session not refreshed for this long ends")
	fs.DurationVar(&cfg.publishDelay, "key-publish-delay", auth.DefaultPublishDelay, "a new signing key is published this long before it signs; the JWKS may be cached for half of it, at most 5m (at least 2s)")
	fs.DurationVar(&cfg.rotateEvery, "key-rotation-interval", 0, "rotate the signing key automatically this often (0: only by hand)")
	fs.StringVar(&cfg.signingAlg, "signing-alg", token.EdDSA, "signing algorithm: EdDSA, ES256 or RS256 (HS256 when JWTGATE_JWT_SECRET is set)")
	fs.BoolVar(&cfg.demo, "demo", false, "create the tutorial's demo account admin/1234 (never in production)")
	fs.IntVar(&cfg.pair.MaxFailures, "login-max-failures", throttle.DefaultPairPolicy.MaxFailures, "failed logins per account from one client address, or from one device-cookie browser, within --login-window before it must wait, 1 to 100 (per client address: 4× this; per account from all addresses: 20× this; each at most 100)")
	fs.DurationVar(&cfg.pair.Window, "login-window", throttle.DefaultPairPolicy.Window, "how long a failed login counts")
	fs.DurationVar(&cfg.pair.BanTime, "login-ban-time", throttle.DefaultPairPolicy.BanTime, "first wait after too many failures; doubles while failures go on, up to 1h")
	fs.IntVar(&cfg.maxSessions, "max-sessions-per-user", auth.DefaultMaxSessionsPerUser, "live sessions per user; a login beyond this ends the user's least recently used sessions (0: no cap)")
	fs.StringVar(&cfg.trustedProxies, "trusted-proxies", "", "comma-separated addresses or CIDR ranges of reverse proxies whose X-Forwarded-For is believed (default: none)")
	fs.StringVar(&cfg.requireMFAFor, "require-mfa-for", "", "comma-separated roles whose users must sign in with a second factor (TOTP or a passkey); until they enrol one, their sessions reach only enrolment")
	fs.StringVar(&cfg.forwardAuthHosts, "forward-auth-hosts", "", "comma-separated hosts (host[:port]) besides the issuer's that the login page may return a browser to after a forward-auth redirect (/auth/verify?redirect=1)")
	fs.StringVar(&cfg.cookieDomain, "cookie-domain", "", "share the session cookie with every host under this domain (e.g. example.com, a parent of the issuer's host) for forward auth across hosts; the login page may return to them")
	fs.StringVar(&cfg.redisURL, "redis", "", "redis://HOST:PORT/DB: keep the failed-login counters in Redis (shared by all instances using it) instead of PostgreSQL or memory")
	fs.StringVar(&cfg.metricsAddr, "metrics-addr", "", "serve Prometheus /metrics on this address (e.g. 127.0.0.1:9100); never on the main one, and without it metrics are not collected")
	fs.StringVar(&cfg.tlsCert, "tls-cert", "", "TLS certificate file (PEM)")
	fs.StringVar(&cfg.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	fs.TextVar(&cfg.logLevel, "log-level", slog.LevelInfo, "log level: DEBUG, INFO, WARN or ERROR")
	cfg.logFormat = "text"
	fs.Var(&cfg.logFormat, "log-format", "log line format: text (key=value) or json (one object per line, for log shippers)")
	fs.BoolVar(&cfg.accessLog, "access-log", false, "log one line per request (id, method, path, status, dur, ip) at INFO; off by default for speed (bench/hot.sh)")
	accountsFlags(fs, &cfg.accounts)
	return fs, dbURL
}

func parseServe(c cmdIO, args []string) (*serveConfig, error) {
	cfg := &serveConfig{}
	fs, dbURL := serveFlags(cfg)
	pos, err := parseArgs(fs, args, c)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		return nil, usagef("serve: unexpected argument %q", pos[0])
	}
	cfg.db = *dbURL
	if cfg.secret, err = secretSetting(c, "JWT_SECRET"); err != nil {
		return nil, err
	}
	if cfg.adminPassword, err = secretSetting(c, "ADMIN_PASSWORD"); err != nil {
		return nil, err
	}
	if cfg.keyEncryptionKey, err = secretSetting(c, "KEY_ENCRYPTION_KEY"); err != nil {
		return nil, err
	}
	if cfg.accounts.smtpPassword, err = secretSetting(c, "SMTP_PASSWORD"); err != nil {
		return nil, err
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return cfg, cfg.accounts.validate(cfg.issuer, flagOnCommandLine(args, "smtp-url"))
}

// validate refuses settings that cannot work, naming each.
func (cfg *serveConfig) validate() (err error) {
	if _, _, err := net.SplitHostPort(cfg.addr); err != nil {
		return configErr("invalid --addr %q: want HOST:PORT", cfg.addr)
	}
	if cfg.accessTTL <= 0 || cfg.accessTTL > auth.MaxAccessTTL {
		return configErr("invalid --access-ttl %s: must be positive and at most %s", cfg.accessTTL, auth.MaxAccessTTL)
	}
	if cfg.refreshTTL < cfg.accessTTL {
		return configErr("invalid --refresh-ttl %s: must be at least --access-ttl (%s)", cfg.refreshTTL, cfg.accessTTL)
	}
	if cfg.idleTTL <= 0 {
		return configErr("invalid --session-idle-ttl %s: must be positive", cfg.idleTTL)
	}
	if cfg.publishDelay < auth.MinPublishDelay {
		return configErr("invalid --key-publish-delay %s: must be at least %s", cfg.publishDelay, auth.MinPublishDelay)
	}
	if cfg.rotateEvery < 0 || (cfg.rotateEvery > 0 && cfg.rotateEvery < cfg.publishDelay+cfg.accessTTL) {
		return configErr("invalid --key-rotation-interval %s: must be 0 or at least --key-publish-delay + --access-ttl", cfg.rotateEvery)
	}
	cfg.pair.MaxBan = max(throttle.DefaultPairPolicy.MaxBan, cfg.pair.BanTime)
	if err := cfg.pair.Validate(); err != nil {
		return configErr("invalid --login-max-failures/--login-window/--login-ban-time: %v", err)
	}
	cfg.device = cfg.pair
	cfg.ip = cfg.pair
	cfg.ip.MaxFailures = min(4*cfg.pair.MaxFailures, throttle.MaxMaxFailures)
	cfg.account = cfg.pair
	cfg.account.MaxFailures = min(20*cfg.pair.MaxFailures, throttle.MaxMaxFailures)
	if cfg.maxSessions < 0 {
		return configErr("invalid --max-sessions-per-user %d: must be 0 (no cap) or positive", cfg.maxSessions)
	}
	if _, err := clientip.ParseTrusted(cfg.trustedProxies); err != nil {
		return configErr("invalid --trusted-proxies: %v", err)
	}
	if err := jwtgate.ValidateRoles(splitList(cfg.requireMFAFor)); err != nil {
		return configErr("invalid --require-mfa-for: %v", err)
	}
	for _, h := range splitList(cfg.forwardAuthHosts) {
		if u, err := url.Parse("http://" + h); err != nil || u.Host != h || u.Path != "" {
			return configErr("invalid --forward-auth-hosts entry %q: want host or host:port", h)
		}
	}
	if cfg.metricsAddr != "" {
		if _, _, err := net.SplitHostPort(cfg.metricsAddr); err != nil {
			return configErr("invalid --metrics-addr %q: want HOST:PORT", cfg.metricsAddr)
		}
	}
	if (cfg.tlsCert == "") != (cfg.tlsKey == "") {
		return configErr("invalid --tls-cert/--tls-key: set both or neither")
	}
	switch cfg.signingAlg {
	case token.EdDSA, token.ES256, token.RS256:
	case token.HS256:
		if cfg.secret == "" {
			return configErr("invalid --signing-alg HS256: needs JWTGATE_JWT_SECRET (or jwt_secret in .env)")
		}
	default:
		return configErr("invalid --signing-alg %q: want EdDSA, ES256 or RS256", cfg.signingAlg)
	}
	if cfg.secret != "" && len(cfg.secret) < token.MinSecretLen {
		return configErr("invalid JWTGATE_JWT_SECRET: %d bytes, need at least %d", len(cfg.secret), token.MinSecretLen)
	}
	if cfg.issuer == "" {
		scheme := "http://"
		if cfg.tlsCert != "" {
			scheme = "https://"
		}
		cfg.issuer = scheme + cfg.addr
	}
	if cfg.cookieDomain, err = server.ParseCookieDomain(cfg.cookieDomain, cfg.issuer); err != nil {
		return configErr("invalid --cookie-domain: %v", err)
	}
	return nil
}

func runServe(c cmdIO, args []string) error {
	cfg, err := parseServe(c, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	// Log lines leave in batches from one goroutine (a write(2) per line
	// cost a busy server more than its requests' other work); Close,
	// deferred first so it runs last, writes out the rest.
	logOut := logwriter.New(c.stderr)
	defer logOut.Close()
	logger := cfg.logFormat.logger(logOut, cfg.logLevel)
	// The access log (--access-log: one line per request, at INFO) bypasses
	// slog: it is formatted by hand, without allocating. It is off by
	// default: even so, writing a line per request cost a tenth of the
	// throughput and tripled p99 in bench/hot.sh (as Caddy and Traefik,
	// which also leave access logs off unless asked).
	var accessLog *server.AccessLog
	if cfg.accessLog && cfg.logLevel <= slog.LevelInfo {
		accessLog = server.NewAccessLog(logOut, cfg.logFormat == "json")
	}
	ctx := c.ctx

	// Listen before anything uses the issuer: with --addr HOST:0 the kernel
	// picks the port, and the default issuer (http://ADDR) must name the one
	// bound. The log line "jwtgate listening" reports it.
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.addr, err)
	}
	defer ln.Close()
	if _, port, _ := net.SplitHostPort(cfg.addr); port == "0" {
		if scheme, ok := strings.CutSuffix(cfg.issuer, cfg.addr); ok && (scheme == "http://" || scheme == "https://") {
			cfg.issuer = scheme + ln.Addr().String()
		}
	}

	store, err := openStore(ctx, cfg.db)
	if err != nil {
		return err
	}
	defer store.Close()

	sealer, err := parseSealer(cfg.keyEncryptionKey)
	if err != nil {
		return err
	}
	// Warnings are conditions an operator should fix that do not stop the
	// server: logged at startup and listed by /readyz, which stays 200.
	var warnings []server.Warning
	if sealer == nil {
		w := server.Warning{Code: "key_encryption_key_missing",
			Message: "JWTGATE_KEY_ENCRYPTION_KEY is not set: private signing keys are stored unencrypted; set it to 32 random bytes, base64 (openssl rand -base64 32)"}
		warnings = append(warnings, w)
		logger.Warn(w.Message)
	}
	var keys auth.Keys
	var keyring *auth.Keyring
	if cfg.secret != "" {
		secret, err := token.Secret([]byte(cfg.secret))
		if err != nil {
			return configErr("invalid JWTGATE_JWT_SECRET: %v", err)
		}
		keys = auth.StaticKey{Key: secret}
	} else {
		keyring, err = auth.NewKeyring(ctx, store, auth.KeyringOptions{
			Alg: cfg.signingAlg, ExtraAlgs: auth.IDTokenExtraAlgs(cfg.signingAlg), PublishDelay: cfg.publishDelay,
			TokenLifetime: cfg.accessTTL + auth.Leeway, Sealer: sealer,
		})
		if err != nil {
			return err
		}
		keys = keyring
	}
	// Metrics are collected only when they are served, on their own
	// address (--metrics-addr): never on the public one, where login and
	// throttling counts would tell an attacker how an attack goes. They
	// read the service's queue and revocation set at scrape time, through
	// svcRef, set once the service exists.
	var svcRef *auth.Service
	var m *metrics.Metrics
	var observer auth.Observer // nil: count nothing (a nil *Metrics in it would not be nil)
	if cfg.metricsAddr != "" {
		m = metrics.New(func() int { return svcRef.HashQueue() }, func() int { return svcRef.Revocations().Len() })
		observer = m
	}
	var rdb *redis.Client
	if cfg.redisURL != "" {
		if rdb, err = redis.Open(ctx, cfg.redisURL); err != nil {
			return fmt.Errorf("--redis: %w", err)
		}
		defer rdb.Close()
	}
	lims, err := limiters(store, rdb, cfg)
	if err != nil {
		return err
	}
	maxSessions := cfg.maxSessions
	if maxSessions == 0 {
		maxSessions = -1 // no cap
	}
	// The account flows need the service and the service asks them whether
	// a user may log in (an unverified address): acc is set before the
	// server serves its first request.
	var acc *accounts.Service
	allowLogin := func(ctx context.Context, u *jwtgate.User) error { return acc.LoginAllowed(ctx, u) }
	svc, err := auth.New(ctx, store, keys, auth.Options{
		Observer: observer, AllowLogin: allowLogin,
		Issuer: cfg.issuer, Audience: cfg.audience,
		AccessTTL: cfg.accessTTL, SessionTTL: cfg.refreshTTL, SessionIdleTTL: cfg.idleTTL,
		Sealer: sealer, Logger: logger,
		PairLimiter: lims.pair, IPLimiter: lims.ip, AccountLimiter: lims.account, DeviceLimiter: lims.device,
		MaxSessionsPerUser: maxSessions,
		MFAAccountLimiter:  lims.mfaAccount, MFAIPLimiter: lims.mfaIP,
		RequireMFAFor: splitList(cfg.requireMFAFor),
	})
	if err != nil {
		return err
	}
	svcRef = svc
	if err := svc.Revocations().Sync(ctx); err != nil {
		return err
	}
	if err := bootstrapAdmin(ctx, c, svc, cfg, logger); err != nil {
		return err
	}

	trusted, _ := clientip.ParseTrusted(cfg.trustedProxies) // validated above
	// Other instances' revocations and key rotations arrive through the
	// store; pull them every second. Stopped (and waited for) before the
	// store closes.
	stopMaintenance := startMaintenance(ctx, svc, keyring, cfg.rotateEvery)
	defer stopMaintenance()

	var stopAccounts func()
	acc, stopAccounts, err = startAccounts(ctx, &cfg.accounts, store, svc, sealer, cfg.issuer, logger)
	if err != nil {
		return err
	}
	defer stopAccounts()

	passkeys := startPasskeys(store, cfg.issuer, svc.Record, logger)
	// The OpenID Provider signs id_tokens, so it needs the keyring: it is
	// off with a shared secret.
	var provider *oidc.Provider
	if keyring != nil {
		routeLibraryLogs(c.stderr, logger.Handler())
		provider = oidc.New(store, svc, keyring, oidc.Options{Issuer: cfg.issuer, Logger: logger})
	}
	if provider != nil {
		pctx, stopPurge := context.WithCancel(ctx)
		purged := make(chan struct{})
		go func() { defer close(purged); provider.Maintain(pctx, 10*time.Minute) }()
		defer func() { stopPurge(); <-purged }()
	}
	handler := server.NewServer(server.Deps{Logger: logger, Auth: svc, Keys: keyring, Ready: store.Ping, Metrics: m, Accounts: acc,
		Passkeys: passkeys, AccessLog: accessLog, Warnings: warnings,
		Clients: oidc.NewClients(store, nil, svc.Record).RevokingWith(svc.RevokeSessionIDs), OIDC: provider},
		server.Options{TLS: cfg.tlsCert != "", Issuer: cfg.issuer, TrustedProxies: trusted,
			ForwardAuthHosts: splitList(cfg.forwardAuthHosts), CookieDomain: cfg.cookieDomain})
	if m != nil {
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Handler())
		mln, err := net.Listen("tcp", cfg.metricsAddr)
		if err != nil {
			return fmt.Errorf("listen on --metrics-addr %s: %w", cfg.metricsAddr, err)
		}
		msrv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 30 * time.Second}
		go func() { _ = msrv.Serve(mln) }()
		defer msrv.Close()
		logger.Info("metrics listening", "addr", mln.Addr().String())
	}
	srv := &http.Server{
		Handler: handler,
		// Timeouts so a slow or idle client cannot hold a connection.
		// A whole request (headers and a body of at most 64 KiB) must
		// arrive within 5 s; with ReadTimeout equal to ReadHeaderTimeout
		// net/http also sets one read deadline per request, not two.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       5 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
	}
	if server.PlainHTTPIssuer(cfg.issuer) {
		logger.Warn("the issuer is plain http:// on a host that is not loopback: browsers send the session cookies unencrypted; set --issuer https://… (TLS here or at a proxy)", "issuer", cfg.issuer)
	}
	logger.Info("jwtgate listening", "addr", ln.Addr().String(), "issuer", cfg.issuer, "alg", keys.Signer().Alg, "db", redactURL(cfg.db), "version", version())

	errc := make(chan error, 1)
	go func() {
		if cfg.tlsCert != "" {
			errc <- srv.ServeTLS(ln, cfg.tlsCert, cfg.tlsKey)
		} else {
			errc <- srv.Serve(ln)
		}
	}()
	// Startup may have hashed a password (the first admin): hand that heap
	// back so an idle server stays small. After Serve starts, so the first
	// request does not wait for it.
	go debug.FreeOSMemory()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// startMaintenance runs svc.Maintain in the background (revocation and key
// sync every second, pruning, scheduled rotation). The returned stop ends
// it and waits until it has returned, so that the store is never closed
// under one of its queries.
func startMaintenance(ctx context.Context, svc *auth.Service, kr *auth.Keyring, rotateEvery time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { svc.Maintain(ctx, kr, time.Second, rotateEvery) })
	return func() {
		cancel()
		wg.Wait()
	}
}

// loginLimiters are the failed-login counters (see internal/auth/throttle.go).
type loginLimiters struct{ pair, ip, account, device, mfaAccount, mfaIP throttle.Limiter }

// limiters picks where failed-login counters live: in Redis when --redis
// is set (its Fail is several times cheaper than a durable database
// write); else in PostgreSQL when the store is, so the limits hold for the
// whole cluster rather than per instance; else in memory (SQLite, one
// instance).
func limiters(store store, rdb *redis.Client, cfg *serveConfig) (loginLimiters, error) {
	var mk func(name string, p throttle.Policy) (throttle.Limiter, error)
	switch pg, isPG := store.(*postgres.DB); {
	case rdb != nil:
		mk = func(name string, p throttle.Policy) (throttle.Limiter, error) { return rdb.Limiter(name, p, time.Now) }
	case isPG:
		mk = func(name string, p throttle.Policy) (throttle.Limiter, error) { return pg.Limiter(name, p, time.Now) }
	default:
		mk = func(_ string, p throttle.Policy) (throttle.Limiter, error) {
			return throttle.NewMemory(p, time.Now), nil
		}
	}
	var l loginLimiters
	for _, x := range []struct {
		name string
		p    throttle.Policy
		to   *throttle.Limiter
	}{
		// "account" and "ip" keep their names (and stored counters) from
		// before the pair and device limiters; "account" is now the
		// higher, cluster-wide per-account limit.
		{"pair", cfg.pair, &l.pair},
		{"ip", cfg.ip, &l.ip},
		{"account", cfg.account, &l.account},
		{"device", cfg.device, &l.device},
		// Wrong second-factor codes: per account as tight as passwords
		// from one address, per address as passwords are.
		{"mfa_account", cfg.pair, &l.mfaAccount},
		{"mfa_ip", cfg.ip, &l.mfaIP},
	} {
		lim, err := mk(x.name, x.p)
		if err != nil {
			return l, configErr("login throttling: %v", err)
		}
		*x.to = lim
	}
	return l, nil
}

// logFormat is --log-format: how log lines are written.
type logFormat string

func (f *logFormat) String() string { return string(*f) }

// Set implements flag.Value, refusing unknown formats so that the error
// names the flag or its JWTGATE_LOG_FORMAT twin.
func (f *logFormat) Set(v string) error {
	switch v {
	case "text", "json":
		*f = logFormat(v)
		return nil
	}
	return fmt.Errorf("unknown log format %q: want text or json", v)
}

// logger returns a logger writing lines of this format at level or above to w.
func (f logFormat) logger(w io.Writer, level slog.Leveler) *slog.Logger {
	o := &slog.HandlerOptions{Level: level}
	if f == "json" {
		return slog.New(slog.NewJSONHandler(w, o))
	}
	return slog.New(slog.NewTextHandler(w, o))
}

// splitList splits a comma-separated setting, dropping empty entries.
func splitList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// parseSealer builds the key-encryption sealer from JWTGATE_KEY_ENCRYPTION_KEY
// (nil when unset: keys are stored plain).
func parseSealer(v string) (*seal.Sealer, error) {
	if v == "" {
		return nil, nil
	}
	s, err := seal.Parse(v)
	if err != nil {
		return nil, configErr("invalid JWTGATE_KEY_ENCRYPTION_KEY: %v", err)
	}
	return s, nil
}

// bootstrapAdmin creates the first admin on an empty store and tells the
// operator its password once, on stderr (never through the logger, so the
// password does not end up in shipped log lines).
func bootstrapAdmin(ctx context.Context, c cmdIO, svc *auth.Service, cfg *serveConfig, logger *slog.Logger) error {
	pw := cfg.adminPassword
	if cfg.demo {
		fmt.Fprintln(c.stderr, "jwtgate: WARNING: demo mode. If the store has no users, admin/1234 is created: never expose this server.")
		pw = auth.DemoPassword
	}
	created, used, err := svc.Bootstrap(ctx, pw, cfg.demo)
	if err != nil {
		return configErr("%v", err)
	}
	switch {
	case !created:
	case cfg.demo:
		logger.Warn("created demo user admin with password 1234")
	case cfg.adminPassword != "":
		logger.Info("created user admin with the password from JWTGATE_ADMIN_PASSWORD")
	default:
		fmt.Fprintf(c.stderr, "jwtgate: created user \"admin\" with password: %s\n", used)
		fmt.Fprintln(c.stderr, "jwtgate: it is shown only this once; change it with: jwtgate user passwd admin")
	}
	return nil
}
