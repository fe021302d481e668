package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/passkey"
	"github.com/jwtgate/jwtgate/internal/passkey/passkeytest"
)

const (
	pkOrigin = "https://auth.example.test"
	pkRPID   = "auth.example.test"
)

// pkFixture is the real handler with passkeys for the relying party at
// pkOrigin, on the fixture's store, with the events it audits.
type pkFixture struct {
	*fixture
	h      http.Handler
	events *[]jwtgate.AuditEvent
}

func newPasskeyFixture(t *testing.T) *pkFixture {
	t.Helper()
	f := newFixture(t, Options{})
	var events []jwtgate.AuditEvent
	pk, err := passkey.New(f.store, passkey.Options{PublicURL: pkOrigin + "/",
		Audit: func(_ context.Context, e jwtgate.AuditEvent) { events = append(events, e) }})
	if err != nil {
		t.Fatal(err)
	}
	h := NewServer(Deps{Logger: slog.New(slog.DiscardHandler), Auth: f.svc, Keys: f.kr, Ready: f.store.Ping, Passkeys: pk},
		Options{Issuer: pkOrigin})
	return &pkFixture{fixture: f, h: h, events: &events}
}

func (p *pkFixture) call(method, path, tok, body string) result {
	return serve(p.h, bearer(method, path, tok, body))
}

// begin runs a begin step and returns the ceremony and the options.
func (p *pkFixture) begin(t *testing.T, path, tok string) (string, []byte) {
	t.Helper()
	r := p.call("POST", path, tok, "")
	if r.code != http.StatusOK {
		t.Fatalf("POST %s = %d %s, want 200", path, r.code, r.body)
	}
	var c struct {
		Ceremony string          `json:"ceremony"`
		Options  json.RawMessage `json:"options"`
	}
	if err := json.Unmarshal(r.body, &c); err != nil || c.Ceremony == "" || len(c.Options) == 0 {
		t.Fatalf("POST %s: %s: %v", path, r.body, err)
	}
	return c.Ceremony, c.Options
}

func answer(ceremony string, credential []byte, name string) string {
	m := map[string]any{"ceremony": ceremony, "credential": json.RawMessage(credential)}
	if name != "" {
		m["name"] = name
	}
	b, _ := json.Marshal(m)
	return string(b)
}

// register adds a passkey from a for the token's user through the API.
func (p *pkFixture) register(t *testing.T, tok string, a *passkeytest.Authenticator, name string) map[string]any {
	t.Helper()
	id, opts := p.begin(t, "/user/passkeys/begin", tok)
	r := p.call("POST", "/user/passkeys", tok, answer(id, a.Create(opts, pkOrigin, pkRPID), name))
	if r.code != http.StatusCreated {
		t.Fatalf("POST /user/passkeys = %d %s, want 201", r.code, r.body)
	}
	return r.json(t)
}

func (p *pkFixture) list(t *testing.T, tok string) string {
	t.Helper()
	r := p.call("GET", "/user/passkeys", tok, "")
	if r.code != http.StatusOK {
		t.Fatalf("GET /user/passkeys = %d %s", r.code, r.body)
	}
	var out struct {
		Passkeys []passkeyJSON `json:"passkeys"`
	}
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range out.Passkeys {
		names = append(names, fmt.Sprintf("%s:%s:synced=%v", k.ID, k.Name, k.Synced))
	}
	return strings.Join(names, ",")
}

