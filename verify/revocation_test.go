package verify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/token"
)

// TestRevocationKnownAtStart: New reads the feed before returning, so
// revocations from before the service started apply to its first request.
func TestRevocationKnownAtStart(t *testing.T) {
	k := mustGenerate(t, token.EdDSA)
	iss := newFakeIssuer(t, k)
	now := time.Now()
	bySession, byID, fine := claims(iss.url, now), claims(iss.url, now), claims(iss.url, now)
	iss.revoke(feedEntry{SID: bySession.SessionID, Exp: now.Add(time.Hour).Unix()})
	iss.revoke(feedEntry{JTI: byID.ID, Exp: now.Add(time.Hour).Unix()})
	v := mustNew(t, iss.url, WithRevocationPolling(time.Hour))
	ctx := context.Background()
	for _, c := range []*token.Claims{bySession, byID} {
		if _, err := v.Verify(ctx, sign(t, k, c)); !errors.Is(err, ErrRevoked) || !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("Verify(revoked sid %s / jti %s) = %v, want ErrRevoked", c.SessionID, c.ID, err)
		}
	}
	if _, err := v.Verify(ctx, sign(t, k, fine)); err != nil {
		t.Errorf("Verify(unrevoked) = %v", err)
	}
	// A token without sid and jti (the tutorial's shape) is not refused for it.
	bare := claims(iss.url, now)
	bare.SessionID, bare.ID = "", ""
	if _, err := v.Verify(ctx, sign(t, k, bare)); err != nil {
		t.Errorf("Verify(no sid, no jti) = %v", err)
	}
}

// TestRevocationCatchUp: a server that caps its pages is read to the end
// in one poll, so New knows the whole backlog.
func TestRevocationCatchUp(t *testing.T) {
	k := mustGenerate(t, token.EdDSA)
	iss := newFakeIssuer(t, k)
	exp := time.Now().Add(time.Hour).Unix()
	for i := range 25 {
		iss.revoke(feedEntry{SID: fmt.Sprint("s", i), Exp: exp})
	}
	iss.set(func(f *fakeIssuer) { f.feedPage = 10 })
	v := mustNew(t, iss.url, WithRevocationPolling(time.Hour))
	if n := len(v.revs.set.Load().sids); n != 25 {
		t.Errorf("revoked sessions known after New = %d, want 25", n)
	}
	if n := iss.feedHits.Load(); n != 4 {
		t.Errorf("feed requests = %d, want 4 (3 pages and an empty one)", n)
	}
}

// TestRevocationPolling: a revocation published after start is enforced
// within a poll interval, and polls after the first pass the cursor.
func TestRevocationPolling(t *testing.T) {
	k := mustGenerate(t, token.EdDSA)
	iss := newFakeIssuer(t, k)
	v := mustNew(t, iss.url, WithRevocationPolling(50*time.Millisecond))
	ctx := context.Background()
	now := time.Now()
	c1, c2 := claims(iss.url, now), claims(iss.url, now)
	tok1, tok2 := sign(t, k, c1), sign(t, k, c2)
	if _, err := v.Verify(ctx, tok1); err != nil {
		t.Fatalf("Verify before revocation = %v", err)
	}
	iss.revoke(feedEntry{SID: c1.SessionID, Exp: now.Add(time.Hour).Unix()})
	eventually(t, "the session revocation", func() bool {
		_, err := v.Verify(ctx, tok1)
		return errors.Is(err, ErrRevoked)
	})
	if _, err := v.Verify(ctx, tok2); err != nil {
		t.Fatalf("Verify(other session) = %v", err)
	}
	iss.revoke(feedEntry{JTI: c2.ID, Exp: now.Add(time.Hour).Unix()})
	eventually(t, "the token id revocation", func() bool {
		_, err := v.Verify(ctx, tok2)
		return errors.Is(err, ErrRevoked)
	})
	iss.mu.Lock()
	sinces := slices.Clone(iss.sinces)
	iss.mu.Unlock()
	if len(sinces) < 3 || sinces[0] != "" || slices.Contains(sinces[1:], "") {
		t.Errorf("since parameters = %q, want empty first, then cursors", sinces)
	}
}

// TestRevocationCursorRefused: a 400 (the issuer forgot the cursor, e.g.
// it restarted) makes the Verifier read the feed from the start.
func TestRevocationCursorRefused(t *testing.T) {
	k := mustGenerate(t, token.EdDSA)
	iss := newFakeIssuer(t, k)
	logs := new(logBuffer)
	v := mustNew(t, iss.url, WithRevocationPolling(50*time.Millisecond), WithLogger(logs.logger()))
	c := claims(iss.url, time.Now())
	tok := sign(t, k, c)
	eventually(t, "a poll with a cursor", func() bool { return iss.feedHits.Load() >= 2 })
	iss.set(func(f *fakeIssuer) {
		f.feedEpoch++
		f.feed = []feedEntry{{SID: c.SessionID, Exp: time.Now().Add(time.Hour).Unix()}}
	})
	eventually(t, "the revocation after the cursor reset", func() bool {
		_, err := v.Verify(context.Background(), tok)
		return errors.Is(err, ErrRevoked)
	})
	if !strings.Contains(logs.String(), "refused the cursor") {
		t.Errorf("log = %q, want a line about the refused cursor", logs.String())
	}
	if strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("log = %q, want no warning for a refused cursor", logs.String())
	}
}

