package auth

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/mfa"
	"github.com/jwtgate/jwtgate/internal/testkit"
)

// enrolTOTP gives name a confirmed TOTP secret, with a code computed from
// the otpauth URI by testkit (not by the server's code), and returns the
// URI and the recovery codes.
func enrolTOTP(t *testing.T, e *env, name string) (uri string, recovery []string) {
	t.Helper()
	ctx := context.Background()
	u, err := e.store.UserByName(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	en, err := e.svc.MFA().StartTOTP(ctx, u)
	if err != nil {
		t.Fatalf("StartTOTP(%s) = %v", name, err)
	}
	code := mustTOTP(t, en.URI, e.clk.Now(), 0)
	recovery, err = e.svc.MFA().ConfirmTOTP(ctx, u, code, "")
	if err != nil {
		t.Fatalf("ConfirmTOTP(%s, %s) = %v", name, code, err)
	}
	return en.URI, recovery
}

func mustTOTP(t *testing.T, uri string, at time.Time, steps int) string {
	t.Helper()
	c, err := testkit.TOTPStep(uri, at, steps)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func newUser(t *testing.T, e *env, name string, roles ...string) {
	t.Helper()
	if _, err := e.svc.CreateUser(context.Background(), name, name+"-pass", roles); err != nil {
		t.Fatal(err)
	}
}

// mfaToken logs name in with its password and returns the mfa_token.
func mfaToken(t *testing.T, e *env, name string) *MFARequiredError {
	t.Helper()
	_, err := e.svc.Login(context.Background(), name, name+"-pass", Client{IP: "192.0.2.10"})
	var mr *MFARequiredError
	if !errors.As(err, &mr) || !errors.Is(err, ErrMFARequired) {
		t.Fatalf("Login(%s, right password) = %v, want *MFARequiredError", name, err)
	}
	return mr
}

func TestLoginWithoutFactorUnchanged(t *testing.T) {
	e := newEnv(t, Options{})
	newUser(t, e, "alice")
	tok, err := e.svc.Login(context.Background(), "alice", "alice-pass", Client{})
	if err != nil {
		t.Fatalf("Login(alice) = %v", err)
	}
	if !slices.Equal(tok.Claims.AMR, []string{"pwd"}) {
		t.Errorf("Login(alice).Claims.AMR = %q, want [pwd]", tok.Claims.AMR)
	}
	// An otp sent by a client for a user without a factor is ignored.
	if _, err := e.svc.LoginOTP(context.Background(), "alice", "alice-pass", "123456", Client{}); err != nil {
		t.Errorf("LoginOTP(alice, no factor, otp) = %v, want nil", err)
	}
}

func TestMFALogin(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, Options{})
	newUser(t, e, "alice")
	uri, recovery := enrolTOTP(t, e, "alice")
	e.clk.Add(time.Minute)

	mr := mfaToken(t, e, "alice")
	if !slices.Equal(mr.Methods, []string{"totp", "recovery_code"}) || len(mr.Token) != 43 {
		t.Fatalf("Login(alice) = %+v, want a 43-character token and methods [totp recovery_code]", mr)
	}
	// The mfa_token is not an access token.
	if _, err := e.svc.Verify(mr.Token); err == nil {
		t.Errorf("Verify(mfa_token) = nil, want an error")
	}
	// A wrong code is refused and does not burn the token.
	if _, err := e.svc.FinishMFA(ctx, mr.Token, Client{}, e.svc.CodeFactor("000000", "")); !errors.Is(err, mfa.ErrWrongCode) {
		t.Fatalf("FinishMFA(wrong code) = %v, want ErrWrongCode", err)
	}
	code := mustTOTP(t, uri, e.clk.Now(), 0)
	tok, err := e.svc.FinishMFA(ctx, mr.Token, Client{}, e.svc.CodeFactor(code, ""))
	if err != nil {
		t.Fatalf("FinishMFA(right code) = %v", err)
	}
	want := []string{"pwd", "otp", "mfa"}
	if !slices.Equal(tok.Claims.AMR, want) {
		t.Errorf("FinishMFA claims amr = %q, want %q", tok.Claims.AMR, want)
	}
	for i := range 2 { // a miss, then a cache hit
		c, err := e.svc.Verify(tok.Access)
		if err != nil || !slices.Equal(c.AMR, want) {
			t.Errorf("Verify #%d: amr = %v, %v; want %q", i, c, err, want)
		}
	}
	ref, err := e.svc.Refresh(ctx, tok.Refresh, Client{})
	if err != nil || !slices.Equal(ref.Claims.AMR, want) {
		t.Errorf("Refresh: %v; amr want %q", err, want)
	} else if c, err := e.svc.Verify(ref.Access); err != nil || !slices.Equal(c.AMR, want) {
		t.Errorf("Verify(refreshed) = %v, %v; want amr %q", c, err, want)
	}
	// Spent: the same token again, even with a new code, is refused.
	e.clk.Add(30 * time.Second)
	if _, err := e.svc.FinishMFA(ctx, mr.Token, Client{}, e.svc.CodeFactor(mustTOTP(t, uri, e.clk.Now(), 0), "")); !errors.Is(err, ErrMFAToken) {
		t.Errorf("FinishMFA(spent token) = %v, want ErrMFAToken", err)
	}
	// A recovery code works once, in place of a code.
	mr = mfaToken(t, e, "alice")
	if tok, err := e.svc.FinishMFA(ctx, mr.Token, Client{}, e.svc.CodeFactor(recovery[0], "")); err != nil || !slices.Equal(tok.Claims.AMR, want) {
		t.Errorf("FinishMFA(recovery code) = %v; want amr %q", err, want)
	}
	mr = mfaToken(t, e, "alice")
	if _, err := e.svc.FinishMFA(ctx, mr.Token, Client{}, e.svc.CodeFactor(recovery[0], "")); !errors.Is(err, mfa.ErrWrongCode) {
		t.Errorf("FinishMFA(used recovery code) = %v, want ErrWrongCode", err)
	}
}

// TestMFATokenRefused: tokens that are malformed, expired, of a user whose
// password changed or who was disabled, all alike.
func TestMFATokenRefused(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, Options{})
	newUser(t, e, "alice")
	uri, _ := enrolTOTP(t, e, "alice")
	code := func() SecondFactor { return e.svc.CodeFactor(mustTOTP(t, uri, e.clk.Now(), 0), "") }
	// A newer login voids the older token.
	e.clk.Add(time.Minute)
	first := mfaToken(t, e, "alice")
	second := mfaToken(t, e, "alice")
	if _, err := e.svc.FinishMFA(ctx, first.Token, Client{}, code()); !errors.Is(err, ErrMFAToken) {
		t.Errorf("FinishMFA(older token) = %v, want ErrMFAToken", err)
	}
	if _, err := e.svc.FinishMFA(ctx, second.Token, Client{}, code()); err != nil {
		t.Errorf("FinishMFA(newest token) = %v", err)
	}

	calls := 0
	counting := func(context.Context, *jwtgate.User) ([]string, error) { calls++; return []string{"otp"}, nil }

	for _, tt := range []struct {
		name   string
		before func(tok string) string
	}{
		{"malformed", func(string) string { return "not-a-token" }},
		{"unknown", func(string) string { return newMFAToken() }},
		{"expired", func(tok string) string { e.clk.Add(MFATokenTTL + time.Second); return tok }},
		{"password changed", func(tok string) string {
			if err := e.svc.SetPassword(ctx, "alice", "alice-pass"); err != nil { // same password, new hash
				t.Fatal(err)
			}
			return tok
		}},
		{"user disabled", func(tok string) string { // last: alice stays disabled
			if err := e.svc.SetDisabled(ctx, "alice", true); err != nil {
				t.Fatal(err)
			}
			return tok
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e.clk.Add(time.Minute)
			tok := tt.before(mfaToken(t, e, "alice").Token)
			if u, err := e.svc.MFAUser(ctx, tok); !errors.Is(err, ErrMFAToken) {
				t.Errorf("MFAUser(%s) = %v, %v; want ErrMFAToken", tt.name, u, err)
			}
			calls = 0
			if _, err := e.svc.FinishMFA(ctx, tok, Client{}, counting); !errors.Is(err, ErrMFAToken) || calls != 0 {
				t.Errorf("FinishMFA(%s) = %v after %d factor checks, want ErrMFAToken before any", tt.name, err, calls)
			}
		})
	}
}

