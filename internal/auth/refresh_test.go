package auth

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/seal"
	"github.com/jwtgate/jwtgate/token"
)

func loginAlice(t *testing.T, e *env) *Tokens {
	t.Helper()
	ctx := context.Background()
	if _, err := e.store.UserByName(ctx, "alice"); err != nil {
		if _, err := e.svc.CreateUser(ctx, "alice", "alice-pass", nil); err != nil {
			t.Fatal(err)
		}
	}
	tok, err := e.svc.Login(ctx, "alice", "alice-pass", Client{})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestRefreshRotates(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	first := loginAlice(t, e)
	e.clk.Add(time.Minute)
	second, err := e.svc.Refresh(ctx, first.Refresh, Client{})
	if err != nil {
		t.Fatalf("Refresh = %v", err)
	}
	if second.Refresh == first.Refresh || second.Access == first.Access {
		t.Fatal("Refresh returned the same tokens")
	}
	if second.Claims.SessionID != first.Claims.SessionID || second.Claims.Name != "alice" {
		t.Errorf("refreshed claims = %+v, want alice in the same session", second.Claims)
	}
	if _, err := e.svc.Verify(second.Access); err != nil {
		t.Errorf("Verify(refreshed access) = %v", err)
	}
	e.clk.Add(time.Minute)
	if _, err := e.svc.Refresh(ctx, second.Refresh, Client{}); err != nil {
		t.Errorf("Refresh(successor) = %v", err)
	}
	sess, _ := e.store.SessionByID(ctx, first.Claims.SessionID)
	if !sess.LastUsedAt.Equal(e.clk.Now()) {
		t.Errorf("LastUsedAt = %v, want %v", sess.LastUsedAt, e.clk.Now())
	}
}

// TestRefreshGraceSamePair: a second use inside the grace window gets the
// very same successor and the very same access token (EdDSA is
// deterministic and the claims are derived), not a logout.
func TestRefreshGraceSamePair(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	first := loginAlice(t, e)
	a, err := e.svc.Refresh(ctx, first.Refresh, Client{})
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Add(DefaultRefreshGrace)
	b, err := e.svc.Refresh(ctx, first.Refresh, Client{})
	if err != nil {
		t.Fatalf("second Refresh inside the grace window = %v", err)
	}
	if a.Refresh != b.Refresh || a.Access != b.Access {
		t.Errorf("grace answer differs:\n%s %s\n%s %s", a.Refresh, a.Access, b.Refresh, b.Access)
	}
	if _, err := e.svc.Refresh(ctx, b.Refresh, Client{}); err != nil {
		t.Errorf("Refresh(shared successor) = %v", err)
	}
}

// TestRefreshReuseRevokesFamily: a spent token replayed after the grace
// window kills the whole session, successors and access tokens included.
func TestRefreshReuseRevokesFamily(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	first := loginAlice(t, e)
	next, err := e.svc.Refresh(ctx, first.Refresh, Client{})
	if err != nil {
		t.Fatal(err)
	}
	e.clk.Add(DefaultRefreshGrace + time.Millisecond)
	if _, err := e.svc.Refresh(ctx, first.Refresh, Client{IP: "198.51.100.9"}); !errors.Is(err, ErrRefreshReused) {
		t.Fatalf("replayed Refresh after grace = %v, want ErrRefreshReused", err)
	}
	if _, err := e.svc.Refresh(ctx, next.Refresh, Client{}); !errors.Is(err, ErrInvalidGrant) {
		t.Errorf("Refresh(successor) after reuse = %v, want ErrInvalidGrant", err)
	}
	for name, access := range map[string]string{"login": first.Access, "refreshed": next.Access} {
		if _, err := e.svc.Verify(access); !errors.Is(err, ErrRevoked) {
			t.Errorf("Verify(%s access) after reuse = %v, want ErrRevoked", name, err)
		}
	}
	// Another session of the same user is untouched.
	other := loginAlice(t, e)
	if _, err := e.svc.Verify(other.Access); err != nil {
		t.Errorf("other session's token = %v", err)
	}
}

// TestRefreshRace fires parallel refreshes with one token: every caller
// gets the same valid successor and access token, and the session lives.
func TestRefreshRace(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	first := loginAlice(t, e)
	const n = 10
	results := make([]*Tokens, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i], errs[i] = e.svc.Refresh(ctx, first.Refresh, Client{})
		}()
	}
	close(start)
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("Refresh #%d = %v", i, errs[i])
		}
		if results[i].Refresh != results[0].Refresh || results[i].Access != results[0].Access {
			t.Errorf("Refresh #%d returned a different pair", i)
		}
	}
	if _, err := e.svc.Verify(results[0].Access); err != nil {
		t.Errorf("Verify(raced access) = %v", err)
	}
	if _, err := e.svc.Refresh(ctx, results[0].Refresh, Client{}); err != nil {
		t.Errorf("Refresh(raced successor) = %v", err)
	}
}