// TestRevocationExpiry: entries are dropped once every token they cover has
// expired (exp plus leeway), and entries already expired are not kept.
func TestRevocationExpiry(t *testing.T) {
	k := mustGenerate(t, token.EdDSA)
	iss := newFakeIssuer(t, k)
	clk := newClock()
	v := mustNew(t, iss.url, WithClock(clk.Now), WithRevocationPolling(20*time.Millisecond))
	exp := clk.Now().Add(time.Minute).Unix()
	iss.revoke(feedEntry{SID: "s-live", Exp: exp})
	iss.revoke(feedEntry{JTI: "j-live", Exp: exp})
	iss.revoke(feedEntry{SID: "s-dead", Exp: clk.Now().Add(-defaultLeeway - 2*time.Second).Unix()})
	eventually(t, "the live entries", func() bool {
		s := v.revs.set.Load()
		return s.sids["s-live"] != 0 && s.jtis["j-live"] != 0
	})
	if _, ok := v.revs.set.Load().sids["s-dead"]; ok {
		t.Error("an entry that had expired on arrival is kept")
	}
	// Within exp plus leeway the entries stay: a token they cover may still
	// be accepted with leeway.
	clk.Add(time.Minute + defaultLeeway)
	hits := iss.feedHits.Load()
	eventually(t, "two more polls", func() bool { return iss.feedHits.Load() >= hits+2 })
	if s := v.revs.set.Load(); s.sids["s-live"] == 0 {
		t.Error("entry dropped before exp + leeway")
	}
	clk.Add(2 * time.Second)
	eventually(t, "the expired entries to be dropped", func() bool {
		s := v.revs.set.Load()
		return len(s.sids) == 0 && len(s.jtis) == 0
	})
}

// TestRevocationFeedDown: New succeeds when the feed fails, says so once,
// and says once when it recovers.
func TestRevocationFeedDown(t *testing.T) {
	k := mustGenerate(t, token.EdDSA)
	iss := newFakeIssuer(t, k)
	iss.set(func(f *fakeIssuer) { f.feedStatus = http.StatusNotFound })
	logs := new(logBuffer)
	v := mustNew(t, iss.url, WithRevocationPolling(20*time.Millisecond), WithLogger(logs.logger()))
	c := claims(iss.url, time.Now())
	tok := sign(t, k, c)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatalf("Verify with the feed down = %v", err)
	}
	eventually(t, "a few failed polls", func() bool { return iss.feedHits.Load() >= 4 })
	if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
		t.Errorf("warnings = %d, want 1:\n%s", n, logs.String())
	}
	iss.set(func(f *fakeIssuer) {
		f.feedStatus = 0
		f.feed = []feedEntry{{SID: c.SessionID, Exp: time.Now().Add(time.Hour).Unix()}}
	})
	eventually(t, "the revocation once the feed is back", func() bool {
		_, err := v.Verify(context.Background(), tok)
		return errors.Is(err, ErrRevoked)
	})
	eventually(t, "the recovery log line", func() bool { return strings.Contains(logs.String(), "answers again") })
}

// TestRevocationApply checks the entry rules on hostile or odd feeds.
func TestRevocationApply(t *testing.T) {
	now := time.Now()
	r := newRevocations("http://x/revocations", nil, func() time.Time { return now }, defaultLeeway, quiet)
	live := now.Add(time.Hour).Unix()
	r.apply([]feedEntry{
		{SID: "both", JTI: "both", Exp: live},
		{Exp: live},
		{SID: strings.Repeat("s", maxRevokedIDLen+1), Exp: live},
		{SID: "no-exp"},
		{SID: "ok", Exp: live},
		{JTI: "ok", Exp: live},
		{SID: "ok", Exp: live - 10}, // an earlier exp does not shorten it
	})
	s := r.set.Load()
	if len(s.sids) != 1 || len(s.jtis) != 1 || s.sids["ok"] != live || s.jtis["ok"] != live {
		t.Errorf("after apply: sids %v, jtis %v; want only ok with exp %d", s.sids, s.jtis, live)
	}
	before := r.set.Load()
	r.apply([]feedEntry{{SID: "ok", Exp: live}})
	if r.set.Load() != before {
		t.Error("apply of known entries built a new set")
	}
	if err := r.check("ok", ""); !errors.Is(err, ErrRevoked) {
		t.Errorf("check(sid ok) = %v, want ErrRevoked", err)
	}
	if err := r.check("other", ""); err != nil {
		t.Errorf("check(sid other) = %v, want nil", err)
	}
}

// TestRevocationFeedJunk: a feed that answers junk is an error, not a
// crash, and keeps what was known.
func TestRevocationFeedJunk(t *testing.T) {
	for _, body := range []string{"<html>", `{"revocations":{}}`, `{"cursor":5}`, `{"cursor":"` + strings.Repeat("c", 2000) + `"}`, `{"revocations":[{"sid":"x","exp":"soon"}]}`, strings.Repeat(" ", maxRevocationFeedLen+1)} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(body)) }))
		r := newRevocations(srv.URL+"/revocations", newFetcher(nil), time.Now, defaultLeeway, quiet)
		r.apply([]feedEntry{{SID: "kept", Exp: time.Now().Add(time.Hour).Unix()}})
		if err := r.poll(context.Background()); err == nil {
			t.Errorf("poll(%.40q) = nil, want error", body)
		}
		if r.set.Load().sids["kept"] == 0 {
			t.Errorf("poll(%.40q) lost a known entry", body)
		}
		srv.Close()
	}
}
