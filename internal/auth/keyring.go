package auth

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/seal"
	"github.com/jwtgate/jwtgate/token"
)

// Keys is what the service signs and verifies with: a Keyring for the
// asymmetric modes, StaticKey for the shared-secret mode.
type Keys interface {
	token.KeyLookup
	// Signer returns the key new tokens are signed with now.
	Signer() *token.Key
}

// StaticKey is one key that signs and verifies: the HS256 shared secret.
type StaticKey struct{ Key *token.Key }

// Lookup implements token.KeyLookup: the secret answers to any kid, since
// tutorial-minted tokens carry none.
func (s StaticKey) Lookup(string) (*token.Key, bool) { return s.Key, true }

// Signer implements Keys.
func (s StaticKey) Signer() *token.Key { return s.Key }

// The key-publishing rules live here, and everything else (the JWKS
// handler, serve's flag checks, the CLI) refers to them: a verifier that
// caches the JWKS for as long as it is told must already know a new key
// when that key starts to sign.
const (
	// MaxJWKSMaxAge is the longest verifiers are told to cache the JWKS.
	MaxJWKSMaxAge = 5 * time.Minute
	// DefaultPublishDelay is how long a new key waits in the JWKS before it
	// signs, unless configured: twice the longest JWKS cache lifetime. It
	// is safe whatever delay the servers run with, which is why `jwtgate
	// keys rotate` needs no flag to match them.
	DefaultPublishDelay = 2 * MaxJWKSMaxAge
	// MinPublishDelay is the shortest publish delay allowed: instances
	// sharing a store learn a new key within a second (Maintain's sync), so
	// the delay must cover that and a cache lifetime of half of it.
	MinPublishDelay = 2 * time.Second
)

// JWKSMaxAge is how long verifiers may cache the JWKS of servers whose new
// keys wait publishDelay before signing: half the delay, at most
// MaxJWKSMaxAge. A verifier that fetched the JWKS just before a rotation
// reached the instance it asked thus refetches well before the new key
// signs.
func JWKSMaxAge(publishDelay time.Duration) time.Duration {
	return min(MaxJWKSMaxAge, publishDelay/2)
}

// ErrKeyPending means a rotation was asked while a new key is still
// waiting out its publish delay: rotating again would pile up keys that
// never sign.
var ErrKeyPending = errors.New("a new signing key is already pending")

// IDTokenExtraAlgs are the ExtraAlgs a server signing with alg keeps:
// RS256, which every OpenID Provider must offer for id_tokens (OpenID
// Connect Discovery section 3), unless alg is RS256 already.
func IDTokenExtraAlgs(alg string) []string {
	if alg == token.RS256 {
		return nil
	}
	return []string{token.RS256}
}

// KeyringOptions configure a Keyring.
type KeyringOptions struct {
	Alg string // algorithm of new keys: EdDSA, ES256 or RS256
	// ExtraAlgs are algorithms besides Alg that always have a current key,
	// published and rotated with the main one but used only for what asks
	// for them by algorithm (IDTokenSigner): OpenID Connect requires RS256
	// id_tokens whatever signs the access tokens.
	ExtraAlgs []string
	// PublishDelay is how long a new key is published in the JWKS before
	// it signs (DefaultPublishDelay if zero). The JWKS cache lifetime is
	// derived from it (JWKSMaxAge), so that no verifier holding a cached
	// JWKS meets a token with an unknown kid.
	PublishDelay time.Duration
	// TokenLifetime is the longest an access token signed by a key may be
	// accepted (access TTL plus leeway): a retired key stays published
	// that long after its retirement, then leaves.
	TokenLifetime time.Duration
	Sealer        *seal.Sealer // seals private keys at rest; nil stores them plain
	Now           func() time.Time
}

// Keyring is the set of signing keys in the store, as this instance last
// read it. Sync re-reads the store (every instance calls it every second or
// so, which is how a rotation on one instance reaches the others); reads
// (Lookup, Signer) take no lock.
type Keyring struct {
	store jwtgate.KeyStore
	o     KeyringOptions
	mu    sync.Mutex // serialises Sync
	state atomic.Pointer[keyState]
}

type ringKey struct {
	key       *token.Key
	createdAt time.Time
	activates time.Time
	retires   *time.Time
}

// keyState is immutable once published.
type keyState struct {
	keys  []*ringKey // newest activation first
	byKID map[string]*ringKey
}

// OpenKeyring loads the store's keys as they are (for the CLI, which must
// not create keys as a side effect of listing them).
func OpenKeyring(ctx context.Context, store jwtgate.KeyStore, o KeyringOptions) (*Keyring, error) {
	kr := newKeyring(store, o)
	if err := kr.Sync(ctx); err != nil {
		return nil, err
	}
	return kr, nil
}

