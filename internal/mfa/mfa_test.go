package mfa_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/mfa"
	"github.com/jwtgate/jwtgate/internal/pgtest"
	"github.com/jwtgate/jwtgate/internal/postgres"
	"github.com/jwtgate/jwtgate/internal/seal"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/internal/throttle"
)

// refCode is RFC 6238 computed here from RFC 4226's definition, not by the
// library under test: HMAC-SHA1 of the step, dynamic truncation, 6 digits.
func refCode(secret []byte, step int64) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(step))
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	return fmt.Sprintf("%06d", v%1_000_000)
}

func TestRefCodeVectors(t *testing.T) {
	// RFC 6238 Appendix B, SHA1, last six of the eight digits.
	secret := []byte("12345678901234567890")
	for _, tt := range []struct {
		unix int64
		want string
	}{{59, "287082"}, {1111111109, "081804"}, {1234567890, "005924"}, {2000000000, "279037"}} {
		if got := refCode(secret, tt.unix/30); got != tt.want {
			t.Errorf("refCode(T=%d) = %s, want %s", tt.unix, got, tt.want)
		}
		if got := mfa.Code(secret, tt.unix/30); got != tt.want {
			t.Errorf("mfa.Code(T=%d) = %s, want %s", tt.unix, got, tt.want)
		}
	}
}

func TestValidCode(t *testing.T) {
	for _, tt := range []struct {
		code string
		ok   bool
	}{
		{"123456", true}, {"000000", true},
		{"12345", false}, {"1234567", false}, {"12345a", false}, {"12 456", false},
		{"１２３４５６", false}, {"١٢٣٤٥٦", false}, {"", false}, {"-12345", false},
	} {
		if got := mfa.ValidCode(tt.code); got != tt.ok {
			t.Errorf("ValidCode(%q) = %v, want %v", tt.code, got, tt.ok)
		}
	}
}