func TestPasskeyManagement(t *testing.T) {
	p := newPasskeyFixture(t)
	alice := p.login(t, "alice", "alice-pass")
	admin := p.login(t, "admin", "admin-pass")
	if got := p.list(t, alice); got != "" {
		t.Fatalf("passkeys before any = %q, want none", got)
	}

	a := passkeytest.New(t)
	a.Backup = true
	k := p.register(t, alice, a, "Laptop")
	id := k["id"].(string)
	if k["name"] != "Laptop" || k["synced"] != true || k["last_used_at"] != nil {
		t.Errorf("registered passkey = %v, want Laptop, synced, never used", k)
	}
	second := p.register(t, alice, passkeytest.New(t), "")
	if second["name"] != defaultPasskeyName {
		t.Errorf("a passkey registered without a name is called %v, want %q", second["name"], defaultPasskeyName)
	}
	want := id + ":Laptop:synced=true," + second["id"].(string) + ":Passkey:synced=false"
	if got := p.list(t, alice); got != want {
		t.Errorf("alice's passkeys = %q, want %q", got, want)
	}

	tests := []struct {
		name, method, path, tok, body string
		want                          int
		code                          string
	}{
		{"rename", "PATCH", "/user/passkeys/" + id, alice, `{"name":"Work laptop"}`, 204, ""},
		{"rename without a name", "PATCH", "/user/passkeys/" + id, alice, `{}`, 400, "invalid_request"},
		{"rename to a control character", "PATCH", "/user/passkeys/" + id, alice, `{"name":"a\u0007b"}`, 400, "invalid_request"},
		{"rename to 65 characters", "PATCH", "/user/passkeys/" + id, alice, `{"name":"` + strings.Repeat("é", 65) + `"}`, 400, "invalid_request"},
		{"rename with a bad id", "PATCH", "/user/passkeys/not*base64", alice, `{"name":"x"}`, 400, "invalid_request"},
		{"rename another user's", "PATCH", "/user/passkeys/" + id, admin, `{"name":"mine"}`, 404, "not_found"},
		{"delete another user's", "DELETE", "/user/passkeys/" + id, admin, "", 404, "not_found"},
		{"delete an unknown one", "DELETE", "/user/passkeys/AAAA", alice, "", 404, "not_found"},
		{"list without a token", "GET", "/user/passkeys", "", "", 401, ""},
		{"begin without a token", "POST", "/user/passkeys/begin", "", "", 401, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := p.call(tt.method, tt.path, tt.tok, tt.body)
			if r.code != tt.want {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.code, r.body, tt.want)
			}
			if tt.code != "" {
				if got := r.json(t)["error"]; got != tt.code {
					t.Errorf("error = %v, want %s", got, tt.code)
				}
			}
		})
	}
	want = id + ":Work laptop:synced=true," + second["id"].(string) + ":Passkey:synced=false"
	if got := p.list(t, alice); got != want {
		t.Errorf("after the renames: %q, want %q", got, want)
	}

	if r := p.call("DELETE", "/user/passkeys/"+id, alice, ""); r.code != http.StatusNoContent {
		t.Fatalf("DELETE own passkey = %d %s", r.code, r.body)
	}
	if got := p.list(t, alice); got != second["id"].(string)+":Passkey:synced=false" {
		t.Errorf("after deleting one: %q", got)
	}
	var types []string
	for _, e := range *p.events {
		types = append(types, e.Type)
	}
	if got := strings.Join(types, ","); got != "mfa.passkey_added,mfa.passkey_added,mfa.passkey_removed" {
		t.Errorf("audit events = %s", got)
	}
}

