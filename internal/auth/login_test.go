package auth

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/password"
)

// flood holds the hashing limiter's places with calls that run until the
// test ends them, as a login flood from one address on one account would.
type flood struct {
	lim     *password.Limiter
	release []chan struct{}
	errs    []chan error
	started chan int
}

// add queues one flood call from ip on account and waits until it is in.
func (f *flood) add(t *testing.T, ip, account string) {
	t.Helper()
	i := len(f.release)
	rel, res := make(chan struct{}), make(chan error, 1)
	f.release, f.errs = append(f.release, rel), append(f.errs, res)
	before := f.lim.Waiting()
	go func() {
		res <- f.lim.Do(context.Background(), "ip:"+ip, []string{"ip:" + ip, "user:" + account}, func() { f.started <- i; <-rel })
	}()
	for f.lim.Waiting() == before && len(res) == 0 {
		time.Sleep(100 * time.Microsecond)
	}
}

// TestLoginFairUnderFlood (issue 12 §6, issue 17 §5): while one client
// floods the hashing queue with logins to one account (bob), another
// user's login from elsewhere takes the next free slot instead of getting
// 503, the flooding address and the flooded account get an early 429, and
// the flooded account's owner still gets in with the device cookie of an
// earlier login. Before the fair limiter, a full queue refused every login
// with ErrBusy.
func TestLoginFairUnderFlood(t *testing.T) {
	lim := password.NewLimiter(1, 2, 3)
	e := newEnv(t, Options{Limiter: lim})
	ctx := context.Background()
	e.svc.CreateUser(ctx, "admin", "admin-pass", nil)
	e.svc.CreateUser(ctx, "bob", "bob-pass1", nil)
	earlier, err := e.svc.Login(ctx, "bob", "bob-pass1", Client{IP: "192.0.2.50"})
	if err != nil || earlier.Device == "" {
		t.Fatalf("Login(bob) before the flood = %+v, %v; want a device cookie", earlier, err)
	}

	f := &flood{lim: lim, started: make(chan int, 10)}
	f.add(t, "203.0.113.1", "bob") // running
	<-f.started
	f.add(t, "203.0.113.1", "bob") // waiting
	f.add(t, "203.0.113.1", "bob") // waiting: the queue is full, and so are the address's and bob's places

	for _, tt := range []struct {
		name, user, pw string
		c              Client
	}{
		{name: "the flooding address", user: "admin", pw: "admin-pass", c: Client{IP: "203.0.113.1"}},
		{name: "the flooded account from elsewhere", user: "bob", pw: "bob-pass1", c: Client{IP: "198.51.100.9"}},
	} {
		_, err := e.svc.Login(ctx, tt.user, tt.pw, tt.c)
		var te *ThrottledError
		if !errors.As(err, &te) || !te.InProgress || te.Wait != time.Second {
			t.Errorf("Login(%s) during the flood = %v, want an in-progress ThrottledError of 1s", tt.name, err)
		}
	}

	// admin from elsewhere, and bob with his device cookie, queue ahead of
	// the flood: each takes the place of the flood's last waiter.
	type result struct {
		name string
		err  error
	}
	done := make(chan result, 2)
	for i, tt := range []struct {
		name, user, pw string
		c              Client
	}{
		{name: "admin from elsewhere", user: "admin", pw: "admin-pass", c: Client{IP: "198.51.100.7"}},
		{name: "bob with his device cookie", user: "bob", pw: "bob-pass1", c: Client{IP: "192.0.2.51", Device: earlier.Device}},
	} {
		evicts := f.errs[2-i] // the flood's last waiter
		answered := len(done)
		go func() {
			_, err := e.svc.Login(ctx, tt.user, tt.pw, tt.c)
			done <- result{tt.name, err}
		}()
		for len(evicts) == 0 && len(done) == answered {
			time.Sleep(100 * time.Microsecond)
		}
	}
	close(f.release[0]) // the running flood hash ends
	for range 2 {
		if r := <-done; r.err != nil {
			t.Errorf("Login(%s) during the flood = %v, want nil", r.name, r.err)
		}
	}
	// Places are given away on arrival, so both answers are in by now.
	for i := 1; i <= 2; i++ {
		select {
		case err := <-f.errs[i]:
			if !errors.Is(err, password.ErrBusy) {
				t.Errorf("flood call %d after two sparse logins came = %v, want ErrBusy (its place given away)", i, err)
			}
		default:
			t.Errorf("flood call %d still queued after two sparse logins came, want ErrBusy", i)
			close(f.release[i])
		}
	}
	if err := <-f.errs[0]; err != nil {
		t.Errorf("the running flood call = %v, want nil", err)
	}
}

