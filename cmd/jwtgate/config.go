package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
)

// errConfig marks configuration errors (exit status 2).
var errConfig = errors.New("configuration error")

func configErr(format string, a ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errConfig}, a...)...)
}

// envName is the environment twin of a flag: --access-ttl is JWTGATE_ACCESS_TTL.
func envName(flagName string) string {
	return "JWTGATE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// envOnly are settings that exist only in the environment because they are
// secrets, which must never appear in argv (visible in ps and shell history).
var envOnly = []string{"JWTGATE_ADMIN_PASSWORD", "JWTGATE_JWT_SECRET", "JWTGATE_KEY_ENCRYPTION_KEY", "JWTGATE_SMTP_PASSWORD"}

// envOnlyHelp describes the env-only settings, for the README's table.
var envOnlyHelp = map[string]string{
	"JWTGATE_JWT_SECRET":         "HS256 shared secret, at least 32 bytes: the tutorial-compatible mode (the tutorial's `jwt_secret` in `.env` works too)",
	"JWTGATE_ADMIN_PASSWORD":     "password of the first `admin`, created on an empty store (default: random, printed once)",
	"JWTGATE_SMTP_PASSWORD":      "password for the SMTP server of `--smtp-url`",
	"JWTGATE_KEY_ENCRYPTION_KEY": "32 bytes, base64 (`openssl rand -base64 32`): seals private signing keys and the refresh-token key at rest with AES-256-GCM",
}

// allFlagNames lists every flag of every command, so an environment
// variable meant for one command does not count as unknown in another.
var allFlagNames = []string{
	"addr", "db", "issuer", "audience", "access-ttl", "refresh-ttl", "session-idle-ttl", "signing-alg",
	"key-publish-delay", "key-rotation-interval",
	"login-max-failures", "login-window", "login-ban-time", "max-sessions-per-user", "trusted-proxies", "metrics-addr", "forward-auth-hosts", "cookie-domain", "redis", "require-mfa-for",
	"signup", "require-email-verification", "smtp-url", "smtp-from", "ttl", "link", "no-email", "email", "email-verified",
	"demo", "tls-cert", "tls-key", "log-level", "log-format", "access-log", "json", "role", "password-stdin",
	"user", "type", "limit", "duration", "target",
}

// environment is the merged view of settings from the process environment
// and the .env file, the process environment winning (as python-dotenv,
// which the tutorial used, does not override existing variables).
type environment map[string]string

// loadEnvironment merges env (KEY=VALUE) with the .env file at dotenvPath
// (missing is fine), and refuses unknown JWTGATE_* keys.
func loadEnvironment(env []string, dotenvPath string) (environment, error) {
	e := environment{}
	if dotenvPath != "" {
		f, err := os.Open(dotenvPath)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return nil, configErr("read %s: %v", dotenvPath, err)
		default:
			defer f.Close()
			kv, err := parseDotenv(f)
			if err != nil {
				return nil, configErr("%s: %v", dotenvPath, err)
			}
			for k, v := range kv {
				e[k] = v
			}
		}
	}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			e[k] = v
		}
	}
	known := map[string]bool{}
	for _, n := range allFlagNames {
		known[envName(n)] = true
	}
	for _, n := range envOnly {
		known[n] = true
	}
	for k := range e {
		if strings.HasPrefix(k, "JWTGATE_") && !known[k] {
			return nil, configErr("unknown setting %s", k)
		}
	}
	return e, nil
}

// parseDotenv reads KEY=VALUE lines: blank lines and # comments skipped,
// an optional "export " prefix, values optionally in single or double
// quotes. It is the subset of python-dotenv the tutorial's .env uses.
func parseDotenv(r interface{ Read([]byte) (int, error) }) (map[string]string, error) {
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 64<<10)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t\"'") {
			return nil, fmt.Errorf("line %d: want KEY=VALUE", n)
		}
		v = strings.TrimSpace(v)
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') {
			q := v[0]
			end := strings.IndexByte(v[1:], q)
			if end < 0 {
				return nil, fmt.Errorf("line %d: unterminated quote in %s", n, k)
			}
			v = v[1 : 1+end]
		} else if i := strings.Index(v, " #"); i >= 0 {
			v = strings.TrimSpace(v[:i])
		}
		out[k] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%v", err)
	}
	return out, nil
}

// applyEnv sets every flag not given on the command line from its
// JWTGATE_* twin in env or .env. An invalid value names the variable.
func applyEnv(fs *flag.FlagSet, env []string, dotenv string) error {
	e, err := loadEnvironment(env, dotenv)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var ferr error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || ferr != nil {
			return
		}
		name := envName(f.Name)
		v, ok := e[name]
		if !ok {
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			ferr = configErr("invalid %s: %v", name, err)
		}
	})
	return ferr
}

// secretSetting reads an env-only secret: JWTGATE_<name>, or for the JWT
// secret also the tutorial's lower-case jwt_secret.
func secretSetting(c cmdIO, name string) (string, error) {
	e, err := loadEnvironment(c.env, c.dotenv)
	if err != nil {
		return "", err
	}
	if v := e["JWTGATE_"+name]; v != "" {
		return v, nil
	}
	if name == "JWT_SECRET" {
		return e["jwt_secret"], nil
	}
	return "", nil
}