// TestMFAUser: the user of a live mfa_token is found without spending it
// or counting a login, so the passkey begin step can ask for that user's
// credentials and the finish step still works.
func TestMFAUser(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, Options{})
	newUser(t, e, "alice")
	newUser(t, e, "bob")
	uri, _ := enrolTOTP(t, e, "alice")
	e.clk.Add(time.Minute) // past the step of the enrolment's code
	tok := mfaToken(t, e, "alice").Token
	for range 2 {
		if u, err := e.svc.MFAUser(ctx, tok); err != nil || u.Name != "alice" {
			t.Fatalf("MFAUser(alice's token) = %v, %v; want alice", u, err)
		}
	}
	if _, err := e.svc.FinishMFA(ctx, tok, Client{}, e.svc.CodeFactor(mustTOTP(t, uri, e.clk.Now(), 0), "")); err != nil {
		t.Fatalf("FinishMFA after MFAUser = %v, want nil: looking up spends nothing", err)
	}
	if _, err := e.svc.MFAUser(ctx, tok); !errors.Is(err, ErrMFAToken) {
		t.Errorf("MFAUser(spent token) = %v, want ErrMFAToken", err)
	}
}

// TestMFAOtherUsersCode: a token of alice finished with bob's code fails
// (codes are checked against the token's user), and nothing is spent.
func TestMFAOtherUsersCode(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, Options{})
	newUser(t, e, "alice")
	newUser(t, e, "bob")
	aliceURI, _ := enrolTOTP(t, e, "alice")
	bobURI, bobRecovery := enrolTOTP(t, e, "bob")
	e.clk.Add(time.Minute)
	mr := mfaToken(t, e, "alice")
	for _, c := range []string{mustTOTP(t, bobURI, e.clk.Now(), 0), bobRecovery[0]} {
		if c == mustTOTP(t, aliceURI, e.clk.Now(), 0) {
			continue // one in a million: the two secrets agree now
		}
		if _, err := e.svc.FinishMFA(ctx, mr.Token, Client{}, e.svc.CodeFactor(c, "")); !errors.Is(err, mfa.ErrWrongCode) {
			t.Errorf("FinishMFA(alice's token, bob's code) = %v, want ErrWrongCode", err)
		}
	}
	bob, _ := e.store.UserByName(ctx, "bob")
	if f, _ := e.svc.MFA().Factors(ctx, bob.ID); f.RecoveryCodes != 10 {
		t.Errorf("bob's recovery codes after alice's failed login = %d, want 10", f.RecoveryCodes)
	}
	if _, err := e.svc.FinishMFA(ctx, mr.Token, Client{}, e.svc.CodeFactor(mustTOTP(t, aliceURI, e.clk.Now(), 0), "")); err != nil {
		t.Errorf("FinishMFA(alice's token, alice's code) = %v", err)
	}
}

