package storetest

import (
	"bytes"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
)

// mustCreateOIDCClient registers a confidential client for the OIDC cases.
func mustCreateOIDCClient(t *testing.T, s jwtgate.Store, id string) *jwtgate.Client {
	t.Helper()
	c := &jwtgate.Client{ID: id, Name: "app " + id, SecretHash: hashOf("secret"), RedirectURIs: []string{"https://app.example.test/cb"}, CreatedAt: t0, UpdatedAt: t0}
	if err := s.CreateClient(t.Context(), c); err != nil {
		t.Fatalf("CreateClient(%s) = %v", id, err)
	}
	return c
}

func newAuthRequest(id, clientID string) *jwtgate.AuthRequest {
	return &jwtgate.AuthRequest{
		ID: id, ClientID: clientID, RedirectURI: "https://app.example.test/cb", Scopes: []string{"openid", "email"},
		State: "st ate/ü", Nonce: "n-0S6_WzA2Mj", CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		ResponseMode: "form_post", Prompt: []string{"login", "consent"}, MaxAge: 300, LoginHint: "alice",
		HintSubject: "42", CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute),
	}
}

// testAuthRequests: an authorization request is stored as sent, completed
// once, and its code redeemed once; a replay reads the first redemption.
func testAuthRequests(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	mustCreateOIDCClient(t, s, "c1")
	u := mustCreateUser(t, s, newUser("alice"))
	want := newAuthRequest("r1", "c1")
	if err := s.CreateAuthRequest(ctx, want); err != nil {
		t.Fatalf("CreateAuthRequest = %v", err)
	}
	if err := s.CreateAuthRequest(ctx, newAuthRequest("r1", "c1")); !errors.Is(err, jwtgate.ErrConflict) {
		t.Errorf("CreateAuthRequest(same id) = %v, want ErrConflict", err)
	}
	if err := s.CreateAuthRequest(ctx, newAuthRequest("r2", "nope")); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("CreateAuthRequest(unknown client) = %v, want ErrNotFound", err)
	}
	got, err := s.AuthRequest(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if got.ClientID != "c1" || got.RedirectURI != want.RedirectURI || !slices.Equal(got.Scopes, want.Scopes) || got.State != want.State ||
		got.Nonce != want.Nonce || got.CodeChallenge != want.CodeChallenge || got.ResponseMode != "form_post" || !slices.Equal(got.Prompt, want.Prompt) ||
		got.MaxAge != 300 || got.LoginHint != "alice" || got.HintSubject != "42" || !sameTime(got.CreatedAt, t0) || !sameTime(got.ExpiresAt, want.ExpiresAt) ||
		got.Done() || got.UserID != 0 || got.CodeUsedAt != nil {
		t.Errorf("AuthRequest(r1) = %+v, want %+v", got, want)
	}
	if _, err := s.AuthRequest(ctx, "nope"); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("AuthRequest(unknown) = %v, want ErrNotFound", err)
	}

	done := jwtgate.AuthCompletion{UserID: u.ID, SessionID: "browser-sid", AuthTime: t0.Add(-time.Hour), AMR: []string{"pwd", "otp"},
		CodeHash: hashOf("code-1"), CodeExpiresAt: t0.Add(time.Minute)}
	var wins atomic.Int32
	concurrently(8, func(int) {
		if err := s.CompleteAuthRequest(ctx, "r1", done); err == nil {
			wins.Add(1)
		} else if !errors.Is(err, jwtgate.ErrConflict) {
			t.Errorf("CompleteAuthRequest(concurrent) = %v, want nil or ErrConflict", err)
		}
	})
	if wins.Load() != 1 {
		t.Errorf("CompleteAuthRequest: %d of 8 concurrent calls won, want 1", wins.Load())
	}
	if err := s.CompleteAuthRequest(ctx, "nope", done); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("CompleteAuthRequest(unknown) = %v, want ErrNotFound", err)
	}
	got, _ = s.AuthRequest(ctx, "r1")
	if !got.Done() || got.UserID != u.ID || got.SessionID != "browser-sid" || !sameTime(got.AuthTime, done.AuthTime) ||
		!slices.Equal(got.AMR, done.AMR) || !bytes.Equal(got.CodeHash, done.CodeHash) || !sameTime(got.CodeExpiresAt, done.CodeExpiresAt) {
		t.Errorf("AuthRequest after Complete = %+v", got)
	}

	if _, _, err := s.RedeemAuthCode(ctx, hashOf("other"), t0, "sid-x"); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("RedeemAuthCode(unknown) = %v, want ErrNotFound", err)
	}
	at := t0.Add(5 * time.Second)
	var firsts atomic.Int32
	concurrently(8, func(i int) {
		r, first, err := s.RedeemAuthCode(ctx, hashOf("code-1"), at, "sid-"+string(rune('a'+i)))
		if err != nil {
			t.Errorf("RedeemAuthCode = %v", err)
			return
		}
		if r.ID != "r1" || r.UserID != u.ID || r.HintSubject != "42" || r.CodeUsedAt == nil || !sameTime(*r.CodeUsedAt, at) || r.IssuedSessionID == "" {
			t.Errorf("RedeemAuthCode = %+v, want r1 used at %v with an issued session", r, at)
		}
		if first {
			firsts.Add(1)
		}
	})
	if firsts.Load() != 1 {
		t.Errorf("RedeemAuthCode: %d of 8 concurrent calls redeemed, want 1", firsts.Load())
	}
	r, first, err := s.RedeemAuthCode(ctx, hashOf("code-1"), at.Add(time.Second), "sid-late")
	if err != nil || first || r.IssuedSessionID == "sid-late" || !sameTime(*r.CodeUsedAt, at) {
		t.Errorf("RedeemAuthCode(replay) = %+v, %v, %v; want the first redemption's record, false", r, first, err)
	}

	// Purge: only requests past both their expiry and their code's.
	unhinted := newAuthRequest("r3", "c1")
	unhinted.HintSubject = ""
	if err := s.CreateAuthRequest(ctx, unhinted); err != nil {
		t.Fatal(err)
	}
	if got, err := s.AuthRequest(ctx, "r3"); err != nil || got.HintSubject != "" {
		t.Errorf("AuthRequest(without an id_token_hint) = %+v, %v; want HintSubject \"\"", got, err)
	}
	// A request refused before anyone logged in is closed without a user.
	if err := s.CompleteAuthRequest(ctx, "r3", jwtgate.AuthCompletion{CodeHash: hashOf("unused"), CodeExpiresAt: t0, AuthTime: t0}); err != nil {
		t.Fatalf("CompleteAuthRequest(no user) = %v", err)
	}
	if got, _ := s.AuthRequest(ctx, "r3"); !got.Done() || got.UserID != 0 {
		t.Errorf("AuthRequest(closed without a user) = %+v", got)
	}
	if n, err := s.DeleteAuthRequestsBefore(ctx, t0.Add(5*time.Minute)); err != nil || n != 0 {
		t.Errorf("DeleteAuthRequestsBefore(before expiry) = %d, %v; want 0", n, err)
	}
	if n, err := s.DeleteAuthRequestsBefore(ctx, t0.Add(11*time.Minute)); err != nil || n != 2 {
		t.Errorf("DeleteAuthRequestsBefore(after expiry) = %d, %v; want 2", n, err)
	}
	if _, err := s.AuthRequest(ctx, "r1"); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("AuthRequest(purged) = %v, want ErrNotFound", err)
	}
}

