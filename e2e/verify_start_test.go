package e2e

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/verify"
)

// startServerOn is StartServer on a given address: for tests where
// something must know the server's URL before it runs.
func startServerOn(t *testing.T, addr string, args ...string) *Server {
	t.Helper()
	s := &Server{URL: "http://" + addr, Dir: t.TempDir(), stderr: new(bytes.Buffer)}
	s.cmd = exec.Command(binary(t), append([]string{"serve", "--addr", addr}, args...)...)
	s.cmd.Dir = s.Dir
	s.cmd.Env = cleanEnv()
	s.cmd.Stdout = io.Discard
	s.cmd.Stderr = lockedWriter{&s.mu, s.stderr}
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.done = make(chan struct{})
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() { s.Stop(t) })
	return s
}

// TestVerifyStartsBeforeJwtgate is issue 12 §3 with the real binary: a
// service using verify starts while jwtgate is down, answers 503 to
// requests with a token (401 without), and accepts tokens once jwtgate is
// up, without a restart.
func TestVerifyStartsBeforeJwtgate(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	issuer := "http://" + addr
	ctx := context.Background()
	v, err := verify.New(ctx, issuer, verify.WithDiscoveryRetry(50*time.Millisecond, 200*time.Millisecond))
	if err != nil {
		t.Fatalf("verify.New(%s) with jwtgate down = %v, want a Verifier", issuer, err)
	}
	defer v.Close()
	svc := httptest.NewServer(v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verify.ClaimsFrom(r.Context())
		_, _ = w.Write([]byte(c.Name))
	})))
	defer svc.Close()

	if r := send(t, "GET", svc.URL, nil, "Authorization", "Bearer a.b.c"); r.status != http.StatusServiceUnavailable {
		t.Errorf("service with a token, jwtgate down = %d, want 503", r.status)
	}
	if r := send(t, "GET", svc.URL, nil); r.status != http.StatusUnauthorized {
		t.Errorf("service without a token, jwtgate down = %d, want 401", r.status)
	}

	s := startServerOn(t, addr, "--demo")
	waitCtx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := v.Wait(waitCtx); err != nil {
		t.Fatalf("verify never saw jwtgate come up: %v\nstderr:\n%s", err, s.Stderr())
	}
	tok := loginToken(t, s.URL, "admin", "1234")
	if r := send(t, "GET", svc.URL, nil, "Authorization", "Bearer "+tok); r.status != 200 || string(r.body) != "admin" {
		t.Errorf("service once jwtgate is up = %d %q, want 200 admin", r.status, r.body)
	}
	if r := send(t, "GET", svc.URL, nil, "Authorization", "Bearer "+tok[:len(tok)-3]+"AAA"); r.status != http.StatusUnauthorized {
		t.Errorf("service with a forged token once jwtgate is up = %d, want 401", r.status)
	}
	if err := v.Ready(); errors.Is(err, verify.ErrUnavailable) {
		t.Errorf("Ready() = %v", err)
	}
}