// TestTOTPWindow: codes of the steps −1, 0 and +1 are accepted; −2 and +2,
// and a replay, are refused.
func TestTOTPWindow(t *testing.T) {
	for _, tt := range []struct {
		steps int
		ok    bool
	}{{-2, false}, {-1, true}, {0, true}, {1, true}, {2, false}} {
		e := newEnv(t, Options{})
		newUser(t, e, "alice")
		uri, _ := enrolTOTP(t, e, "alice")
		e.clk.Add(10 * time.Minute)
		code := mustTOTP(t, uri, e.clk.Now(), tt.steps)
		_, err := e.svc.LoginOTP(context.Background(), "alice", "alice-pass", code, Client{})
		if (err == nil) != tt.ok {
			t.Errorf("LoginOTP(code of step %+d) = %v, want ok=%t", tt.steps, err, tt.ok)
		}
		if tt.ok {
			// The same code again: a replay, refused.
			if _, err := e.svc.LoginOTP(context.Background(), "alice", "alice-pass", code, Client{}); !errors.Is(err, mfa.ErrWrongCode) {
				t.Errorf("LoginOTP(replayed code of step %+d) = %v, want ErrWrongCode", tt.steps, err)
			}
		}
	}
}

// TestTOTPConcurrentUse: of concurrent logins with the same code, one wins.
func TestTOTPConcurrentUse(t *testing.T) {
	e := newEnv(t, Options{})
	newUser(t, e, "alice")
	uri, _ := enrolTOTP(t, e, "alice")
	e.clk.Add(time.Minute)
	code := mustTOTP(t, uri, e.clk.Now(), 0)
	const n = 8
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for range n {
		wg.Go(func() {
			if _, err := e.svc.LoginOTP(context.Background(), "alice", "alice-pass", code, Client{}); err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			} else if !errors.Is(err, mfa.ErrWrongCode) && !errors.Is(err, jwtgate.ErrThrottled) {
				t.Errorf("LoginOTP(concurrent) = %v", err)
			}
		})
	}
	wg.Wait()
	if won != 1 {
		t.Errorf("%d of %d concurrent logins with one code won, want 1", won, n)
	}
}