// testConsents: one consent per user and client, replaced by the next,
// listed per user, deleted, and gone with the client.
func testConsents(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	mustCreateOIDCClient(t, s, "c1")
	mustCreateOIDCClient(t, s, "c2")
	alice := mustCreateUser(t, s, newUser("alice"))
	bob := mustCreateUser(t, s, newUser("bob"))
	save := func(uid int64, cid string, at time.Time, scopes ...string) {
		t.Helper()
		if err := s.SaveConsent(ctx, &jwtgate.Consent{UserID: uid, ClientID: cid, Scopes: scopes, CreatedAt: at, UpdatedAt: at}); err != nil {
			t.Fatalf("SaveConsent(%d, %s) = %v", uid, cid, err)
		}
	}
	save(alice.ID, "c1", t0, "openid")
	save(alice.ID, "c2", t0.Add(time.Second), "openid", "email")
	save(bob.ID, "c1", t0, "openid", "profile")
	save(alice.ID, "c1", t0.Add(time.Hour), "openid", "profile")
	c, err := s.Consent(ctx, alice.ID, "c1")
	if err != nil || !slices.Equal(c.Scopes, []string{"openid", "profile"}) || !sameTime(c.CreatedAt, t0) || !sameTime(c.UpdatedAt, t0.Add(time.Hour)) {
		t.Errorf("Consent(alice, c1) = %+v, %v; want openid profile, created t0, updated t0+1h", c, err)
	}
	if err := s.SaveConsent(ctx, &jwtgate.Consent{UserID: alice.ID, ClientID: "nope", CreatedAt: t0, UpdatedAt: t0}); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("SaveConsent(unknown client) = %v, want ErrNotFound", err)
	}
	list, err := s.ConsentsByUser(ctx, alice.ID)
	if err != nil || len(list) != 2 || list[0].ClientID != "c1" || list[1].ClientID != "c2" {
		t.Errorf("ConsentsByUser(alice) = %+v, %v; want c1, c2", list, err)
	}
	if err := s.DeleteConsent(ctx, alice.ID, "c1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteConsent(ctx, alice.ID, "c1"); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("DeleteConsent(again) = %v, want ErrNotFound", err)
	}
	if _, err := s.Consent(ctx, alice.ID, "c1"); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("Consent(deleted) = %v, want ErrNotFound", err)
	}
	if c, err := s.Consent(ctx, bob.ID, "c1"); err != nil || c.UserID != bob.ID {
		t.Errorf("Consent(bob, c1) = %+v, %v; want bob's untouched", c, err)
	}
	if err := s.DeleteClient(ctx, "c1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Consent(ctx, bob.ID, "c1"); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("Consent(of a deleted client) = %v, want ErrNotFound", err)
	}
}

