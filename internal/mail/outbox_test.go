package mail_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/mail"
	"github.com/jwtgate/jwtgate/internal/mail/mailtest"
	"github.com/jwtgate/jwtgate/internal/seal"
	"github.com/jwtgate/jwtgate/internal/sqlite"
)

// clock is a settable clock for the outbox's retry times.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// outcomes records the Sent callback's reports.
type outcomes struct {
	mu  sync.Mutex
	got []string
}

func (o *outcomes) add(purpose, outcome string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.got = append(o.got, purpose+":"+outcome)
}

func (o *outcomes) String() string { o.mu.Lock(); defer o.mu.Unlock(); return strings.Join(o.got, " ") }

func openStore(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func smtpTo(t *testing.T, srv *mailtest.Server) *mail.SMTP {
	t.Helper()
	s, err := mail.ParseSMTP("smtp://"+srv.Addr, "no-reply@example.test")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func verifyMsg(to string) mail.Message {
	return mail.Message{To: to, Subject: "Verify your email", Text: "https://auth.example.test/email/verify#token=SECRET-" + to}
}

func TestOutboxDelivers(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	db := openStore(t, filepath.Join(t.TempDir(), "jwtgate.db"))
	var out outcomes
	ob := mail.NewOutbox(db, smtpTo(t, srv), mail.OutboxOptions{Sent: out.add})
	for _, to := range []string{"a@example.test", "b@Example.TEST"} {
		if err := ob.Enqueue(t.Context(), "verify", verifyMsg(to)); err != nil {
			t.Fatalf("Enqueue(%s) = %v", to, err)
		}
	}
	if n, err := ob.Flush(t.Context()); err != nil || n != 2 {
		t.Fatalf("Flush() = %d, %v; want 2 sent", n, err)
	}
	got := srv.Messages()
	if len(got) != 2 || got[0].To[0] != "a@example.test" || got[1].To[0] != "b@example.test" {
		t.Fatalf("delivered %+v, want a@ then b@ (domain lower-cased)", got)
	}
	if !strings.Contains(got[1].Text, "SECRET-b@Example.TEST") {
		t.Errorf("text = %q, want the link", got[1].Text)
	}
	if n, _ := db.PendingEmails(t.Context()); n != 0 {
		t.Errorf("PendingEmails() = %d after delivery, want 0", n)
	}
	if n, err := ob.Flush(t.Context()); err != nil || n != 0 || len(srv.Messages()) != 2 {
		t.Errorf("second Flush() = %d, %v, %d messages; want nothing sent twice", n, err, len(srv.Messages()))
	}
	if out.String() != "verify:sent verify:sent" {
		t.Errorf("outcomes = %q", out.String())
	}
}

func TestOutboxRefusesBadMessages(t *testing.T) {
	db := openStore(t, filepath.Join(t.TempDir(), "jwtgate.db"))
	ob := mail.NewOutbox(db, nil, mail.OutboxOptions{})
	for _, m := range []mail.Message{
		{To: "a@example.test\r\nBcc: evil@example.test", Subject: "x", Text: "x"},
		{To: "a@example.test", Subject: "x\r\nBcc: evil@example.test", Text: "x"},
		{To: strings.Repeat("a", 300) + "@example.test", Subject: "x", Text: "x"},
		{To: "a@example.test", Subject: "x"},
	} {
		if err := ob.Enqueue(t.Context(), "verify", m); !errors.Is(err, jwtgate.ErrInvalid) {
			t.Errorf("Enqueue(%q, %q) = %v, want ErrInvalid", m.To, m.Subject, err)
		}
	}
	if n, _ := db.PendingEmails(t.Context()); n != 0 {
		t.Errorf("PendingEmails() = %d after refused messages, want 0", n)
	}
}

// TestOutboxRetriesUntilSMTPRecovers: a relay that refuses mail costs
// retries with doubling backoff, never the email.
func TestOutboxRetriesUntilSMTPRecovers(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	srv.FailWith(mailtest.TempFailure)
	db := openStore(t, filepath.Join(t.TempDir(), "jwtgate.db"))
	clk := &clock{t: time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)}
	var out outcomes
	ob := mail.NewOutbox(db, smtpTo(t, srv), mail.OutboxOptions{Now: clk.Now, FirstRetry: time.Minute, MaxRetry: 4 * time.Minute, Sent: out.add})
	if err := ob.Enqueue(t.Context(), "reset", verifyMsg("a@example.test")); err != nil {
		t.Fatal(err)
	}
	// Attempt 1 fails; the next is due 1 min later, then 2, then 4 (capped).
	for i, wait := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 4 * time.Minute} {
		if n, err := ob.Flush(t.Context()); err != nil || n != 0 {
			t.Fatalf("Flush() #%d with the relay failing = %d, %v; want 0 sent", i+1, n, err)
		}
		clk.Add(wait - time.Second)
		if n, _ := ob.Flush(t.Context()); n != 0 {
			t.Fatalf("Flush() before retry #%d is due sent %d", i+1, n)
		}
		clk.Add(time.Second)
	}
	srv.FailWith(nil)
	if n, err := ob.Flush(t.Context()); err != nil || n != 1 || len(srv.Messages()) != 1 {
		t.Fatalf("Flush() after recovery = %d, %v; want the email sent once", n, err)
	}
	if want := "reset:retry reset:retry reset:retry reset:retry reset:sent"; out.String() != want {
		t.Errorf("outcomes = %q, want %q", out.String(), want)
	}
}