func newKeyring(store jwtgate.KeyStore, o KeyringOptions) *Keyring {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.PublishDelay == 0 {
		o.PublishDelay = DefaultPublishDelay
	}
	return &Keyring{store: store, o: o}
}

// JWKSMaxAge is how long verifiers may cache this keyring's JWKS.
func (kr *Keyring) JWKSMaxAge() time.Duration { return JWKSMaxAge(kr.o.PublishDelay) }

// NewKeyring loads the store's keys, creating the first one if there are
// none. If keys exist but none of the configured algorithm, it rotates to
// a new key of that algorithm, which signs after the publish delay.
func NewKeyring(ctx context.Context, store jwtgate.KeyStore, o KeyringOptions) (*Keyring, error) {
	kr := newKeyring(store, o)
	existing, err := store.Keys(ctx)
	if err != nil {
		return nil, fmt.Errorf("auth: keyring: %w", err)
	}
	switch {
	case len(existing) == 0:
		// Nobody can have cached a JWKS yet: the first key signs at once.
		rec, err := kr.newRecord(kr.o.Now(), 0)
		if err != nil {
			return nil, err
		}
		if _, err := store.EnsureKey(ctx, rec); err != nil {
			return nil, fmt.Errorf("auth: keyring: %w", err)
		}
	case !slices.ContainsFunc(existing, func(k jwtgate.Key) bool { return k.Alg == o.Alg }):
		if err := kr.rotateAlg(ctx); err != nil {
			return nil, err
		}
	}
	if err := kr.ensureExtra(ctx, existing); err != nil {
		return nil, err
	}
	if err := kr.Sync(ctx); err != nil {
		return nil, err
	}
	return kr, nil
}

// ensureExtra gives each extra algorithm a current key if it has none: at
// once when the store never had a key of it (a server upgraded to a
// release that publishes one; relying parties fetch the JWKS again on an
// unknown kid), after the publish delay otherwise (a rotation that stopped
// before adding it).
func (kr *Keyring) ensureExtra(ctx context.Context, existing []jwtgate.Key) error {
	now := kr.o.Now()
	for _, alg := range kr.o.ExtraAlgs {
		if alg == kr.o.Alg {
			continue
		}
		delay := kr.o.PublishDelay
		if !slices.ContainsFunc(existing, func(k jwtgate.Key) bool { return k.Alg == alg }) {
			delay = 0
		}
		if _, err := kr.addExtra(ctx, alg, now.Add(delay)); err != nil {
			return err
		}
	}
	return nil
}

// rotateExtra follows a rotation of the main key: each extra algorithm gets
// a new key activating with the main one (the rotation retired the old).
func (kr *Keyring) rotateExtra(ctx context.Context, activates time.Time) error {
	for _, alg := range kr.o.ExtraAlgs {
		if alg == kr.o.Alg {
			continue
		}
		if _, err := kr.addExtra(ctx, alg, activates); err != nil {
			return err
		}
	}
	return nil
}

func (kr *Keyring) addExtra(ctx context.Context, alg string, activates time.Time) (bool, error) {
	now := kr.o.Now()
	rec, err := kr.newRecordAlg(alg, now, activates.Sub(now))
	if err != nil {
		return false, err
	}
	added, err := kr.store.AddKey(ctx, rec)
	if err != nil {
		return false, fmt.Errorf("auth: keyring: %s key: %w", alg, err)
	}
	return added, nil
}

// newRecord generates a key of the configured algorithm that activates
// delay after now, sealed for storage.
func (kr *Keyring) newRecord(now time.Time, delay time.Duration) (*jwtgate.Key, error) {
	return kr.newRecordAlg(kr.o.Alg, now, delay)
}

func (kr *Keyring) newRecordAlg(alg string, now time.Time, delay time.Duration) (*jwtgate.Key, error) {
	k, err := token.Generate(alg)
	if err != nil {
		return nil, err
	}
	priv, err := k.MarshalPrivate()
	if err != nil {
		return nil, err
	}
	pub, err := k.MarshalPublic()
	if err != nil {
		return nil, err
	}
	return &jwtgate.Key{
		ID: k.ID, Alg: k.Alg, Private: kr.o.Sealer.Seal(priv, []byte(k.ID)), Public: pub,
		CreatedAt: now, ActivatesAt: now.Add(delay),
	}, nil
}

// ErrNoKeys means a rotation was asked of an empty store: the first key is
// made by the server's first start, and signs at once.
var ErrNoKeys = errors.New("auth: no signing keys yet; start the server once to create the first")

