// Package e2e holds tests that build the real jwtgate binary, start it on a
// loopback port of the kernel's choosing and talk to it over HTTP (and, in browser_test.go,
// through a headless Chromium).
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/testkit"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds ./cmd/jwtgate once per test run (CGO off, as shipped) and
// returns its path.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "jwtgate-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "jwtgate")
		cmd := exec.Command("go", "build", "-o", binPath, "../cmd/jwtgate")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// Server is a running jwtgate process.
type Server struct {
	URL    string // http://127.0.0.1:PORT (https:// with --tls-cert)
	Addr   string // 127.0.0.1:PORT, the address it bound
	Dir    string // its working directory (holds jwtgate.db)
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	mu     sync.Mutex
	done   chan struct{} // closed when the process has exited
	err    error         // its exit error, once done
}

// Stderr returns what the process has written to stderr so far.
func (s *Server) Stderr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stderr.String()
}

// ListenAddr returns the address of the process's log line msg ("metrics
// listening" for --metrics-addr HOST:0), waiting for it to be logged.
func (s *Server) ListenAddr(t *testing.T, msg string) string {
	t.Helper()
	return testkit.WaitListenAddr(t, s.Stderr, msg, s.done)
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// freeAddr returns a loopback address with a port that was free a moment
// ago. Another process may take it before it is used: start jwtgate on
// 127.0.0.1:0 instead (StartServer, Launch) and keep this for programs
// that cannot tell which port they bound (nginx).
func freeAddr(t *testing.T) string {
	t.Helper()
	return testkit.FreeAddr(t)
}

// StartServer runs `jwtgate serve` in dir (a new temp dir when empty) with
// --addr 127.0.0.1:0, the given extra args and env (KEY=VALUE), and waits
// until /healthz answers 200. The process is stopped when the test ends.
func StartServer(t *testing.T, dir string, args []string, env ...string) *Server {
	t.Helper()
	s := Launch(t, dir, args, env...)
	client := &http.Client{Timeout: 10 * time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := client.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return s
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not become healthy: %v\nstderr:\n%s", err, s.Stderr())
		}
		select {
		case <-s.done:
			t.Fatalf("server exited early (%v)\nstderr:\n%s", s.err, s.Stderr())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Launch runs `jwtgate serve --addr 127.0.0.1:0` like StartServer and
// returns once the process logs the address it bound ("jwtgate listening"),
// without asking /healthz: for servers a plain HTTP client cannot reach
// (TLS) and for tests that time the start. The port is the kernel's choice,
// so no other process can take it first. The process is stopped when the
// test ends.
func Launch(t *testing.T, dir string, args []string, env ...string) *Server {
	t.Helper()
	bin := binary(t)
	if dir == "" {
		dir = t.TempDir()
	}
	s := &Server{Dir: dir, stderr: new(bytes.Buffer)}
	full := append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)
	s.cmd = exec.Command(bin, full...)
	s.cmd.Dir = dir
	s.cmd.Env = append(cleanEnv(), env...)
	s.cmd.Stdout = io.Discard
	s.cmd.Stderr = lockedWriter{&s.mu, s.stderr}
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.done = make(chan struct{})
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() { s.Stop(t) })
	s.Addr = s.ListenAddr(t, "jwtgate listening")
	scheme := "http://"
	if slices.Contains(args, "--tls-cert") || slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--tls-cert=") }) {
		scheme = "https://"
	}
	s.URL = scheme + s.Addr
	return s
}

// Stop sends SIGTERM and waits for a graceful exit. The server gives its
// requests 10 s to finish; after 30 s (a hung process, not a slow machine)
// Stop kills it and fails the test.
func (s *Server) Stop(t *testing.T) {
	select {
	case <-s.done:
		return // already gone (killed, or exited early and reported)
	default:
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		if s.err != nil {
			t.Errorf("server exit after SIGTERM: %v\nstderr:\n%s", s.err, s.Stderr())
		}
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
		t.Errorf("server did not stop within 30 s of SIGTERM\nstderr:\n%s", s.Stderr())
	}
}

// cleanEnv is the test's environment without JWTGATE_* and jwt_secret, so a
// developer's own settings cannot leak into a test.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "JWTGATE_") || strings.HasPrefix(kv, "jwt_secret=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// Run runs the jwtgate binary with args in dir, feeding stdin, and returns
// stdout, stderr and the exit code.
func Run(t *testing.T, dir, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Dir = dir
	cmd.Env = cleanEnv()
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return o.String(), e.String(), code
}

// Login posts the tutorial's login body and returns the decoded JSON reply
// and the status code.
func Login(t *testing.T, base, name, password string) (map[string]any, int) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"name": name, "password": password})
	resp, err := http.Post(base+"/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return out, resp.StatusCode
}