func TestMatchWindow(t *testing.T) {
	secret := []byte("0123456789abcdefghij")
	now := time.Unix(1_800_000_015, 0)
	cur := mfa.Step(now)
	for _, tt := range []struct {
		offset int64
		ok     bool
	}{{-2, false}, {-1, true}, {0, true}, {1, true}, {2, false}} {
		step, ok := mfa.Match(secret, refCode(secret, cur+tt.offset), now, 0)
		if ok != tt.ok || (ok && step != cur+tt.offset) {
			t.Errorf("Match(code of step %+d) = %d, %v; want ok=%v", tt.offset, step-cur, ok, tt.ok)
		}
	}
	if _, ok := mfa.Match(secret, refCode(secret, cur), now, cur); ok {
		t.Error("Match accepted the code of a step already used")
	}
	if _, ok := mfa.Match(secret, refCode(secret, cur+1), now, cur); !ok {
		t.Error("Match refused the code of the step after the last used one")
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes, hashes := mfa.NewRecoveryCodes()
	if len(codes) != 10 || len(hashes) != 10 {
		t.Fatalf("%d codes, %d hashes; want 10", len(codes), len(hashes))
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if len(c) != 14 || c[4] != '-' || c[9] != '-' || seen[c] {
			t.Errorf("code %q: want xxxx-xxxx-xxxx, unique", c)
		}
		seen[c] = true
		typed := strings.ToUpper(strings.ReplaceAll(c, "-", " "))
		if string(mfa.HashRecoveryCode(typed)) != string(hashes[i]) {
			t.Errorf("HashRecoveryCode(%q as typed %q) differs", c, typed)
		}
	}
	for _, bad := range []string{"", "abcd-efgh-jkm", "abcd-efgh-jkmnp", "abcd-efgh-jk0n", strings.Repeat("a", 100), "abcd\x00efgh-jkmn"} {
		if _, ok := mfa.NormalizeRecoveryCode(bad); ok {
			t.Errorf("NormalizeRecoveryCode(%q) accepted", bad)
		}
	}
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newUser(t *testing.T, s jwtgate.Store, name string) *jwtgate.User {
	t.Helper()
	u := &jwtgate.User{Name: name, PasswordHash: "x", CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := s.CreateUser(t.Context(), u); err != nil {
		t.Fatal(err)
	}
	return u
}

// secretFromURI reads the secret out of the otpauth URI, as an app does.
func secretFromURI(t *testing.T, uri string) []byte {
	t.Helper()
	u, err := url.Parse(uri)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" {
		t.Fatalf("URI %q is not otpauth://totp/", uri)
	}
	q := u.Query()
	if q.Get("algorithm") != "SHA1" || q.Get("digits") != "6" || q.Get("period") != "30" || q.Get("issuer") != "auth.example.test" {
		t.Errorf("URI %q parameters", uri)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(q.Get("secret"))
	if err != nil || len(secret) != 20 {
		t.Fatalf("secret %q: %v", q.Get("secret"), err)
	}
	return secret
}

func TestTOTPLifecycle(t *testing.T) {
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "jwtgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	sealer, _ := seal.Parse("MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	var events []string
	svc := mfa.New(store, mfa.Options{Issuer: "auth.example.test", Sealer: sealer, Now: clk.Now,
		Audit: func(_ context.Context, e jwtgate.AuditEvent) { events = append(events, e.Type) }})
	ctx := t.Context()
	alice := newUser(t, store, "alice")
	const ip = "203.0.113.5"

	if _, err := svc.Check(ctx, alice, "123456", ip); !errors.Is(err, mfa.ErrNoFactor) {
		t.Errorf("Check(no factor) = %v, want ErrNoFactor", err)
	}
	enr, err := svc.StartTOTP(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	secret := secretFromURI(t, enr.URI)
	if stored, _ := store.TOTP(ctx, alice.ID); strings.Contains(string(stored.Secret), string(secret)) {
		t.Error("the stored secret holds the raw secret; want it sealed")
	}
	if uri, err := svc.PendingURI(ctx, alice); err != nil || secretFromURI(t, uri) == nil {
		t.Errorf("PendingURI() = %q, %v", uri, err)
	}
	if png, err := mfa.QRCode(enr.URI, 200); err != nil || len(png) < 100 || string(png[1:4]) != "PNG" {
		t.Errorf("QRCode() = %d bytes, %v; want a PNG", len(png), err)
	}
	step := mfa.Step(clk.Now())
	if _, err := svc.ConfirmTOTP(ctx, alice, refCode(secret, step+2), ip); !errors.Is(err, mfa.ErrWrongCode) {
		t.Errorf("ConfirmTOTP(wrong code) = %v, want ErrWrongCode", err)
	}
	codes, err := svc.ConfirmTOTP(ctx, alice, refCode(secret, step), ip)
	if err != nil || len(codes) != 10 {
		t.Fatalf("ConfirmTOTP() = %d codes, %v", len(codes), err)
	}
	if _, err := svc.StartTOTP(ctx, alice); !errors.Is(err, jwtgate.ErrConflict) {
		t.Errorf("StartTOTP(enrolled) = %v, want ErrConflict", err)
	}
	// The confirming code is spent; so is any earlier one.
	if _, err := svc.Check(ctx, alice, refCode(secret, step), ip); !errors.Is(err, mfa.ErrWrongCode) {
		t.Errorf("Check(the confirming code again) = %v, want ErrWrongCode", err)
	}
	if m, err := svc.Check(ctx, alice, refCode(secret, step+1), ip); err != nil || m != mfa.MethodOTP {
		t.Errorf("Check(next step's code) = %q, %v", m, err)
	}
	if _, err := svc.Check(ctx, alice, refCode(secret, step+1), ip); !errors.Is(err, mfa.ErrWrongCode) {
		t.Errorf("Check(replayed code) = %v, want ErrWrongCode", err)
	}
	if m, err := svc.Check(ctx, alice, strings.ToUpper(codes[3]), ip); err != nil || m != mfa.MethodRecovery {
		t.Errorf("Check(recovery code) = %q, %v", m, err)
	}
	if _, err := svc.Check(ctx, alice, codes[3], ip); !errors.Is(err, mfa.ErrWrongCode) {
		t.Errorf("Check(used recovery code) = %v, want ErrWrongCode", err)
	}
	if f, _ := svc.Factors(ctx, alice.ID); !f.TOTP || f.RecoveryCodes != 9 {
		t.Errorf("Factors() = %+v, want TOTP and 9 codes", f)
	}

	// Regenerating voids the old set.
	clk.Add(30 * time.Second)
	fresh, err := svc.RegenerateRecoveryCodes(ctx, alice, refCode(secret, mfa.Step(clk.Now())+1), ip)
	if err != nil || len(fresh) != 10 {
		t.Fatalf("RegenerateRecoveryCodes() = %v", err)
	}
	if _, err := svc.Check(ctx, alice, codes[4], ip); !errors.Is(err, mfa.ErrWrongCode) {
		t.Errorf("Check(old recovery code) = %v, want ErrWrongCode", err)
	}

	// Disabling needs a valid code.
	if err := svc.DisableTOTP(ctx, alice, "000000", ip); !errors.Is(err, mfa.ErrWrongCode) && !errors.Is(err, jwtgate.ErrThrottled) {
		t.Errorf("DisableTOTP(wrong code) = %v", err)
	}
	if err := svc.DisableTOTP(ctx, alice, fresh[0], ip); err != nil {
		t.Fatalf("DisableTOTP(recovery code) = %v", err)
	}
	if f, _ := svc.Factors(ctx, alice.ID); f.Any() || f.RecoveryCodes != 0 {
		t.Errorf("Factors() after disabling = %+v, want none", f)
	}
	for _, want := range []string{jwtgate.EventTOTPEnabled, jwtgate.EventMFAFailed, jwtgate.EventRecoveryCodeUsed, jwtgate.EventRecoveryCodesReplaced, jwtgate.EventTOTPDisabled} {
		if !strings.Contains(strings.Join(events, " "), want) {
			t.Errorf("audit %v lacks %s", events, want)
		}
	}
}

func TestWrongCodesAreThrottled(t *testing.T) {
	store, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "jwtgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	svc := mfa.New(store, mfa.Options{Issuer: "auth.example.test", Now: clk.Now})
	ctx := t.Context()
	alice := newUser(t, store, "alice")
	enr, _ := svc.StartTOTP(ctx, alice)
	secret := secretFromURI(t, enr.URI)
	if _, err := svc.ConfirmTOTP(ctx, alice, refCode(secret, mfa.Step(clk.Now())), "203.0.113.5"); err != nil {
		t.Fatal(err)
	}
	for i, code := range []string{"000000", "letters", "1234567", "111111", "222222"} {
		if _, err := svc.Check(ctx, alice, code, "203.0.113.5"); !errors.Is(err, mfa.ErrWrongCode) {
			t.Fatalf("wrong code #%d = %v, want ErrWrongCode", i+1, err)
		}
	}
	// Locked now, even for the right code, and from another address.
	clk.Add(30 * time.Second)
	_, err = svc.Check(ctx, alice, refCode(secret, mfa.Step(clk.Now())), "198.51.100.7")
	var te *mfa.ThrottledError
	if !errors.As(err, &te) || te.Wait <= 0 {
		t.Errorf("Check(right code while throttled) = %v, want ThrottledError", err)
	}
	clk.Add(2 * time.Minute)
	if _, err := svc.Check(ctx, alice, refCode(secret, mfa.Step(clk.Now())), "198.51.100.7"); err != nil {
		t.Errorf("Check(right code after the wait) = %v", err)
	}
}

// TestCodeWorksOnceAcrossInstances: two services on two connections to
// one PostgreSQL database, the same code sent to both at once, many
// times: exactly one use succeeds each time.
func TestCodeWorksOnceAcrossInstances(t *testing.T) {
	url := pgtest.FreshSchema(t)
	var svcs []*mfa.Service
	var stores []*postgres.DB
	clk := &clock{t: time.Unix(1_800_000_000, 0)}
	for range 2 {
		db, err := postgres.Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		stores = append(stores, db)
		// Refused replays count as wrong codes: a lenient limit keeps
		// the rounds from being throttled.
		lenient := throttle.NewMemory(throttle.Policy{MaxFailures: 100}, clk.Now)
		svcs = append(svcs, mfa.New(db, mfa.Options{Issuer: "auth.example.test", Now: clk.Now, AccountLimiter: lenient}))
	}
	ctx := t.Context()
	alice := newUser(t, stores[0], "alice")
	enr, err := svcs[0].StartTOTP(ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	secret := secretFromURI(t, enr.URI)
	if _, err := svcs[1].ConfirmTOTP(ctx, alice, refCode(secret, mfa.Step(clk.Now())), ""); err != nil {
		t.Fatal(err)
	}
	for round := range 5 {
		clk.Add(30 * time.Second)
		code := refCode(secret, mfa.Step(clk.Now()))
		var ok, wrong atomic.Int32
		var wg sync.WaitGroup
		for i := range 6 {
			wg.Go(func() {
				_, err := svcs[i%2].Check(ctx, alice, code, "")
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, mfa.ErrWrongCode):
					wrong.Add(1)
				default:
					t.Errorf("Check() = %v", err)
				}
			})
		}
		wg.Wait()
		if ok.Load() != 1 || wrong.Load() != 5 {
			t.Errorf("round %d: %d uses of one code succeeded, %d refused; want 1 and 5", round, ok.Load(), wrong.Load())
		}
	}
}

// FuzzCodes: a code from a request is a TOTP code only if it is six ASCII
// digits, and a recovery code only in the normalised form of one; neither
// check panics, and a normalised recovery code normalises to itself.
func FuzzCodes(f *testing.F) {
	for _, seed := range []string{"123456", "１２３４５６", "12345", "abcd-efgh-jkmn", "ABCD EFGH JKMN", "abcd-efgh-jkm0", "", strings.Repeat("a", 100)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, code string) {
		if mfa.ValidCode(code) {
			if len(code) != 6 || strings.Trim(code, "0123456789") != "" {
				t.Fatalf("ValidCode(%q) = true", code)
			}
		}
		n, ok := mfa.NormalizeRecoveryCode(code)
		if !ok {
			return
		}
		if len(n) != 12 || strings.Trim(n, "abcdefghjkmnpqrstuvwxyz23456789") != "" {
			t.Fatalf("NormalizeRecoveryCode(%q) = %q", code, n)
		}
		if again, ok := mfa.NormalizeRecoveryCode(n); !ok || again != n {
			t.Fatalf("NormalizeRecoveryCode(%q) = %q, %v; not stable", n, again, ok)
		}
	})
}