// TestOutboxSurvivesRestart: emails stored while the relay is down, and
// one claimed by a sender that died mid-send, are sent by the next process.
func TestOutboxSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "jwtgate.db")
	down := mailtest.Start(t, mailtest.Options{})
	down.Close() // connection refused from now on
	clk := &clock{t: time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)}

	db := openStore(t, path)
	ob := mail.NewOutbox(db, smtpTo(t, down), mail.OutboxOptions{Now: clk.Now})
	for _, to := range []string{"a@example.test", "b@example.test"} {
		if err := ob.Enqueue(t.Context(), "verify", verifyMsg(to)); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := ob.Flush(t.Context()); err != nil || n != 0 {
		t.Fatalf("Flush() with SMTP down = %d, %v; want 0 sent", n, err)
	}
	// A third email is claimed by a sender that then dies: only its lease remains.
	if err := ob.Enqueue(t.Context(), "verify", verifyMsg("c@example.test")); err != nil {
		t.Fatal(err)
	}
	if got, err := db.ClaimEmails(t.Context(), clk.Now(), clk.Now().Add(mail.DefaultLease), 10); err != nil || len(got) != 1 {
		t.Fatalf("ClaimEmails() = %v, %v", got, err)
	}
	db.Close()

	up := mailtest.Start(t, mailtest.Options{})
	clk.Add(mail.DefaultLease)
	db2 := openStore(t, path)
	ob2 := mail.NewOutbox(db2, smtpTo(t, up), mail.OutboxOptions{Now: clk.Now})
	if n, err := ob2.Flush(t.Context()); err != nil || n != 3 {
		t.Fatalf("Flush() after restart = %d, %v; want 3 sent", n, err)
	}
	var to []string
	for _, m := range up.Messages() {
		to = append(to, m.To...)
	}
	if got := strings.Join(to, " "); got != "a@example.test b@example.test c@example.test" {
		t.Errorf("delivered to %q, want a, b and c once each", got)
	}
}

func TestOutboxGivesUp(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	srv.FailWith(mailtest.TempFailure)
	db := openStore(t, filepath.Join(t.TempDir(), "jwtgate.db"))
	clk := &clock{t: time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)}
	var out outcomes
	ob := mail.NewOutbox(db, smtpTo(t, srv), mail.OutboxOptions{Now: clk.Now, FirstRetry: time.Hour, MaxRetry: time.Hour, GiveUpAfter: 150 * time.Minute, Sent: out.add})
	if err := ob.Enqueue(t.Context(), "verify", verifyMsg("a@example.test")); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if _, err := ob.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Hour)
	}
	if want := "verify:retry verify:retry verify:gave_up"; out.String() != want {
		t.Errorf("outcomes = %q, want %q", out.String(), want)
	}
	if n, _ := db.PendingEmails(t.Context()); n != 0 {
		t.Errorf("PendingEmails() = %d after giving up, want 0", n)
	}
}