func TestRefreshRefused(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		prep func(t *testing.T, e *env, tok *Tokens) string // returns the refresh token to present
	}{
		{name: "malformed", prep: func(*testing.T, *env, *Tokens) string { return "not-a-token" }},
		{name: "unknown", prep: func(*testing.T, *env, *Tokens) string { return newRefreshToken() }},
		{name: "access token instead", prep: func(_ *testing.T, _ *env, tok *Tokens) string { return tok.Access }},
		{name: "idle too long", opts: Options{SessionIdleTTL: time.Hour}, prep: func(_ *testing.T, e *env, tok *Tokens) string {
			e.clk.Add(time.Hour + time.Second)
			return tok.Refresh
		}},
		{name: "absolute lifetime over", opts: Options{SessionTTL: 2 * time.Hour, SessionIdleTTL: time.Hour}, prep: func(t *testing.T, e *env, tok *Tokens) string {
			raw := tok.Refresh
			for range 3 { // keep it busy, past the absolute end
				e.clk.Add(50 * time.Minute)
				next, err := e.svc.Refresh(context.Background(), raw, Client{})
				if err != nil {
					return raw
				}
				raw = next.Refresh
			}
			return raw
		}},
		{name: "logged out", prep: func(t *testing.T, e *env, tok *Tokens) string {
			if err := e.svc.Logout(context.Background(), tok.Claims); err != nil {
				t.Fatal(err)
			}
			return tok.Refresh
		}},
		{name: "user disabled", prep: func(t *testing.T, e *env, tok *Tokens) string {
			if err := e.svc.SetDisabled(context.Background(), "alice", true); err != nil {
				t.Fatal(err)
			}
			return tok.Refresh
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, tt.opts)
			tok := loginAlice(t, e)
			raw := tt.prep(t, e, tok)
			if got, err := e.svc.Refresh(context.Background(), raw, Client{}); !errors.Is(err, ErrInvalidGrant) {
				t.Errorf("Refresh(%s) = %v, %v; want ErrInvalidGrant", tt.name, got, err)
			}
		})
	}
}

func TestChangePasswordRevokesOthers(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	here := loginAlice(t, e)
	there := loginAlice(t, e)
	if err := e.svc.ChangePassword(ctx, here.Claims, "wrong-pass", "new-password"); !errors.Is(err, jwtgate.ErrBadCredentials) {
		t.Errorf("ChangePassword(wrong current) = %v, want ErrBadCredentials", err)
	}
	if err := e.svc.ChangePassword(ctx, here.Claims, "alice-pass", "short"); !errors.Is(err, jwtgate.ErrInvalid) {
		t.Errorf("ChangePassword(short new) = %v, want ErrInvalid", err)
	}
	if err := e.svc.ChangePassword(ctx, here.Claims, "alice-pass", "new-password"); err != nil {
		t.Fatalf("ChangePassword = %v", err)
	}
	if _, err := e.svc.Verify(here.Access); err != nil {
		t.Errorf("the changing session's token = %v, want still valid", err)
	}
	if _, err := e.svc.Verify(there.Access); !errors.Is(err, ErrRevoked) {
		t.Errorf("other session's token = %v, want ErrRevoked", err)
	}
	if _, err := e.svc.Login(ctx, "alice", "alice-pass", Client{}); !errors.Is(err, jwtgate.ErrBadCredentials) {
		t.Errorf("Login(old password) = %v", err)
	}
	if _, err := e.svc.Login(ctx, "alice", "new-password", Client{}); err != nil {
		t.Errorf("Login(new password) = %v", err)
	}
	live, _ := e.svc.LiveSessions(ctx, here.Claims.UserID)
	if len(live) != 2 { // here and the new login
		t.Errorf("live sessions = %d, want 2", len(live))
	}
	if err := e.svc.RevokeSession(ctx, here.Claims.UserID+99, here.Claims.SessionID); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("RevokeSession(someone else's) = %v, want ErrNotFound", err)
	}
}

