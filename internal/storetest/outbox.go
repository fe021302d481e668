package storetest

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
)

func enqueue(t *testing.T, s jwtgate.Store, to string, due time.Time) *jwtgate.OutboxEmail {
	t.Helper()
	e := &jwtgate.OutboxEmail{To: to, Purpose: "test", Body: []byte("sealed:" + to), CreatedAt: t0, NextAttempt: due}
	if err := s.EnqueueEmail(t.Context(), e); err != nil || e.ID == 0 {
		t.Fatalf("EnqueueEmail(%s) = %v, id %d", to, err, e.ID)
	}
	return e
}

func pending(t *testing.T, s jwtgate.Store) int {
	t.Helper()
	n, err := s.PendingEmails(t.Context())
	if err != nil {
		t.Fatalf("PendingEmails() = %v", err)
	}
	return n
}

// testOutbox walks emails through their life: due order, the lease, a
// failure with retry, delivery, giving up, and clean-up.
func testOutbox(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	ctx := t.Context()
	s := newStore(t)
	a := enqueue(t, s, "a@example.test", t0)
	b := enqueue(t, s, "b@example.test", t0.Add(time.Minute))
	c := enqueue(t, s, "c@example.test", t0.Add(-time.Second))
	if n := pending(t, s); n != 3 {
		t.Fatalf("PendingEmails() = %d, want 3", n)
	}

	lease := t0.Add(2 * time.Minute)
	got, err := s.ClaimEmails(ctx, t0, lease, 10)
	if err != nil || len(got) != 2 || got[0].ID != a.ID || got[1].ID != c.ID {
		t.Fatalf("ClaimEmails(t0) = %+v, %v; want a and c (due), not b", got, err)
	}
	if e := got[0]; e.To != a.To || e.Purpose != "test" || !bytes.Equal(e.Body, a.Body) || !sameTime(e.CreatedAt, t0) || !sameTime(e.NextAttempt, lease) || e.Attempts != 0 {
		t.Errorf("claimed email = %+v, want %+v leased to %v", e, a, lease)
	}
	// Leased: a second sender at the same moment gets nothing of them.
	if again, err := s.ClaimEmails(ctx, t0, lease, 10); err != nil || len(again) != 0 {
		t.Errorf("ClaimEmails during lease = %d emails, %v; want 0", len(again), err)
	}
	if lim, err := s.ClaimEmails(ctx, t0.Add(time.Minute), t0.Add(10*time.Minute), 1); err != nil || len(lim) != 1 || lim[0].ID != b.ID {
		t.Errorf("ClaimEmails(limit 1, b due) = %+v, %v; want b", lim, err)
	}

	// a fails and retries later; c is delivered.
	retry := t0.Add(5 * time.Minute)
	if err := s.EmailFailed(ctx, a.ID, retry, "dial tcp: connection refused"); err != nil {
		t.Fatalf("EmailFailed(a) = %v", err)
	}
	if err := s.EmailSent(ctx, c.ID, t0.Add(time.Second)); err != nil {
		t.Fatalf("EmailSent(c) = %v", err)
	}
	if n := pending(t, s); n != 2 {
		t.Errorf("PendingEmails() after c sent = %d, want 2", n)
	}
	if early, err := s.ClaimEmails(ctx, retry.Add(-time.Millisecond), retry.Add(time.Hour), 10); err != nil || len(early) != 0 {
		t.Errorf("ClaimEmails before the retry time = %+v, %v; want none", early, err)
	}
	late, err := s.ClaimEmails(ctx, retry, retry.Add(time.Minute), 10)
	if err != nil || len(late) != 1 || late[0].ID != a.ID {
		t.Fatalf("ClaimEmails(retry) = %+v, %v; want a alone (b is still leased)", late, err)
	}
	if late[0].Attempts != 1 || late[0].LastError != "dial tcp: connection refused" {
		t.Errorf("retried email attempts %d, last error %q; want 1 and the error", late[0].Attempts, late[0].LastError)
	}

	// a is given up on, b is delivered: nothing pending, nothing claimable.
	if err := s.EmailFailed(ctx, a.ID, time.Time{}, "550 no such user"); err != nil {
		t.Fatalf("EmailFailed(a, give up) = %v", err)
	}
	if err := s.EmailSent(ctx, b.ID, retry); err != nil {
		t.Fatalf("EmailSent(b) = %v", err)
	}
	if n := pending(t, s); n != 0 {
		t.Errorf("PendingEmails() = %d, want 0", n)
	}
	if rest, err := s.ClaimEmails(ctx, t0.Add(48*time.Hour), t0.Add(49*time.Hour), 10); err != nil || len(rest) != 0 {
		t.Errorf("ClaimEmails after all done = %+v, %v; want none", rest, err)
	}

	for _, tt := range []struct {
		name string
		err  error
	}{
		{"EmailSent", s.EmailSent(ctx, 1<<40, t0)},
		{"EmailFailed", s.EmailFailed(ctx, 1<<40, t0, "x")},
	} {
		if !errors.Is(tt.err, jwtgate.ErrNotFound) {
			t.Errorf("%s(unknown id) = %v, want ErrNotFound", tt.name, tt.err)
		}
	}

	// Clean-up removes finished emails created before the cut, keeps pending ones.
	d := enqueue(t, s, "d@example.test", t0)
	if n, err := s.DeleteEmailsBefore(ctx, t0.Add(time.Second)); err != nil || n != 3 {
		t.Errorf("DeleteEmailsBefore = %d, %v; want 3 (a, b, c; d is pending)", n, err)
	}
	if got, err := s.ClaimEmails(ctx, t0, t0.Add(time.Minute), 10); err != nil || len(got) != 1 || got[0].ID != d.ID {
		t.Errorf("after clean-up ClaimEmails = %+v, %v; want d", got, err)
	}
}

// testClaimEmailsConcurrent checks that senders claiming at once never get
// the same email: each of 40 is claimed exactly once.
func testClaimEmailsConcurrent(t *testing.T, newStore func(*testing.T) jwtgate.Store) {
	s := newStore(t)
	const emails, senders = 40, 8
	for i := range emails {
		enqueue(t, s, "user"+string(rune('a'+i%26))+"@example.test", t0)
	}
	var mu sync.Mutex
	seen := map[int64]int{}
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for {
				got, err := s.ClaimEmails(t.Context(), t0, t0.Add(time.Hour), 3)
				if err != nil {
					t.Errorf("ClaimEmails() = %v", err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, e := range got {
					seen[e.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != emails {
		t.Errorf("claimed %d distinct emails, want %d", len(seen), emails)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("email %d claimed %d times, want once", id, n)
		}
	}
}
