// Package testkit holds the few helpers that tests in several packages
// share: a goroutine-safe log buffer, reading the address a server bound
// from its log, polling until a condition holds, skipping (or failing, when
// CI requires it) for missing outside programs, and the opt-in switch for
// assertions on wall-clock time.
//
// It imports only the standard library, so any test may use it.
package testkit

import (
	"bytes"
	"net"
	"os"
	"sync"
	"testing"
	"time"
)

// SyncBuffer is a bytes.Buffer that a server goroutine (or a child
// process's output copier) and the test may use at the same time.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// FreeAddr returns a loopback address whose port was free a moment ago.
//
// Another process may take the port between this call and its use, so
// start jwtgate itself on 127.0.0.1:0 and read the bound address from its
// log (ListenAddr). FreeAddr is for outside programs that cannot report the
// port they bound (nginx, caddy).
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// Eventually polls cond every 10 ms until it holds, and fails tb if it
// still does not after 30 s (a bound for a hung test, not a measurement:
// on a loaded machine a slow pass is still a pass). It returns how long the
// condition took, for tests that log it.
func Eventually(tb testing.TB, what string, cond func() bool) time.Duration {
	tb.Helper()
	start := time.Now()
	deadline := start.Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %s waiting for %s", time.Since(start).Round(time.Millisecond), what)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}

// RequireOrSkip skips a test whose outside dependency (a server or a
// program) is missing, with msg saying what is missing and how to get it;
// when the environment variable env is "1" (CI sets the JGTEST_REQUIRE_*
// variables) it fails the test instead, so CI cannot pass by skipping.
func RequireOrSkip(tb testing.TB, env, msg string) {
	tb.Helper()
	if os.Getenv(env) == "1" {
		tb.Fatalf("%s (required: %s=1)", msg, env)
	}
	tb.Skip(msg)
}

// TimingEnv is the environment variable that turns on assertions about
// wall-clock time (a median ratio, a bound on a delay). They measure the
// machine as much as the code, so a shared or loaded machine fails them
// without a bug: the default run only logs the figures.
const TimingEnv = "JGTEST_TIMING"

// Timing reports whether JGTEST_TIMING=1, i.e. whether a test should assert
// on the times it measures rather than only log them.
func Timing() bool { return os.Getenv(TimingEnv) == "1" }

// RequireTiming skips tb unless JGTEST_TIMING=1: for tests that do nothing
// but measure time.
func RequireTiming(tb testing.TB) {
	tb.Helper()
	if !Timing() {
		tb.Skipf("measures wall-clock time; run with %s=1 on a quiet machine", TimingEnv)
	}
}
