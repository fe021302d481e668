package throttle_test

import (
	"context"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/internal/throttle"
	"github.com/jwtgate/jwtgate/internal/throttle/throttletest"
)

// A login handler checks the account (as tried from this address) and the
// client address before it hashes anything, and records a failure against
// both.
func Example() {
	ctx := context.Background()
	clock := throttletest.NewClock(throttletest.T0)
	accounts := throttle.NewMemory(throttle.DefaultPairPolicy, clock.Now)
	addrs := throttle.NewMemory(throttle.DefaultIPPolicy, clock.Now)
	ip := throttle.IPKey(netip.MustParseAddr("203.0.113.7"))
	user := "pair:" + ip + "|user:alice"

	login := func(passwordOK bool) string {
		w1, _ := accounts.Check(ctx, user)
		w2, _ := addrs.Check(ctx, ip)
		if wait := max(w1, w2); wait > 0 {
			return fmt.Sprintf("429 Retry-After: %.0f", math.Ceil(wait.Seconds()))
		}
		if passwordOK {
			accounts.Reset(ctx, user)
			return "200"
		}
		accounts.Fail(context.WithoutCancel(ctx), user)
		addrs.Fail(context.WithoutCancel(ctx), ip)
		return "400"
	}
	var got []string
	for range 5 {
		got = append(got, login(false))
	}
	fmt.Println(strings.Join(got, " "))
	fmt.Println(login(true))
	clock.Advance(time.Minute)
	fmt.Println(login(true))
	// Output:
	// 400 400 400 400 400
	// 429 Retry-After: 60
	// 200
}