// TestPasskeyRegistrationBadInput: every malformed or forged answer is a
// clear 400 (409 for a duplicate), and nothing is stored.
func TestPasskeyRegistrationBadInput(t *testing.T) {
	p := newPasskeyFixture(t)
	alice := p.login(t, "alice", "alice-pass")
	admin := p.login(t, "admin", "admin-pass")
	known := passkeytest.New(t)
	p.register(t, alice, known, "Known")
	before := p.list(t, alice)

	tests := []struct {
		name string
		body func(ceremony string, opts []byte) string
		code string
		want int
	}{
		{"not JSON", func(string, []byte) string { return `{"ceremony":` }, "invalid_request", 400},
		{"no credential", func(c string, _ []byte) string { return `{"ceremony":"` + c + `"}` }, "invalid_request", 400},
		{"null credential", func(c string, _ []byte) string { return `{"ceremony":"` + c + `","credential":null}` }, "invalid_request", 400},
		{"credential not an object", func(c string, _ []byte) string { return `{"ceremony":"` + c + `","credential":"x"}` }, "invalid_request", 400},
		{"garbage credential JSON", func(c string, _ []byte) string {
			return answer(c, []byte(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"%%%","attestationObject":"AAAA"}}`), "")
		}, "invalid_request", 400},
		{"garbage CBOR", func(c string, _ []byte) string {
			return answer(c, []byte(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"v_8A"}}`), "")
		}, "invalid_request", 400},
		{"unknown ceremony", func(_ string, opts []byte) string {
			return answer("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", passkeytest.New(t).Create(opts, pkOrigin, pkRPID), "")
		}, "invalid_ceremony", 400},
		{"another origin", func(c string, opts []byte) string {
			return answer(c, passkeytest.New(t).Create(opts, "https://evil.example.test", pkRPID), "")
		}, "passkey_refused", 400},
		{"another RP ID", func(c string, opts []byte) string {
			return answer(c, passkeytest.New(t).Create(opts, pkOrigin, "evil.example.test"), "")
		}, "passkey_refused", 400},
		{"bad name", func(c string, opts []byte) string {
			return answer(c, passkeytest.New(t).Create(opts, pkOrigin, pkRPID), "a\nb")
		}, "invalid_request", 400},
		{"registered already", func(c string, opts []byte) string {
			return answer(c, known.Create(opts, pkOrigin, pkRPID), "")
		}, "passkey_exists", 409},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, opts := p.begin(t, "/user/passkeys/begin", alice)
			r := p.call("POST", "/user/passkeys", alice, tt.body(c, opts))
			if r.code != tt.want || r.json(t)["error"] != tt.code {
				t.Fatalf("POST /user/passkeys = %d %s, want %d %s", r.code, r.body, tt.want, tt.code)
			}
			if got := p.list(t, alice); got != before {
				t.Errorf("passkeys after a refused registration = %q, want %q", got, before)
			}
		})
	}

	t.Run("another user's ceremony", func(t *testing.T) {
		c, opts := p.begin(t, "/user/passkeys/begin", alice)
		r := p.call("POST", "/user/passkeys", admin, answer(c, passkeytest.New(t).Create(opts, pkOrigin, pkRPID), ""))
		if r.code != 400 || r.json(t)["error"] != "invalid_ceremony" {
			t.Fatalf("admin finishing alice's ceremony = %d %s, want 400 invalid_ceremony", r.code, r.body)
		}
		if got := p.list(t, admin); got != "" {
			t.Errorf("admin's passkeys = %q, want none", got)
		}
	})
	t.Run("a ceremony answers once", func(t *testing.T) {
		c, opts := p.begin(t, "/user/passkeys/begin", alice)
		a := passkeytest.New(t)
		body := answer(c, a.Create(opts, pkOrigin, pkRPID), "Once")
		if r := p.call("POST", "/user/passkeys", alice, body); r.code != 201 {
			t.Fatalf("first answer = %d %s", r.code, r.body)
		}
		if r := p.call("POST", "/user/passkeys", alice, body); r.code != 400 || r.json(t)["error"] != "invalid_ceremony" {
			t.Fatalf("replayed answer = %d %s, want 400 invalid_ceremony", r.code, r.body)
		}
	})
}

// TestPasskeyRoutesWithoutPasskeys: a server whose issuer WebAuthn cannot
// use (an IP address) runs without passkeys and says so with 404.
func TestPasskeyRoutesWithoutPasskeys(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.login(t, "alice", "alice-pass")
	for _, route := range []string{"GET /user/passkeys", "POST /user/passkeys/begin", "POST /login/passkey/begin"} {
		method, path, _ := strings.Cut(route, " ")
		r := f.do(bearer(method, path, tok, ""))
		if r.code != http.StatusNotFound || r.json(t)["error"] != "not_found" {
			t.Errorf("%s without passkeys = %d %s, want 404 not_found", route, r.code, r.body)
		}
	}
}