func TestStartSession(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, Options{})
	newUser(t, e, "alice")
	u, _ := e.store.UserByName(ctx, "alice")
	tok, err := e.svc.StartSession(ctx, u, []string{"swk", "user"}, Client{UserAgent: "test"})
	if err != nil || !slices.Equal(tok.Claims.AMR, []string{"swk", "user", "mfa"}) {
		t.Fatalf("StartSession(swk user) = %v; want amr swk user mfa", err)
	}
	sess, err := e.store.SessionByID(ctx, tok.Claims.SessionID)
	if err != nil || !slices.Equal(sess.AMR, tok.Claims.AMR) {
		t.Errorf("stored session = %+v, %v; want amr %q", sess, err, tok.Claims.AMR)
	}
	if tok, err := e.svc.StartSession(ctx, u, []string{"hwk"}, Client{}); err != nil || slices.Contains(tok.Claims.AMR, "mfa") {
		t.Errorf("StartSession(hwk alone) = %v; want a session without mfa", err)
	}
	if err := e.svc.SetDisabled(ctx, "alice", true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.StartSession(ctx, u, []string{"swk", "user"}, Client{}); !errors.Is(err, jwtgate.ErrBadCredentials) {
		t.Errorf("StartSession(disabled user) = %v, want ErrBadCredentials", err)
	}
	refused := errors.New("not yet")
	e2 := newEnv(t, Options{AllowLogin: func(context.Context, *jwtgate.User) error { return refused }})
	newUser(t, e2, "bob")
	b, _ := e2.store.UserByName(ctx, "bob")
	if _, err := e2.svc.StartSession(ctx, b, []string{"swk", "user"}, Client{}); !errors.Is(err, refused) {
		t.Errorf("StartSession(AllowLogin refuses) = %v, want its error", err)
	}
}

func TestRequiresMFA(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, Options{RequireMFAFor: []string{"admin"}})
	newUser(t, e, "root", "admin")
	newUser(t, e, "alice", "dev")
	tok, err := e.svc.Login(ctx, "root", "root-pass", Client{})
	if err != nil {
		t.Fatal(err)
	}
	if !e.svc.RequiresMFA(tok.Claims) {
		t.Errorf("RequiresMFA(admin, amr pwd) = false, want true")
	}
	a, _ := e.svc.Login(ctx, "alice", "alice-pass", Client{})
	if e.svc.RequiresMFA(a.Claims) {
		t.Errorf("RequiresMFA(dev, amr pwd) = true, want false")
	}
	uri, _ := enrolTOTP(t, e, "root")
	e.clk.Add(time.Minute)
	tok, err = e.svc.LoginOTP(ctx, "root", "root-pass", mustTOTP(t, uri, e.clk.Now(), 0), Client{})
	if err != nil || e.svc.RequiresMFA(tok.Claims) {
		t.Errorf("LoginOTP(admin with code) = %v; RequiresMFA want false", err)
	}
}

func TestStepUp(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, Options{})
	newUser(t, e, "alice")
	tok, _ := e.svc.Login(ctx, "alice", "alice-pass", Client{})
	if err := e.svc.StepUp(ctx, tok.Claims, ""); err != nil {
		t.Errorf("StepUp(no factor) = %v, want nil", err)
	}
	uri, _ := enrolTOTP(t, e, "alice")
	if err := e.svc.StepUp(ctx, tok.Claims, ""); !errors.Is(err, ErrStepUp) {
		t.Errorf("StepUp(factor, password session, no code) = %v, want ErrStepUp", err)
	}
	e.clk.Add(time.Minute)
	if err := e.svc.StepUp(ctx, tok.Claims, "000000"); !errors.Is(err, mfa.ErrWrongCode) {
		t.Errorf("StepUp(wrong code) = %v, want ErrWrongCode", err)
	}
	if err := e.svc.StepUp(ctx, tok.Claims, mustTOTP(t, uri, e.clk.Now(), 0)); err != nil {
		t.Errorf("StepUp(right code) = %v, want nil", err)
	}
	e.clk.Add(time.Minute)
	full, err := e.svc.LoginOTP(ctx, "alice", "alice-pass", mustTOTP(t, uri, e.clk.Now(), 0), Client{})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.StepUp(ctx, full.Claims, ""); err != nil {
		t.Errorf("StepUp(fresh mfa login) = %v, want nil", err)
	}
	e.clk.Add(StepUpMaxAge + time.Second)
	if err := e.svc.StepUp(ctx, full.Claims, ""); !errors.Is(err, ErrStepUp) {
		t.Errorf("StepUp(mfa login %s old) = %v, want ErrStepUp", StepUpMaxAge, err)
	}
}