// TestOutboxSealsBodies: with a key-encryption key, the stored body shows
// nothing of the message, and a body moved to another recipient's row
// does not open.
func TestOutboxSealsBodies(t *testing.T) {
	sealer, err := seal.Parse("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	if err != nil {
		t.Fatal(err)
	}
	srv := mailtest.Start(t, mailtest.Options{})
	db := openStore(t, filepath.Join(t.TempDir(), "jwtgate.db"))
	ob := mail.NewOutbox(db, smtpTo(t, srv), mail.OutboxOptions{Sealer: sealer})
	if err := ob.Enqueue(t.Context(), "reset", verifyMsg("a@example.test")); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	got, err := db.ClaimEmails(t.Context(), now, now, 1) // lease ends at once: still due
	if err != nil || len(got) != 1 {
		t.Fatalf("ClaimEmails() = %v, %v", got, err)
	}
	if bytes.Contains(got[0].Body, []byte("SECRET")) || bytes.Contains(got[0].Body, []byte("Verify")) {
		t.Errorf("stored body %q shows the message", got[0].Body)
	}
	if n, err := ob.Flush(t.Context()); err != nil || n != 1 {
		t.Fatalf("Flush() = %d, %v; want the sealed email sent", n, err)
	}
	if m := srv.Messages(); len(m) != 1 || !strings.Contains(m[0].Text, "SECRET-a@example.test") {
		t.Errorf("delivered %+v, want the opened message", m)
	}
}

// TestOutboxRunWakesOnEnqueue: Run sends a new email at once, not at its
// next poll.
func TestOutboxRunWakesOnEnqueue(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	db := openStore(t, filepath.Join(t.TempDir(), "jwtgate.db"))
	ob := mail.NewOutbox(db, smtpTo(t, srv), mail.OutboxOptions{Poll: time.Hour})
	done := make(chan error, 1)
	go func() { done <- ob.Run(t.Context()) }()
	if err := ob.Enqueue(t.Context(), "verify", verifyMsg("a@example.test")); err != nil {
		t.Fatal(err)
	}
	srv.Wait(1, 30*time.Second) // fails the test if the hour-long poll were needed
}

// TestOutboxSlowRelay: a relay that takes the message but never answers
// costs a send timeout and a retry, not the email, and Flush does not
// wait on it longer than the timeout.
func TestOutboxSlowRelay(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	release := make(chan struct{})
	srv.Stall(release)
	db := openStore(t, filepath.Join(t.TempDir(), "jwtgate.db"))
	clk := &clock{t: time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)}
	var out outcomes
	// A lease of 2 s gives each send 1 s.
	ob := mail.NewOutbox(db, smtpTo(t, srv), mail.OutboxOptions{Now: clk.Now, Lease: 2 * time.Second, FirstRetry: time.Minute, Sent: out.add})
	if err := ob.Enqueue(t.Context(), "reset", verifyMsg("a@example.test")); err != nil {
		t.Fatal(err)
	}
	if n, err := ob.Flush(t.Context()); err != nil || n != 0 {
		t.Fatalf("Flush() with a stalled relay = %d, %v; want 0 sent", n, err)
	}
	close(release)
	srv.Stall(nil)
	clk.Add(time.Minute)
	if n, err := ob.Flush(t.Context()); err != nil || n != 1 {
		t.Fatalf("Flush() after the relay recovers = %d, %v; want 1", n, err)
	}
	if out.String() != "reset:retry reset:sent" {
		t.Errorf("outcomes = %q, want a retry then the send", out.String())
	}
}
