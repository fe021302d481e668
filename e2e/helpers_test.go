package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// reply is an HTTP response read in full.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// jsonBody decodes the body as a JSON object (nil if it is not one).
func (r reply) jsonBody() map[string]any {
	var m map[string]any
	_ = json.Unmarshal(r.body, &m)
	return m
}

// send makes one request on a fresh connection and reads the whole reply.
// headers are name, value pairs.
func send(t *testing.T, method, url string, body []byte, headers ...string) reply {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	// A fresh transport per request: the hostile requests make the server
	// close connections, which must not spill into the next request. Not
	// DisableKeepAlives: that sends "Connection: close", which changes how
	// the server ends a connection it did not read to the end (see
	// TestOversizedBodyWithConnectionClose).
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Timeout: 15 * time.Second, Transport: tr}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, body: b}
}

// loginJSON is the tutorial's login body.
func loginJSON(name, password string) []byte {
	b, _ := json.Marshal(map[string]string{"name": name, "password": password})
	return b
}

// loginToken logs in and returns the access token, failing the test unless
// the login succeeds.
func loginToken(t *testing.T, base, name, password string) string {
	t.Helper()
	out, code := Login(t, base, name, password)
	tok, _ := out["token"].(string)
	if code != http.StatusOK || tok == "" {
		t.Fatalf("Login(%s, %s) = %d %v, want 200 with a token", name, password, code, out)
	}
	return tok
}

// userName does GET /user with a bearer token and returns the status and
// the "name" field.
func userName(t *testing.T, base, tok string) (int, string) {
	t.Helper()
	r := send(t, "GET", base+"/user", nil, "Authorization", "Bearer "+tok)
	name, _ := r.jsonBody()["name"].(string)
	return r.status, name
}

// runEnv is Run with extra environment variables (KEY=VALUE).
func runEnv(t *testing.T, dir string, env []string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Dir = dir
	cmd.Env = append(cleanEnv(), env...)
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

// listedUser is one entry of `jwtgate user list --json`.
type listedUser struct {
	ID       int64    `json:"id"`
	Name     string   `json:"name"`
	Roles    []string `json:"roles"`
	Disabled bool     `json:"disabled"`
}

// userList runs `jwtgate user list --json` on the database in dir and
// returns its raw output and the decoded users.
func userList(t *testing.T, dir string) (string, []listedUser) {
	t.Helper()
	out, errOut, code := Run(t, dir, "", "user", "list", "--json")
	if code != 0 {
		t.Fatalf("jwtgate user list --json exited %d: %s", code, errOut)
	}
	var users []listedUser
	if err := json.Unmarshal([]byte(out), &users); err != nil {
		t.Fatalf("jwtgate user list --json printed %q: %v", out, err)
	}
	return out, users
}

// jwtPart decodes part i (0 header, 1 claims) of a compact JWT without
// checking anything.
func jwtPart(t *testing.T, tok string, i int) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts, want 3", tok, len(parts))
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[i])
	if err != nil {
		t.Fatalf("token part %d: %v", i, err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("token part %d: %v", i, err)
	}
	return m
}

// pythonWithPyJWT returns a python3 that can import jwt (PyJWT), or "":
// JGTEST_PYTHON when set, else python3 on PATH, else /usr/bin/python3
// (the one on PATH may be a separate install without Debian's python3-jwt).
func pythonWithPyJWT() string {
	candidates := []string{"python3", "/usr/bin/python3"}
	if py := os.Getenv("JGTEST_PYTHON"); py != "" {
		candidates = []string{py}
	}
	for _, py := range candidates {
		path, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		if exec.Command(path, "-c", "import jwt").Run() == nil {
			return path
		}
	}
	return ""
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
