package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/seal"
	"github.com/jwtgate/jwtgate/token"
)

// tokenHelp is the rest of `jwtgate token inspect --help`.
const tokenHelp = `inspect decodes an access token, checks it against the store's keys (or,
when JWTGATE_JWT_SECRET is set, against that HS256 secret, as the server
does) and the store's revocation feed, and prints its header, its claims
and a verdict: VALID; INVALID and why; or REVOKED. It never prints the
signature or any key.

A token is a credential: give - and pass the token on standard input, so
it does not land in your shell history or the process list.

iss and aud are checked only when --issuer or --audience (or their twins
JWTGATE_ISSUER and JWTGATE_AUDIENCE) is given.

Exit status: 0 valid, 1 invalid or revoked, 2 usage or configuration error.

Examples:
  pbpaste | jwtgate token inspect -
  jwtgate token inspect - --issuer https://auth.example.com < token.txt
  jwtgate token inspect - --json --db sqlite:/var/lib/jwtgate/jwtgate.db < token.txt
`

type inspectConfig struct {
	db, issuer, audience string
	accessTTL            time.Duration
	asJSON               bool
}

// tokenInspectFlags defines `jwtgate token inspect TOKEN|-`.
func tokenInspectFlags(fs *flag.FlagSet) func(cmdIO, []string) error {
	cfg := &inspectConfig{}
	fs.StringVar(&cfg.db, "db", defaultDB, "storage URL: sqlite:PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?search_path=SCHEMA]")
	fs.StringVar(&cfg.issuer, "issuer", "", "require this issuer (iss) (default: not checked)")
	fs.StringVar(&cfg.audience, "audience", "", "require this audience (aud) (default: not checked)")
	fs.DurationVar(&cfg.accessTTL, "access-ttl", auth.DefaultAccessTTL, "access token lifetime, as the server's (how long a retired key still verifies)")
	fs.BoolVar(&cfg.asJSON, "json", false, "print JSON: header, claims, valid, revoked, reason, detail")
	return func(c cmdIO, args []string) error { return inspectToken(c, cfg, args) }
}

// maxTokenInput bounds what inspect reads from standard input: a token
// longer than token.MaxLen is refused anyway.
const maxTokenInput = token.MaxLen + 4<<10

// inspectToken is `jwtgate token inspect TOKEN|-`: exit 0 valid, 1 invalid
// or revoked.
func inspectToken(c cmdIO, cfg *inspectConfig, pos []string) error {
	if len(pos) != 1 {
		return usagef("token inspect needs exactly one TOKEN, or - to read it from standard input")
	}
	raw, truncated := pos[0], false
	if raw == "-" {
		b, err := io.ReadAll(io.LimitReader(c.stdin, maxTokenInput+1))
		if err != nil {
			return fmt.Errorf("read token from standard input: %w", err)
		}
		raw, truncated = string(b), len(b) > maxTokenInput
	}
	raw = strings.TrimSpace(raw)
	if cfg.accessTTL <= 0 {
		return configErr("invalid --access-ttl %s: must be positive", cfg.accessTTL)
	}
	secret, err := secretSetting(c, "JWT_SECRET")
	if err != nil {
		return err
	}
	kek, err := secretSetting(c, "KEY_ENCRYPTION_KEY")
	if err != nil {
		return err
	}
	sealer, err := parseSealer(kek)
	if err != nil {
		return err
	}
	if err := requireSQLiteFile(cfg.db); err != nil {
		return err
	}
	store, err := openStore(c.ctx, cfg.db)
	if err != nil {
		return err
	}
	defer store.Close()

	// The keys, exactly as serve chooses them: the shared secret when one
	// is set, else the store's keyring (opened, never created).
	k := &checker{issuer: cfg.issuer, audience: cfg.audience}
	if secret != "" {
		key, err := token.Secret([]byte(secret))
		if err != nil {
			return configErr("invalid JWTGATE_JWT_SECRET: %v", err)
		}
		k.keys, k.algs, k.lax = auth.StaticKey{Key: key}, []string{token.HS256}, true
	} else {
		k.ring, err = auth.OpenKeyring(c.ctx, store, auth.KeyringOptions{
			Alg: token.EdDSA, TokenLifetime: cfg.accessTTL + auth.Leeway, Sealer: sealer,
		})
		if errors.Is(err, seal.ErrNoKey) {
			return configErr("%v", err)
		} else if err != nil {
			return err
		}
		k.keys, k.algs = k.ring, []string{token.EdDSA, token.ES256, token.RS256}
	}
	now := time.Now()
	revs := auth.NewRevocations(store, func() time.Time { return now })
	if err := revs.Sync(c.ctx); err != nil {
		return err
	}

	r := k.inspect(raw, truncated, now)
	if r.Valid || r.Reason != reasonMalformed {
		r.revoked(revs)
	}
	if cfg.asJSON {
		if err := printJSON(c.stdout, r); err != nil {
			return err
		}
	} else if err := r.print(c.stdout, k, now); err != nil {
		return err
	}
	switch {
	case !r.Valid:
		return fmt.Errorf("token is invalid: %s", r.Reason)
	case r.Revoked:
		return errors.New("token is revoked")
	}
	return nil
}

// requireSQLiteFile refuses a SQLite --db that does not exist: opening
// would create an empty store, in which every token has an unknown key.
func requireSQLiteFile(url string) error {
	path, ok := strings.CutPrefix(url, "sqlite:")
	if !ok {
		return nil
	}
	path = strings.TrimPrefix(path, "//")
	if _, err := os.Stat(path); path != "" && errors.Is(err, os.ErrNotExist) {
		return configErr("no database at %s (check --db)", path)
	}
	return nil
}

// Reasons a token is refused: the "reason" of --json, stable for scripts.
const (
	reasonMalformed       = "malformed"
	reasonExpired         = "expired"
	reasonNotYetValid     = "not yet valid"
	reasonUnknownKey      = "unknown key"
	reasonBadSignature    = "bad signature"
	reasonAlgMismatch     = "algorithm does not match the key"
	reasonForbiddenHeader = "forbidden header"
	reasonWrongType       = "wrong type"
	reasonIssuer          = "wrong issuer"
	reasonAudience        = "wrong audience"
	reasonRevoked         = "revoked"
)