// testClientGrants: a session created for a client records its grant,
// found by session and listed by user and client.
func testClientGrants(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	mustCreateOIDCClient(t, s, "c1")
	u := mustCreateUser(t, s, newUser("alice"))
	mustCreateSession(t, s, newSession("s1", u.ID))
	mustCreateSession(t, s, newSession("s2", u.ID))
	mustCreateSession(t, s, newSession("browser", u.ID))
	for _, sid := range []string{"s1", "s2"} {
		g := &jwtgate.ClientGrant{SessionID: sid, ClientID: "c1", UserID: u.ID, Scopes: []string{"openid", "offline_access"},
			AuthTime: t0.Add(-time.Minute), AMR: []string{"pwd"}, CreatedAt: t0}
		if err := s.CreateClientGrant(ctx, g); err != nil {
			t.Fatalf("CreateClientGrant(%s) = %v", sid, err)
		}
	}
	if err := s.CreateClientGrant(ctx, &jwtgate.ClientGrant{SessionID: "s1", ClientID: "c1", UserID: u.ID, CreatedAt: t0}); !errors.Is(err, jwtgate.ErrConflict) {
		t.Errorf("CreateClientGrant(same session) = %v, want ErrConflict", err)
	}
	if err := s.CreateClientGrant(ctx, &jwtgate.ClientGrant{SessionID: "nope", ClientID: "c1", UserID: u.ID, CreatedAt: t0}); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("CreateClientGrant(unknown session) = %v, want ErrNotFound", err)
	}
	g, err := s.ClientGrant(ctx, "s1")
	if err != nil || g.ClientID != "c1" || g.UserID != u.ID || !slices.Equal(g.Scopes, []string{"openid", "offline_access"}) ||
		!slices.Equal(g.AMR, []string{"pwd"}) || !sameTime(g.AuthTime, t0.Add(-time.Minute)) || !sameTime(g.CreatedAt, t0) {
		t.Errorf("ClientGrant(s1) = %+v, %v", g, err)
	}
	if _, err := s.ClientGrant(ctx, "browser"); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Errorf("ClientGrant(a browser session) = %v, want ErrNotFound", err)
	}
	if ids, err := s.ClientGrantSessions(ctx, u.ID, "c1"); err != nil || !slices.Equal(slices.Sorted(slices.Values(ids)), []string{"s1", "s2"}) {
		t.Errorf("ClientGrantSessions(alice, c1) = %v, %v; want s1 s2", ids, err)
	}
	if ids, err := s.ClientGrantSessions(ctx, u.ID, "other"); err != nil || len(ids) != 0 {
		t.Errorf("ClientGrantSessions(alice, other) = %v, %v; want none", ids, err)
	}
	if ids, err := s.ClientSessionIDs(ctx, "c1"); err != nil || !slices.Equal(slices.Sorted(slices.Values(ids)), []string{"s1", "s2"}) {
		t.Errorf("ClientSessionIDs(c1) = %v, %v; want s1 s2", ids, err)
	}
	if ids, err := s.ClientSessionIDs(ctx, "other"); err != nil || len(ids) != 0 {
		t.Errorf("ClientSessionIDs(other) = %v, %v; want none", ids, err)
	}
}

// testAddKey: a key of a second algorithm is added only while that
// algorithm has no current key, however many callers race.
func testAddKey(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	if _, err := s.EnsureKey(ctx, newKey("ed-1", "EdDSA", t0)); err != nil {
		t.Fatal(err)
	}
	var added atomic.Int32
	concurrently(6, func(i int) {
		ok, err := s.AddKey(ctx, newKey("rs-"+string(rune('a'+i)), "RS256", t0))
		if err != nil {
			t.Errorf("AddKey = %v", err)
		}
		if ok {
			added.Add(1)
		}
	})
	if added.Load() != 1 {
		t.Fatalf("AddKey: %d of 6 concurrent calls added a key, want 1", added.Load())
	}
	// A rotation retires every current key; then one more may be added.
	if ok, err := s.RotateKey(ctx, newKey("ed-2", "EdDSA", t0.Add(time.Hour)), t0.Add(time.Hour)); err != nil || !ok {
		t.Fatalf("RotateKey = %v, %v", ok, err)
	}
	if ok, err := s.AddKey(ctx, newKey("rs-next", "RS256", t0.Add(time.Hour))); err != nil || !ok {
		t.Errorf("AddKey after a rotation = %v, %v; want added", ok, err)
	}
	if ok, err := s.AddKey(ctx, newKey("ed-3", "EdDSA", t0.Add(time.Hour))); err != nil || ok {
		t.Errorf("AddKey(EdDSA, which has a current key) = %v, %v; want not added", ok, err)
	}
	keys, err := s.Keys(ctx)
	if err != nil || len(keys) != 4 {
		t.Errorf("Keys() = %d keys, %v; want 4", len(keys), err)
	}
}
