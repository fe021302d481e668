package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/internal/testkit"
)

// startServe runs `jwtgate serve` in-process on a port of its choosing with
// extra args and env, waits until it answers /healthz, and returns its base
// URL, its stderr, a cancel that starts its shutdown, and a channel closed
// when run has returned.
func startServe(t *testing.T, args, env []string) (base string, stderr *testkit.SyncBuffer, cancel context.CancelFunc, done <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &testkit.SyncBuffer{}
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		err := run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...), env,
			strings.NewReader(""), &testkit.SyncBuffer{}, stderr)
		if err != nil {
			t.Errorf("run(serve %q) = %v", args, err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-finished:
		case <-time.After(30 * time.Second):
			t.Error("serve did not stop within 30s of its context ending")
		}
	})
	listening := regexp.MustCompile(`jwtgate listening.* addr=(127\.0\.0\.1:\d+)`)
	deadline := time.Now().Add(15 * time.Second)
	for {
		if m := listening.FindStringSubmatch(stderr.String()); m != nil {
			base = "http://" + m[1]
			if resp, err := http.Get(base + "/healthz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return base, stderr, cancel, finished
				}
			}
		}
		select {
		case <-finished:
			t.Fatalf("run(serve) returned early\nstderr:\n%s", stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never answered /healthz\nstderr:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// stallingStore is a real store whose first revocation read blocks, deaf
// to its context, until released: a query in flight when shutdown begins.
type stallingStore struct {
	*sqlite.DB
	entered, release chan struct{}
	once             sync.Once
}

func (s *stallingStore) Revocations(ctx context.Context, since int64, now time.Time, limit int) ([]jwtgate.Revocation, error) {
	s.once.Do(func() {
		close(s.entered)
		<-s.release
	})
	return s.DB.Revocations(ctx, since, now, limit)
}

// TestMaintenanceStopWaits: stopping serve's background maintenance
// returns only once Maintain has returned, so serve closes the store after
// the last maintenance query, not under it.
func TestMaintenanceStopWaits(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "x.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	store := &stallingStore{DB: db, entered: make(chan struct{}), release: make(chan struct{})}
	svc, err := auth.New(ctx, store, nil, auth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stop := startMaintenance(ctx, svc, nil, 0)
	select {
	case <-store.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("maintenance never synced revocations")
	}
	stopped := make(chan struct{})
	go func() {
		stop()
		close(stopped)
	}()
	select {
	case <-stopped:
		t.Error("stop() returned while Maintain was still inside a store query")
	case <-time.After(200 * time.Millisecond):
	}
	close(store.release)
	select {
	case <-stopped:
	case <-time.After(10 * time.Second):
		t.Error("stop() did not return after Maintain's query ended")
	}
}

// TestLogFormat: --log-format (or JWTGATE_LOG_FORMAT) picks text or JSON
// lines; text is the default.
func TestLogFormat(t *testing.T) {
	tests := []struct {
		name     string
		args     []string
		env      []string
		wantJSON bool
	}{
		{name: "default", wantJSON: false},
		{name: "flag json", args: []string{"--log-format", "json"}, wantJSON: true},
		{name: "env json", env: []string{"JWTGATE_LOG_FORMAT=json"}, wantJSON: true},
		{name: "flag text beats env json", args: []string{"--log-format=text"}, env: []string{"JWTGATE_LOG_FORMAT=json"}, wantJSON: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseServe(testIO(tt.env, ""), tt.args)
			if err != nil {
				t.Fatalf("parseServe(%q) with env %q = %v", tt.args, tt.env, err)
			}
			var buf bytes.Buffer
			cfg.logFormat.logger(&buf, slog.LevelInfo).Info("request", "path", "/user", "status", 200)
			line := strings.TrimSpace(buf.String())
			var obj map[string]any
			isJSON := json.Unmarshal([]byte(line), &obj) == nil
			if isJSON != tt.wantJSON {
				t.Errorf("parseServe(%q) with env %q logs %q; JSON = %v, want %v", tt.args, tt.env, line, isJSON, tt.wantJSON)
			}
			if tt.wantJSON && (obj["msg"] != "request" || obj["path"] != "/user" || obj["status"] != float64(200)) {
				t.Errorf("JSON log line = %v, want msg, path and status fields", obj)
			}
		})
	}
}

// TestServeKeyEncryptionWarning: without JWTGATE_KEY_ENCRYPTION_KEY the
// server starts, warns in its log, and /readyz stays 200 but lists the
// warning; with the key set there is no warning.
func TestServeKeyEncryptionWarning(t *testing.T) {
	kek := "JWTGATE_KEY_ENCRYPTION_KEY=" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	tests := []struct {
		name     string
		env      []string
		wantWarn bool
	}{
		{name: "no key", env: nil, wantWarn: true},
		{name: "key set", env: []string{kek}, wantWarn: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
			env := append([]string{"JWTGATE_ADMIN_PASSWORD=admin-pw-123"}, tt.env...)
			base, stderr, _, _ := startServe(t, []string{"--db", db}, env)
			resp, err := http.Get(base + "/readyz")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Status   string `json:"status"`
				Warnings []struct{ Code, Message string }
			}
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK || body.Status != "ok" {
				t.Errorf("GET /readyz = %d %q, want 200 ok", resp.StatusCode, body.Status)
			}
			gotWarn := len(body.Warnings) == 1 && body.Warnings[0].Code == "key_encryption_key_missing"
			if gotWarn != tt.wantWarn || (!tt.wantWarn && len(body.Warnings) != 0) {
				t.Errorf("GET /readyz warnings = %+v, want key_encryption_key_missing: %v", body.Warnings, tt.wantWarn)
			}
			logged := strings.Contains(stderr.String(), "level=WARN msg=\"JWTGATE_KEY_ENCRYPTION_KEY is not set")
			if logged != tt.wantWarn {
				t.Errorf("startup log warns about the key-encryption key: %v, want %v\n%s", logged, tt.wantWarn, stderr.String())
			}
		})
	}
}

// TestMetricsNotOnMainAddress: /metrics (login and throttling counts) is
// not public: without --metrics-addr it is nowhere, like any unknown path
// (401 without a token).
func TestMetricsNotOnMainAddress(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	base, _, _, _ := startServe(t, []string{"--db", db}, []string{"JWTGATE_ADMIN_PASSWORD=admin-pw-123"})
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /metrics on the main address = %d, want 401 (not served there)", resp.StatusCode)
	}
}

// TestAccessLogFlag: the access log is off by default and --access-log (or
// JWTGATE_ACCESS_LOG) turns it on; its lines are all written by the time
// serve returns.
func TestAccessLogFlag(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     []string
		wantLog bool
	}{
		{name: "default", wantLog: false},
		{name: "flag", args: []string{"--access-log"}, wantLog: true},
		{name: "env", env: []string{"JWTGATE_ACCESS_LOG=true"}, wantLog: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
			env := append([]string{"JWTGATE_ADMIN_PASSWORD=admin-pw-123"}, tt.env...)
			base, stderr, cancel, done := startServe(t, append([]string{"--db", db}, tt.args...), env)
			resp, err := http.Get(base + "/openapi.json?token=secret")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			cancel()
			<-done
			logged := strings.Contains(stderr.String(), "msg=request") && strings.Contains(stderr.String(), "path=/openapi.json status=200")
			if logged != tt.wantLog || strings.Contains(stderr.String(), "secret") {
				t.Errorf("serve %q with env %q: access-log line for GET /openapi.json: %v, want %v (and never the query)\n%s",
					tt.args, tt.env, logged, tt.wantLog, stderr.String())
			}
		})
	}
}
