package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/jwtgate/jwtgate/auth"
	"github.com/jwtgate/jwtgate/internal/seal"
	"github.com/jwtgate/jwtgate/token"
)

const tokenUsage = `Usage:
  jwtgate token inspect TOKEN|- [--issuer ISS] [--audience AUD] [--json]

inspect decodes an access token, checks it against the store's keys (or,
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

func inspectFlags(cfg *inspectConfig) *flag.FlagSet {
	fs := flag.NewFlagSet("token inspect", flag.ContinueOnError)
	fs.StringVar(&cfg.db, "db", defaultDB, "storage URL: sqlite:PATH or postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?search_path=SCHEMA]")
	fs.StringVar(&cfg.issuer, "issuer", "", "require this issuer (iss) (default: not checked)")
	fs.StringVar(&cfg.audience, "audience", "", "require this audience (aud) (default: not checked)")
	fs.DurationVar(&cfg.accessTTL, "access-ttl", auth.DefaultAccessTTL, "access token lifetime, as the server's (how long a retired key still verifies)")
	fs.BoolVar(&cfg.asJSON, "json", false, "print JSON: header, claims, valid, revoked, reason, detail")
	return fs
}

// maxTokenInput bounds what inspect reads from standard input: a token
// longer than token.MaxLen is refused anyway.
const maxTokenInput = token.MaxLen + 4<<10

// runToken is `jwtgate token inspect TOKEN`.
func runToken(c cmdIO, args []string) error {
	cfg := &inspectConfig{}
	fs := inspectFlags(cfg)
	if len(args) == 0 || isHelp(args[0]) || args[0] == "inspect" && len(args) > 1 && (args[1] == "-h" || args[1] == "--help") {
		fmt.Fprint(c.stdout, tokenUsage, "\nFlags:\n")
		fs.SetOutput(c.stdout)
		fs.PrintDefaults()
		return nil
	}
	if args[0] != "inspect" {
		return usagef("unknown token command %q (run 'jwtgate token --help')", args[0])
	}
	pos, err := parseArgs(fs, args[1:], c)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
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
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
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

// report is what inspect found; it is also the --json output.
type report struct {
	Header  map[string]any `json:"header"` // nil when undecodable
	Claims  map[string]any `json:"claims"`
	Valid   bool           `json:"valid"`
	Revoked bool           `json:"revoked"`
	Reason  string         `json:"reason"` // "" for a valid token
	Detail  string         `json:"detail,omitempty"`
	claims  token.Claims   // as the verifier reads them (unverified when !Valid)
}

// checker verifies tokens as the server would.
type checker struct {
	keys             token.KeyLookup
	ring             *auth.Keyring // nil in the HS256 mode
	algs             []string
	lax              bool // the HS256 mode's tutorial-compatible checks
	issuer, audience string
}

func (k *checker) verifier(now time.Time, withIssAud bool) *token.Verifier {
	o := token.VerifierOptions{Leeway: auth.Leeway, Now: func() time.Time { return now }, AllowMissingIssuerAndType: k.lax}
	if withIssAud {
		o.Issuer, o.Audience = k.issuer, k.audience
	}
	return token.NewVerifier(k.keys, k.algs, o)
}

// inspect decodes raw for display and verifies it. The verdict is the
// token package's alone; the reason explains it.
func (k *checker) inspect(raw string, truncated bool, now time.Time) *report {
	r := &report{}
	if truncated {
		r.Reason, r.Detail = reasonMalformed, fmt.Sprintf("malformed: more than %d bytes on standard input", maxTokenInput)
		return r
	}
	problem := r.decode(raw)
	_, err := k.verifier(now, true).Verify(raw)
	if err == nil {
		r.Valid = true
		return r
	}
	r.Reason, r.Detail = k.explain(raw, r, problem, err, now)
	return r
}

// decode fills r's header and claims from raw as far as they decode, and
// returns what makes raw malformed ("" if nothing). It follows golang-jwt's
// decoding (unpadded base64url, JSON objects, claims typed as
// token.Claims), so that it calls malformed what the verifier cannot parse.
func (r *report) decode(raw string) string {
	if raw == "" {
		return "empty token"
	}
	if len(raw) > token.MaxLen {
		return fmt.Sprintf("%d bytes, more than the %d a token may have", len(raw), token.MaxLen)
	}
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return fmt.Sprintf("%d dot-separated parts, want 3", len(parts))
	}
	hb, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return "header is not base64url"
	}
	if r.Header = decodeObject(hb); r.Header == nil {
		return "header is not a JSON object"
	}
	cb, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "claims are not base64url"
	}
	if r.Claims = decodeObject(cb); r.Claims == nil {
		return "claims are not a JSON object"
	}
	if err := json.Unmarshal(cb, &r.claims); err != nil {
		// Name the first claim that does not decode on its own.
		for _, name := range orderKeys(r.Claims, nil) {
			one, _ := json.Marshal(map[string]any{name: r.Claims[name]})
			if json.Unmarshal(one, new(token.Claims)) != nil {
				return fmt.Sprintf("claim %s has the wrong type", display(name))
			}
		}
		return "claims do not decode"
	}
	if _, ok := r.Header["alg"].(string); !ok {
		return "header has no alg"
	}
	if _, err := base64.RawURLEncoding.DecodeString(parts[2]); err != nil {
		return "signature is not base64url"
	}
	return ""
}

// decodeObject decodes a JSON object, keeping numbers exact. It returns
// nil if b is not one, or not one golang-jwt decodes (it reads headers
// into map[string]any, where a number must fit a float64).
func decodeObject(b []byte) map[string]any {
	var strict map[string]any
	if json.Unmarshal(b, &strict) != nil || strict == nil {
		return nil
	}
	var m map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if d.Decode(&m) != nil {
		return nil
	}
	// Whatever key a token carries is not shown: it is the forger's.
	for _, h := range []string{"jwk", "x5c"} {
		if _, ok := m[h]; ok {
			m[h] = "(key material, not shown)"
		}
	}
	return m
}

// forbiddenHeaders are those the token package refuses, in its order.
var forbiddenHeaders = []string{"jku", "x5u", "jwk", "x5c", "crit"}

// explain turns a verification error into a reason and a one-line detail.
// The token package's sentinels name most failures; the rest (nbf, iat, a
// missing exp, iss or aud, a bad signature) share one error, told apart
// here by a second verification.
func (k *checker) explain(raw string, r *report, problem string, err error, now time.Time) (string, string) {
	c := &r.claims
	switch {
	case errors.Is(err, token.ErrTooLarge):
		return reasonMalformed, "malformed: " + problem
	case errors.Is(err, token.ErrExpired):
		return reasonExpired, "expired " + when(c.ExpiresAt.Time, now)
	case errors.Is(err, token.ErrUnknownKey):
		return reasonUnknownKey, "unknown key: " + k.unknownKey(r.Header, now)
	case errors.Is(err, token.ErrAlgMismatch):
		return reasonAlgMismatch, reasonAlgMismatch + ": " + k.algMismatch(r.Header)
	case errors.Is(err, token.ErrForbiddenHeader):
		return reasonForbiddenHeader, forbidden(r.Header)
	case errors.Is(err, token.ErrWrongType):
		return reasonWrongType, fmt.Sprintf("wrong type: typ %s, want %s", quoteHeader(r.Header, "typ"), token.TypeAccessToken)
	case errors.Is(err, token.ErrIssuer):
		return reasonIssuer, fmt.Sprintf("wrong issuer: %s, want %s", quote(c.Issuer), quote(k.issuer))
	case errors.Is(err, token.ErrAudience):
		return reasonAudience, fmt.Sprintf("wrong audience: %s, want %s", quoteList(c.Audience), quote(k.audience))
	case problem != "":
		return reasonMalformed, "malformed: " + problem
	}
	for _, h := range forbiddenHeaders {
		if _, ok := r.Header[h]; ok {
			return reasonForbiddenHeader, forbidden(r.Header)
		}
	}
	if alg, _ := r.Header["alg"].(string); !slices.Contains(k.algs, alg) {
		return reasonAlgMismatch, reasonAlgMismatch + ": " + k.algMismatch(r.Header)
	}
	// golang-jwt checks the signature before the claims. Verifying again
	// at a moment when nbf and iat hold, without iss and aud, passes (or
	// fails only as expired) exactly when the signature is good.
	at := now
	if c.NotBefore != nil && c.NotBefore.After(at) {
		at = c.NotBefore.Time
	}
	if c.IssuedAt != nil && c.IssuedAt.After(at) {
		at = c.IssuedAt.Time
	}
	if _, perr := k.verifier(at, false).Verify(raw); perr != nil && !errors.Is(perr, token.ErrExpired) {
		if c.ExpiresAt == nil {
			return reasonMalformed, "malformed: no exp claim (every token must expire)"
		}
		return reasonBadSignature, "bad signature: the token was altered, or signed by another key"
	}
	switch {
	case c.NotBefore != nil && now.Before(c.NotBefore.Add(-auth.Leeway)):
		return reasonNotYetValid, "not yet valid: nbf " + when(c.NotBefore.Time, now)
	case c.IssuedAt != nil && now.Before(c.IssuedAt.Add(-auth.Leeway)):
		return reasonNotYetValid, "not yet valid: issued in the future, " + when(c.IssuedAt.Time, now)
	case k.issuer != "" && c.Issuer == "":
		return reasonIssuer, fmt.Sprintf("wrong issuer: none, want %s", quote(k.issuer))
	case k.audience != "" && len(c.Audience) == 0:
		return reasonAudience, fmt.Sprintf("wrong audience: none, want %s", quote(k.audience))
	}
	return reasonMalformed, "malformed: " + strings.TrimPrefix(err.Error(), token.ErrInvalid.Error()+": ")
}

func (k *checker) unknownKey(h map[string]any, now time.Time) string {
	v, ok := h["kid"]
	kid, isString := v.(string)
	switch {
	case !ok:
		return "the token has no kid"
	case !isString:
		return "kid is not a string"
	}
	var keys []auth.KeyInfo
	if k.ring != nil {
		keys = k.ring.List()
	}
	for _, ki := range keys {
		if ki.ID == kid && ki.State == "expired" && ki.RetiresAt != nil {
			return fmt.Sprintf("key %s retired %s, and every token it signed has expired", quote(kid), when(*ki.RetiresAt, now))
		}
	}
	if len(keys) == 0 {
		return fmt.Sprintf("no key %s: the store has no keys", quote(kid))
	}
	return fmt.Sprintf("no key %s in the store", quote(kid))
}

func (k *checker) algMismatch(h map[string]any) string {
	alg := quoteHeader(h, "alg")
	if k.lax {
		return fmt.Sprintf("token says %s; with JWTGATE_JWT_SECRET set, only HS256 is accepted", alg)
	}
	kid, _ := h["kid"].(string)
	if key, ok := k.keys.Lookup(kid); ok {
		return fmt.Sprintf("token says %s, key %s is %s", alg, quote(kid), key.Alg)
	}
	return fmt.Sprintf("token says %s; the store's keys are EdDSA, ES256 or RS256", alg)
}

func forbidden(h map[string]any) string {
	for _, name := range forbiddenHeaders {
		if _, ok := h[name]; ok {
			return fmt.Sprintf("forbidden header %s: a token may not name its own key or demand extensions", name)
		}
	}
	return "forbidden header"
}

// revoked looks the token's sid and jti up in the revocation feed. A
// revoked token may be otherwise valid: it is refused all the same.
func (r *report) revoked(revs *auth.Revocations) {
	sid, jti := r.claims.SessionID, r.claims.ID
	switch {
	case revs.Revoked(sid, ""):
		r.Revoked = true
		if r.Valid {
			r.Reason, r.Detail = reasonRevoked, fmt.Sprintf("revoked: its session (sid %s) has ended", quote(sid))
		}
	case revs.Revoked("", jti):
		r.Revoked = true
		if r.Valid {
			r.Reason, r.Detail = reasonRevoked, fmt.Sprintf("revoked: the token (jti %s) was revoked", quote(jti))
		}
	}
}

// print writes r for people: header, claims with times made readable,
// and the verdict.
func (r *report) print(w io.Writer, k *checker, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	section := func(name string, m map[string]any, first []string) {
		if m == nil {
			fmt.Fprintf(tw, "%s:\t(not decodable)\n", name)
			return
		}
		fmt.Fprintf(tw, "%s:\n", name)
		for _, key := range orderKeys(m, first) {
			fmt.Fprintf(tw, "  %s\t%s\n", display(key), showValue(key, m[key], now))
		}
	}
	section("header", r.Header, []string{"alg", "kid", "typ"})
	section("claims", r.Claims, []string{"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "sid", "id", "name", "roles"})
	if err := tw.Flush(); err != nil {
		return err
	}
	switch {
	case r.Valid && !r.Revoked:
		fmt.Fprintln(w, "verdict: VALID")
		var unchecked []string
		if k.issuer == "" && r.claims.Issuer != "" {
			unchecked = append(unchecked, "iss (give --issuer)")
		}
		if k.audience == "" && len(r.claims.Audience) > 0 {
			unchecked = append(unchecked, "aud (give --audience)")
		}
		if unchecked != nil {
			fmt.Fprintf(w, "not checked: %s\n", strings.Join(unchecked, ", "))
		}
	case r.Valid:
		fmt.Fprintf(w, "verdict: REVOKED: %s\n", strings.TrimPrefix(r.Detail, "revoked: "))
	default:
		fmt.Fprintf(w, "verdict: INVALID: %s\n", r.Detail)
		if r.Revoked {
			fmt.Fprintln(w, "         and REVOKED: its sid or jti is in the revocation feed")
		}
	}
	return nil
}

// orderKeys lists m's keys: those of first that are present, then the rest sorted.
func orderKeys(m map[string]any, first []string) []string {
	var out, rest []string
	for _, k := range first {
		if _, ok := m[k]; ok {
			out = append(out, k)
		}
	}
	for k := range m {
		if !slices.Contains(first, k) {
			rest = append(rest, k)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// timeClaims are NumericDate claims, shown as times.
var timeClaims = []string{"exp", "nbf", "iat", "auth_time"}

// showValue renders a header or claim value on one line: times as RFC3339
// with how far off they are, strings bare when harmless, the rest as JSON.
func showValue(key string, v any, now time.Time) string {
	if n, ok := v.(json.Number); ok && slices.Contains(timeClaims, key) {
		// Years 1970 to 9999; beyond, the number is shown as it is.
		if f, err := n.Float64(); err == nil && f >= 0 && f < 253402300800 {
			return when(time.Unix(int64(f), 0), now)
		}
	}
	if s, ok := v.(string); ok {
		return display(s)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "?"
	}
	return display(string(b))
}

// when renders t as RFC3339 in UTC with its distance from now.
func when(t time.Time, now time.Time) string {
	return t.UTC().Format(time.RFC3339) + " (" + relative(t, now) + ")"
}

// relative says how far t is from now in its largest whole unit: "in 12m", "3h ago".
func relative(t, now time.Time) string {
	secs := t.Unix() - now.Unix() // seconds, not a Duration: times far off would overflow one
	abs := max(secs, -secs)
	var s string
	switch {
	case abs < 1:
		return "now"
	case abs < 60:
		s = fmt.Sprintf("%ds", abs)
	case abs < 3600:
		s = fmt.Sprintf("%dm", abs/60)
	case abs < 48*3600:
		s = fmt.Sprintf("%dh", abs/3600)
	default:
		s = fmt.Sprintf("%dd", abs/86400)
	}
	if secs > 0 {
		return "in " + s
	}
	return s + " ago"
}

// display shows s as it is when it is plain printable text, else quoted:
// a token is attacker input, and must not write escape sequences or
// invisible characters to the operator's terminal.
func display(s string) string {
	if s != "" && strings.TrimSpace(s) == s && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return s
	}
	return strconv.Quote(s)
}

// quote quotes attacker-supplied text for a message, "none" for "".
func quote(s string) string {
	if s == "" {
		return "none"
	}
	return strconv.Quote(s)
}

func quoteList(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

func quoteHeader(h map[string]any, name string) string {
	switch v := h[name].(type) {
	case nil:
		return "none"
	case string:
		return display(v)
	default:
		b, _ := json.Marshal(v)
		return display(string(b))
	}
}
