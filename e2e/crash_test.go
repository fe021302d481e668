package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/internal/testkit"
	"github.com/jwtgate/jwtgate/token"
)

// Kill stops the server with SIGKILL, as a crash or an OOM kill would, and
// waits for it to be gone.
func (s *Server) Kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-s.done
}

// post sends a JSON request with an optional bearer token, without failing
// the test on transport errors (the server is killed mid-request).
func post(ctx context.Context, client *http.Client, method, url, tok string, body any) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	var m map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&m); err != nil && resp.StatusCode != http.StatusNoContent {
		return 0, nil, fmt.Errorf("read reply: %w", err)
	}
	return resp.StatusCode, m, nil
}

// TestCrashLosesNothingAcknowledged kills the real binary with SIGKILL in
// the middle of a burst of logins, refreshes, user creations and a key
// rotation, restarts it on the same database, and checks that everything
// the server acknowledged is there and the file passes an integrity check.
func TestCrashLosesNothingAcknowledged(t *testing.T) {
	dir := t.TempDir()
	// The issuer is pinned: the restarted server listens on another port.
	args := []string{"--demo", "--issuer", "http://jwtgate.test"}
	s := StartServer(t, dir, args)
	admin := loginToken(t, s.URL, "admin", "1234")

	var (
		mu       sync.Mutex
		users    []string           // acknowledged creations
		sessions []string           // acknowledged logins (session ids)
		chains   = map[int]string{} // worker → last acknowledged refresh token
		rotated  string             // acknowledged new kid
	)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	client := &http.Client{Timeout: 10 * time.Second}
	var wg sync.WaitGroup
	for w := range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ctx.Err() == nil; n++ {
				if w%2 == 0 { // create users
					name := fmt.Sprintf("crash-%d-%d", w, n)
					code, _, err := post(ctx, client, "POST", s.URL+"/admin/users", admin, map[string]any{"name": name, "password": "crash-password"})
					if err == nil && code == http.StatusCreated {
						mu.Lock()
						users = append(users, name)
						mu.Unlock()
					}
					continue
				}
				// log in, then refresh a few times
				code, m, err := post(ctx, client, "POST", s.URL+"/login", "", map[string]string{"name": "admin", "password": "1234"})
				if err != nil || code != http.StatusOK {
					continue
				}
				var claims struct {
					SID string `json:"sid"`
				}
				json.Unmarshal(jwtPayload(m["token"].(string)), &claims)
				mu.Lock()
				sessions = append(sessions, claims.SID)
				chains[w*1000+n] = m["refresh_token"].(string)
				mu.Unlock()
				rt := m["refresh_token"].(string)
				for range 5 {
					code, m, err := post(ctx, client, "POST", s.URL+"/token/refresh", "", map[string]string{"refresh_token": rt})
					if err != nil || code != http.StatusOK {
						break
					}
					rt = m["refresh_token"].(string)
					mu.Lock()
					chains[w*1000+n] = rt
					mu.Unlock()
				}
			}
		}()
	}
	// Run until enough writes are acknowledged, not for a fixed time: on a
	// busy machine a fixed window may see almost none. The rotation lands
	// halfway, and the kill while the workers are still writing.
	const wantUsers, wantSessions = 10, 6
	acknowledged := func(nUsers, nSessions int) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(users) >= nUsers && len(sessions) >= nSessions
		}
	}
	testkit.Eventually(t, fmt.Sprintf("the burst to acknowledge %d users and %d logins", wantUsers/2, wantSessions/2), acknowledged(wantUsers/2, wantSessions/2))
	code, m, err := post(ctx, client, "POST", s.URL+"/admin/keys/rotate", admin, nil)
	if err != nil || code != http.StatusCreated {
		t.Fatalf("POST /admin/keys/rotate during the burst = %d %v, want 201", code, err)
	}
	rotated = m["kid"].(string)
	testkit.Eventually(t, fmt.Sprintf("the burst to acknowledge %d users and %d logins", wantUsers, wantSessions), acknowledged(wantUsers, wantSessions))
	s.Kill(t)
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	t.Logf("acknowledged before SIGKILL: %d users, %d logins, %d refresh chains, 1 key rotation", len(users), len(sessions), len(chains))

	// The file is sound before anything else touches it.
	db, err := sqlite.Open(context.Background(), filepath.Join(dir, "jwtgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := db.IntegrityCheck(context.Background()); err != nil {
		t.Errorf("after SIGKILL: %v", err)
	}
	db.Close()

	s2 := StartServer(t, dir, args)
	admin2 := loginToken(t, s2.URL, "admin", "1234")
	code, m, err = post(context.Background(), client, "GET", s2.URL+"/admin/users?limit=1000", admin2, nil)
	if err != nil || code != 200 {
		t.Fatalf("list users after restart: %d %v", code, err)
	}
	have := map[string]bool{}
	for _, u := range m["users"].([]any) {
		have[u.(map[string]any)["name"].(string)] = true
	}
	for _, name := range users {
		if !have[name] {
			t.Errorf("acknowledged user %s lost", name)
		}
	}
	code, m, err = post(context.Background(), client, "GET", s2.URL+"/user/sessions", admin2, nil)
	if err != nil || code != 200 {
		t.Fatalf("list sessions after restart: %d %v", code, err)
	}
	var live []string
	for _, sess := range m["sessions"].([]any) {
		live = append(live, sess.(map[string]any)["id"].(string))
	}
	for _, sid := range sessions {
		if !slices.Contains(live, sid) {
			t.Errorf("acknowledged session %s lost", sid)
		}
	}
	// Every chain's last acknowledged refresh token still refreshes (a token
	// whose next refresh was committed but never answered falls in the
	// grace window and yields that same successor).
	for w, rt := range chains {
		if code, _, err := post(context.Background(), client, "POST", s2.URL+"/token/refresh", "", map[string]string{"refresh_token": rt}); err != nil || code != 200 {
			t.Errorf("chain %d: last acknowledged refresh token = %d %v, want 200", w, code, err)
		}
	}
	r := send(t, "GET", s2.URL+"/.well-known/jwks.json", nil)
	keys, err := token.ParseJWKS(r.body)
	if err != nil || !slices.ContainsFunc(keys, func(k *token.Key) bool { return k.ID == rotated }) {
		t.Errorf("rotated key %s missing from the JWKS after restart: %v %s", rotated, err, r.body)
	}
}

// jwtPayload returns the decoded claims segment of a JWT (nil if malformed).
func jwtPayload(tok string) []byte {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil
	}
	b, _ := base64.RawURLEncoding.DecodeString(parts[1])
	return b
}
