package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/throttle"
)

// TestLoginThrottle: after MaxFailures wrong passwords from one address the
// account waits at that address; during the wait even the right password is
// refused there with the same answer; after the wait it logs in and the
// count starts over. (Other addresses: TestStrangerCannotLockOwnerOut.)
func TestLoginThrottle(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	e.svc.CreateUser(ctx, "alice", "alice-pass", nil)
	alice := Client{IP: "203.0.113.5"}
	for i := range throttle.DefaultPairPolicy.MaxFailures {
		if _, err := e.svc.Login(ctx, "alice", "wrong", alice); !errors.Is(err, jwtgate.ErrBadCredentials) {
			t.Fatalf("wrong login #%d = %v, want ErrBadCredentials", i+1, err)
		}
	}
	for _, tt := range []struct {
		name, user, pw string
		c              Client
	}{
		{"right password", "alice", "alice-pass", alice},
		{"other case", "ALICE", "alice-pass", alice},
	} {
		_, err := e.svc.Login(ctx, tt.user, tt.pw, tt.c)
		var te *ThrottledError
		if !errors.Is(err, jwtgate.ErrThrottled) || !errors.As(err, &te) || te.Wait <= 0 || te.Wait > time.Minute {
			t.Errorf("Login(%s) during lock = %v, want ErrThrottled with a wait up to 1m", tt.name, err)
		}
	}
	locks, _ := e.svc.Audit(ctx, jwtgate.AuditFilter{Type: jwtgate.EventLoginThrottled})
	if len(locks) != 1 || locks[0].Name != "alice" || locks[0].Detail != "account from this address locked for 1m0s" {
		t.Errorf("throttle audit events = %+v, want one for alice", locks)
	}
	e.clk.Add(time.Minute + time.Second)
	if _, err := e.svc.Login(ctx, "alice", "alice-pass", alice); err != nil {
		t.Fatalf("Login after the wait = %v", err)
	}
	// The success reset the account: four more failures do not lock it.
	for range throttle.DefaultPairPolicy.MaxFailures - 1 {
		e.svc.Login(ctx, "alice", "wrong", alice)
	}
	if _, err := e.svc.Login(ctx, "alice", "alice-pass", alice); err != nil {
		t.Errorf("Login after a reset and %d failures = %v", throttle.DefaultPairPolicy.MaxFailures-1, err)
	}
}

// TestUnknownNamesThrottled: names that do not exist lock like real ones,
// so the presence of a 429 does not reveal which accounts exist.
func TestUnknownNamesThrottled(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	c := Client{IP: "203.0.113.6"}
	for range throttle.DefaultPairPolicy.MaxFailures {
		e.svc.Login(ctx, "nobody", "x", c)
	}
	if _, err := e.svc.Login(ctx, "nobody", "x", c); !errors.Is(err, jwtgate.ErrThrottled) {
		t.Errorf("Login(unknown) after %d failures = %v, want ErrThrottled", throttle.DefaultPairPolicy.MaxFailures, err)
	}
}

// TestIPThrottle: one address spraying many accounts is stopped by the
// per-address limit, while other addresses still log in.
func TestIPThrottle(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	e.svc.CreateUser(ctx, "alice", "alice-pass", nil)
	sprayer := Client{IP: "2001:db8::1"}
	for i := range throttle.DefaultIPPolicy.MaxFailures {
		e.svc.Login(ctx, "user"+string(rune('a'+i)), "x", sprayer)
	}
	// The same /64 is the same client.
	if _, err := e.svc.Login(ctx, "alice", "alice-pass", Client{IP: "2001:db8::2"}); !errors.Is(err, jwtgate.ErrThrottled) {
		t.Errorf("Login from the spraying /64 = %v, want ErrThrottled", err)
	}
	if _, err := e.svc.Login(ctx, "alice", "alice-pass", Client{IP: "203.0.113.9"}); err != nil {
		t.Errorf("Login from another address = %v", err)
	}
}

func TestChangePasswordThrottled(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := WithClient(context.Background(), Client{IP: "203.0.113.8"})
	tok := loginAlice(t, e)
	for range throttle.DefaultPairPolicy.MaxFailures {
		e.svc.ChangePassword(ctx, tok.Claims, "guess", "new-password")
	}
	if err := e.svc.ChangePassword(ctx, tok.Claims, "alice-pass", "new-password"); !errors.Is(err, jwtgate.ErrThrottled) {
		t.Errorf("ChangePassword after guessing = %v, want ErrThrottled", err)
	}
}