// Rotate makes a new key that is published now and signs after the publish
// delay; the current key retires at that moment. It returns the new key's
// record (without its private half). While a key is pending (published,
// not yet signing) it refuses with ErrKeyPending: at most one key waits.
func (kr *Keyring) Rotate(ctx context.Context) (*jwtgate.Key, error) {
	// Rotations made elsewhere (another instance, the CLI) count too.
	if err := kr.Sync(ctx); err != nil {
		return nil, err
	}
	now := kr.o.Now()
	st := kr.state.Load()
	if len(st.keys) == 0 {
		return nil, ErrNoKeys
	}
	if rk := st.pending(now); rk != nil {
		return nil, fmt.Errorf("%w: key %s signs from %s; rotate again after that", ErrKeyPending, rk.key.ID, rk.activates.UTC().Format(time.RFC3339))
	}
	rec, err := kr.newRecord(now, kr.o.PublishDelay)
	if err != nil {
		return nil, err
	}
	// Inserted only if no key appeared since the state just read, so two
	// rotations racing on different instances make one pending key.
	ok, err := kr.store.RotateKey(ctx, rec, st.newestCreated())
	if err != nil {
		return nil, fmt.Errorf("auth: rotate key: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: another rotation was made at the same time", ErrKeyPending)
	}
	if err := kr.rotateExtra(ctx, rec.ActivatesAt); err != nil {
		return nil, err
	}
	if err := kr.Sync(ctx); err != nil {
		return nil, err
	}
	rec.Private = nil
	return rec, nil
}

// rotateAlg is Rotate for NewKeyring's switch of algorithm, which must
// happen even while a key of the old algorithm is pending.
func (kr *Keyring) rotateAlg(ctx context.Context) error {
	now := kr.o.Now()
	rec, err := kr.newRecord(now, kr.o.PublishDelay)
	if err != nil {
		return err
	}
	if _, err := kr.store.RotateKey(ctx, rec, now); err != nil {
		return fmt.Errorf("auth: rotate key: %w", err)
	}
	return kr.rotateExtra(ctx, rec.ActivatesAt)
}

// pending returns a key in st that is published but not yet signing, or nil.
func (st *keyState) pending(now time.Time) *ringKey {
	for _, rk := range st.keys {
		if rk.activates.After(now) {
			return rk
		}
	}
	return nil
}

// newestCreated is when the newest key in st was made (zero if none).
func (st *keyState) newestCreated() time.Time {
	var t time.Time
	for _, rk := range st.keys {
		if rk.createdAt.After(t) {
			t = rk.createdAt
		}
	}
	return t
}

// RotateIfOlder rotates when the newest key was created interval ago or
// more: the automatic schedule. It decides on the keys as last synced, so
// the usual answer (not due) costs no key generation and no store write;
// only a due rotation generates a key. Instances racing here make one key
// between them (the store inserts only if no key is newer than the
// interval).
func (kr *Keyring) RotateIfOlder(ctx context.Context, interval time.Duration) (bool, error) {
	now := kr.o.Now()
	st := kr.state.Load()
	if len(st.keys) == 0 || now.Sub(st.newestCreated()) < interval {
		return false, nil
	}
	rec, err := kr.newRecord(now, kr.o.PublishDelay)
	if err != nil {
		return false, err
	}
	ok, err := kr.store.RotateKey(ctx, rec, now.Add(-interval))
	if err != nil {
		return false, fmt.Errorf("auth: scheduled key rotation: %w", err)
	}
	if ok {
		if err := kr.rotateExtra(ctx, rec.ActivatesAt); err != nil {
			return true, err
		}
		return true, kr.Sync(ctx)
	}
	return false, nil
}

// Sync re-reads the keys from the store. Keys already parsed are reused.
func (kr *Keyring) Sync(ctx context.Context) error {
	kr.mu.Lock()
	defer kr.mu.Unlock()
	recs, err := kr.store.Keys(ctx)
	if err != nil {
		return fmt.Errorf("auth: sync keys: %w", err)
	}
	old := kr.state.Load()
	next := &keyState{byKID: make(map[string]*ringKey, len(recs))}
	for _, r := range recs {
		rk := &ringKey{createdAt: r.CreatedAt, activates: r.ActivatesAt, retires: r.RetiresAt}
		if old != nil && old.byKID[r.ID] != nil {
			rk.key = old.byKID[r.ID].key
		} else {
			priv, err := kr.o.Sealer.Open(r.Private, []byte(r.ID))
			if err != nil {
				return fmt.Errorf("auth: key %s: %w", r.ID, err)
			}
			if rk.key, err = token.ParsePrivate(r.ID, r.Alg, priv); err != nil {
				return fmt.Errorf("auth: key %s: %w", r.ID, err)
			}
		}
		next.keys = append(next.keys, rk)
		next.byKID[r.ID] = rk
	}
	// Newest activation first; a signing key before the extra key that
	// activates with it (a rotation makes both at once), then by kid, so
	// listings are stable.
	slices.SortStableFunc(next.keys, func(a, b *ringKey) int {
		if c := b.activates.Compare(a.activates); c != 0 {
			return c
		}
		if am, bm := a.key.Alg == kr.o.Alg, b.key.Alg == kr.o.Alg; am != bm {
			if am {
				return -1
			}
			return 1
		}
		return strings.Compare(a.key.ID, b.key.ID)
	})
	kr.state.Store(next)
	return nil
}