// TestRevocationReachesOtherInstance: two services on one store, as two
// instances. A logout on one is refused by the other after its next Sync,
// without any call between them.
func TestRevocationReachesOtherInstance(t *testing.T) {
	a := newEnv(t, Options{})
	ctx := context.Background()
	b, err := New(ctx, a.store, a.kr, Options{Issuer: "http://issuer.test", Hash: fast, Now: a.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	tok := loginAlice(t, a)
	if _, err := b.Verify(tok.Access); err != nil {
		t.Fatalf("instance B Verify = %v", err)
	}
	if err := a.svc.Logout(ctx, tok.Claims); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(tok.Access); err != nil {
		t.Fatalf("instance B before sync = %v (it has not looked yet)", err)
	}
	if err := b.Revocations().Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Verify(tok.Access); !errors.Is(err, ErrRevoked) {
		t.Errorf("instance B after sync = %v, want ErrRevoked", err)
	}
	// Entries leave memory once their tokens have expired.
	a.clk.Add(DefaultAccessTTL + Leeway + time.Second)
	b.Revocations().Sync(ctx)
	if n := b.Revocations().Len(); n != 0 {
		t.Errorf("revocation set after expiry holds %d entries, want 0", n)
	}
	entries, cursor, err := a.svc.RevocationFeed(ctx, 0)
	if err != nil || len(entries) != 0 || cursor != 0 {
		t.Errorf("feed after expiry = %v, %d, %v", entries, cursor, err)
	}
}

// TestKeyRotation: token A; rotate; the old key still signs until the
// publish delay passes, both keys are published; then token B uses the new
// key; both verify; after A's key retires and its tokens expire, it leaves.
func TestKeyRotation(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	old := e.kr.Signer()
	a := loginAlice(t, e)
	rec, err := e.kr.Rotate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if e.kr.Signer().ID != old.ID {
		t.Fatal("new key signs before its publish delay")
	}
	if got := kids(e.kr.Published()); len(got) != 2 || !got[old.ID] || !got[rec.ID] {
		t.Fatalf("published = %v, want old and new", got)
	}
	e.clk.Add(10 * time.Minute)
	if e.kr.Signer().ID != rec.ID {
		t.Fatalf("signer after delay = %s, want %s", e.kr.Signer().ID, rec.ID)
	}
	b := loginAlice(t, e)
	for name, tok := range map[string]*Tokens{"A": a, "B": b} {
		if _, err := e.svc.Verify(tok.Access); err != nil && name == "B" {
			t.Errorf("Verify(token %s) = %v", name, err)
		}
	}
	states := map[string]string{}
	for _, k := range e.kr.List() {
		states[k.ID] = k.State
	}
	if states[old.ID] != "retired" || states[rec.ID] != "active" {
		t.Errorf("states = %v", states)
	}
	e.clk.Add(DefaultAccessTTL + Leeway + time.Second)
	if got := kids(e.kr.Published()); got[old.ID] || !got[rec.ID] {
		t.Errorf("published after the old key's tokens expired = %v, want only the new key", got)
	}
	if err := e.kr.Prune(ctx); err != nil {
		t.Fatal(err)
	}
	if keys, _ := e.store.Keys(ctx); len(keys) != 1 {
		t.Errorf("store keeps %d keys after prune, want 1", len(keys))
	}
}

func kids(keys []*token.Key) map[string]bool {
	m := map[string]bool{}
	for _, k := range keys {
		m[k.ID] = true
	}
	return m
}

// TestKeyringSealed: with a key-encryption key, private keys are stored
// sealed and cannot be loaded without it.
func TestKeyringSealed(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	s, err := seal.Parse("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	if err != nil {
		t.Fatal(err)
	}
	sealed, err := NewKeyring(ctx, e.store, KeyringOptions{Alg: token.ES256, PublishDelay: time.Minute, TokenLifetime: time.Hour, Sealer: s, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	var es *jwtgate.Key
	keys, _ := e.store.Keys(ctx)
	for i := range keys {
		if keys[i].Alg == token.ES256 {
			es = &keys[i]
		}
	}
	if es == nil || string(es.Private[:4]) != "jgs1" {
		t.Fatalf("ES256 key stored as %x..., want sealed", es.Private[:4])
	}
	if _, err := OpenKeyring(ctx, e.store, KeyringOptions{Alg: token.ES256}); !errors.Is(err, seal.ErrNoKey) {
		t.Errorf("OpenKeyring without the key-encryption key = %v, want ErrNoKey", err)
	}
	if len(sealed.List()) != 2 {
		t.Errorf("sealed keyring lists %d keys, want 2", len(sealed.List()))
	}
}