// TestStrangerCannotLockOwnerOut (issue 17 §6): a stranger's failures lock
// the stranger's address out of the account, not the owner at another
// address nor the owner's browser with a device cookie; a guessing attack
// spread over many addresses still locks the account, except for the
// owner's known browsers; a device has its own budget. Before, five
// failures from anywhere locked the account for everyone.
func TestStrangerCannotLockOwnerOut(t *testing.T) {
	e := newEnv(t, Options{})
	ctx := context.Background()
	e.svc.CreateUser(ctx, "alice", "alice-pass", nil)
	e.svc.CreateUser(ctx, "bob", "bob-pass1", nil)
	home := Client{IP: "192.0.2.10"}
	first, err := e.svc.Login(ctx, "alice", "alice-pass", home)
	if err != nil {
		t.Fatal(err)
	}
	bobs, err := e.svc.Login(ctx, "bob", "bob-pass1", Client{IP: "192.0.2.20"})
	if err != nil {
		t.Fatal(err)
	}
	device := first.Device
	stranger := Client{IP: "203.0.113.66"}
	for range 5 {
		if _, err := e.svc.Login(ctx, "alice", "guess", stranger); !errors.Is(err, jwtgate.ErrBadCredentials) {
			t.Fatalf("stranger's guess = %v, want ErrBadCredentials", err)
		}
	}
	check := func(t *testing.T, cases []loginCase) {
		t.Helper()
		for _, tt := range cases {
			tok, err := e.svc.Login(ctx, tt.user, tt.pw, tt.c)
			switch {
			case tt.throttled && !errors.Is(err, jwtgate.ErrThrottled):
				t.Errorf("Login(%s) = %v, want ErrThrottled", tt.name, err)
			case !tt.throttled && err != nil:
				t.Errorf("Login(%s) = %v, want nil", tt.name, err)
			case err == nil && tok.Device == "":
				t.Errorf("Login(%s) gave no device cookie", tt.name)
			}
		}
	}
	t.Run("one stranger", func(t *testing.T) {
		check(t, []loginCase{
			{name: "stranger with the right password", user: "alice", pw: "alice-pass", c: stranger, throttled: true},
			{name: "owner at another address", user: "alice", pw: "alice-pass", c: Client{IP: "198.51.100.1"}},
			{name: "owner at the stranger's address with the device cookie", user: "alice", pw: "alice-pass", c: Client{IP: stranger.IP, Device: device}},
			{name: "other account from the stranger's address", user: "bob", pw: "bob-pass1", c: stranger},
		})
	})
	t.Run("distributed guessing", func(t *testing.T) {
		// 95 more failures, 4 per address (below the pair limit of 5).
		for i := range 95 {
			c := Client{IP: fmt.Sprintf("10.0.%d.1", i/4)}
			if _, err := e.svc.Login(ctx, "alice", "guess", c); !errors.Is(err, jwtgate.ErrBadCredentials) {
				t.Fatalf("distributed guess %d = %v, want ErrBadCredentials", i+1, err)
			}
		}
		check(t, []loginCase{
			{name: "owner at a new address, no device cookie", user: "alice", pw: "alice-pass", c: Client{IP: "198.51.100.2"}, throttled: true},
			{name: "owner with the device cookie", user: "alice", pw: "alice-pass", c: Client{IP: "198.51.100.2", Device: device}},
			{name: "alice's device cookie on bob", user: "bob", pw: "bob-pass1", c: Client{IP: "198.51.100.3", Device: device}},
			{name: "a forged device cookie", user: "alice", pw: "alice-pass", c: Client{IP: "198.51.100.2", Device: device[:23] + "x" + device[24:]}, throttled: true},
		})
	})
	t.Run("a device's own budget", func(t *testing.T) {
		for range 5 {
			e.svc.Login(ctx, "bob", "guess", Client{IP: "192.0.2.20", Device: bobs.Device})
		}
		check(t, []loginCase{
			{name: "bob's locked device", user: "bob", pw: "bob-pass1", c: Client{IP: "192.0.2.20", Device: bobs.Device}, throttled: true},
			{name: "bob at the same address without it", user: "bob", pw: "bob-pass1", c: Client{IP: "192.0.2.20"}},
		})
	})
}

type loginCase struct {
	name, user, pw string
	c              Client
	throttled      bool
}

// TestSessionCap (issue 17 §5): a user's live sessions are capped; a login
// beyond the cap ends the least recently used ones, everywhere, down to nine
// tenths of the cap (at least one below it), so one eviction serves several
// logins.
func TestSessionCap(t *testing.T) {
	e := newEnv(t, Options{MaxSessionsPerUser: 3})
	ctx := context.Background()
	e.svc.CreateUser(ctx, "alice", "alice-pass", nil)
	var toks []*Tokens
	for i := range 5 {
		e.clk.Add(time.Second)
		tok, err := e.svc.Login(ctx, "alice", "alice-pass", Client{IP: fmt.Sprintf("192.0.2.%d", i+1)})
		if err != nil {
			t.Fatalf("login %d = %v", i+1, err)
		}
		toks = append(toks, tok)
	}
	live, err := e.svc.LiveSessions(ctx, toks[0].Claims.UserID)
	if err != nil || len(live) != 3 {
		t.Fatalf("LiveSessions after 5 logins with a cap of 3 = %d, %v; want 3", len(live), err)
	}
	for i, tok := range toks {
		_, err := e.svc.Verify(tok.Access)
		if evicted := i < 2; evicted != errors.Is(err, ErrRevoked) {
			t.Errorf("Verify(token of login %d) = %v, evicted %v", i+1, err, evicted)
		}
	}
	events, _ := e.svc.Audit(ctx, jwtgate.AuditFilter{Type: jwtgate.EventSessionsRevoked})
	if len(events) != 1 || events[0].Detail != "2 sessions evicted: over the cap of 3 live sessions" {
		t.Errorf("eviction audit events = %+v, want one for 2 sessions (login 4 went over 3, down to 2)", events)
	}
}