// Signer returns the key that signs now: the most recently activated key of
// the configured algorithm, or of any algorithm while a switch of
// algorithm waits out its publish delay.
func (kr *Keyring) Signer() *token.Key {
	now := kr.o.Now()
	var fallback *token.Key
	for _, rk := range kr.state.Load().keys {
		if rk.activates.After(now) {
			continue
		}
		if rk.key.Alg == kr.o.Alg {
			return rk.key
		}
		if fallback == nil {
			fallback = rk.key
		}
	}
	return fallback
}

// IDTokenSigner returns the key that signs id_tokens of algorithm alg now:
// the signing key when it is of that algorithm, else the most recently
// activated key of alg; nil when there is none (the caller falls back to
// RS256, which ExtraAlgs keeps).
func (kr *Keyring) IDTokenSigner(alg string) *token.Key {
	if s := kr.Signer(); s != nil && s.Alg == alg {
		return s
	}
	now := kr.o.Now()
	for _, rk := range kr.state.Load().keys {
		if !rk.activates.After(now) && rk.key.Alg == alg {
			return rk.key
		}
	}
	return nil
}

// expired reports whether every token rk signed has expired at now.
func (kr *Keyring) expired(rk *ringKey, now time.Time) bool {
	return rk.retires != nil && now.After(rk.retires.Add(kr.o.TokenLifetime))
}

// Lookup implements token.KeyLookup: any published key verifies.
func (kr *Keyring) Lookup(kid string) (*token.Key, bool) {
	rk, ok := kr.state.Load().byKID[kid]
	if !ok || kr.expired(rk, kr.o.Now()) {
		return nil, false
	}
	return rk.key, true
}

// KeyInfo describes a key for listings; it never holds the private half.
type KeyInfo struct {
	ID          string     `json:"kid"`
	Alg         string     `json:"alg"`
	State       string     `json:"state"` // pending, active, retired (still published) or expired
	CreatedAt   time.Time  `json:"created_at"`
	ActivatesAt time.Time  `json:"activates_at"`
	RetiresAt   *time.Time `json:"retires_at,omitempty"`
	key         *token.Key
}

// Published returns the keys a JWKS must list now: pending ones (so
// verifiers learn them before they sign), the current ones, and retired
// ones whose tokens may still be live.
func (kr *Keyring) Published() []*token.Key {
	var out []*token.Key
	for _, ki := range kr.List() {
		if ki.State != "expired" {
			out = append(out, ki.key)
		}
	}
	return out
}

// List describes every key in the store, newest activation first.
func (kr *Keyring) List() []KeyInfo {
	now := kr.o.Now()
	signer := kr.Signer()
	var out []KeyInfo
	for _, rk := range kr.state.Load().keys {
		ki := KeyInfo{ID: rk.key.ID, Alg: rk.key.Alg, CreatedAt: rk.createdAt, ActivatesAt: rk.activates, RetiresAt: rk.retires, key: rk.key}
		switch {
		case rk.activates.After(now):
			ki.State = "pending"
		case signer != nil && signer.ID == rk.key.ID:
			ki.State = "active"
		case slices.Contains(kr.o.ExtraAlgs, rk.key.Alg) && rk.key.Alg != kr.o.Alg && kr.IDTokenSigner(rk.key.Alg) == rk.key:
			ki.State = "active" // signs id_tokens
		case kr.expired(rk, now):
			ki.State = "expired"
		default:
			ki.State = "retired"
		}
		out = append(out, ki)
	}
	return out
}

// Prune deletes keys whose tokens have all expired.
func (kr *Keyring) Prune(ctx context.Context) error {
	_, err := kr.store.DeleteKeysRetiredBefore(ctx, kr.o.Now().Add(-kr.o.TokenLifetime))
	if err != nil {
		return err
	}
	return kr.Sync(ctx)
}

var errNoSigner = errors.New("auth: no signing key is active")
