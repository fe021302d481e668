package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
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

// mfaLogin logs name in with the password and then the passkey of a as
// the second factor, through the API, and returns the access token.
func (p *pkFixture) mfaLogin(t *testing.T, name, pw string, a *passkeytest.Authenticator) string {
	t.Helper()
	mfaToken := p.mfaRequired(t, name, pw)
	c, opts := p.beginMFA(t, mfaToken)
	r := p.call("POST", "/login/mfa/passkey", "", mfaAnswer(mfaToken, c, a.Get(opts, pkOrigin, pkRPID, true)))
	if r.code != http.StatusOK {
		t.Fatalf("POST /login/mfa/passkey = %d %s, want 200", r.code, r.body)
	}
	return r.json(t)["token"].(string)
}

// mfaRequired posts name's password and returns the mfa_token of the
// 401 mfa_required answer.
func (p *pkFixture) mfaRequired(t *testing.T, name, pw string) string {
	t.Helper()
	r := p.call("POST", "/login", "", `{"name":"`+name+`","password":"`+pw+`"}`)
	m := r.json(t)
	if r.code != http.StatusUnauthorized || m["error"] != "mfa_required" || !slices.Contains(asStrings(m["methods"]), "webauthn") {
		t.Fatalf("POST /login %s = %d %s, want 401 mfa_required with method webauthn", name, r.code, r.body)
	}
	return m["mfa_token"].(string)
}

func asStrings(v any) []string {
	var out []string
	for _, x := range asSlice(v) {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func (p *pkFixture) beginMFA(t *testing.T, mfaToken string) (string, []byte) {
	t.Helper()
	r := p.call("POST", "/login/mfa/passkey/begin", "", `{"mfa_token":"`+mfaToken+`"}`)
	if r.code != http.StatusOK {
		t.Fatalf("POST /login/mfa/passkey/begin = %d %s, want 200", r.code, r.body)
	}
	var c struct {
		Ceremony string          `json:"ceremony"`
		Options  json.RawMessage `json:"options"`
	}
	if err := json.Unmarshal(r.body, &c); err != nil {
		t.Fatal(err)
	}
	return c.Ceremony, c.Options
}

func mfaAnswer(mfaToken, ceremony string, credential []byte) string {
	b, _ := json.Marshal(map[string]any{"mfa_token": mfaToken, "ceremony": ceremony, "credential": json.RawMessage(credential)})
	return string(b)
}

// amr returns the amr claim of an access token the fixture's service issued.
func (p *pkFixture) amr(t *testing.T, tok string) string {
	t.Helper()
	c, err := p.svc.Verify(tok)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	return strings.Join(c.AMR, " ")
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
	// A second factor is a step-up change once the user has one: the
	// password-only token of before is not enough, a fresh login with the
	// passkey is.
	if r := p.call("POST", "/user/passkeys/begin", alice, ""); r.code != http.StatusForbidden || r.json(t)["error"] != "step_up_required" {
		t.Fatalf("adding a second passkey with a password-only token = %d %s, want 403 step_up_required", r.code, r.body)
	}
	alice = p.mfaLogin(t, "alice", "alice-pass", a)
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
	alice = p.mfaLogin(t, "alice", "alice-pass", known) // fresh: adding more needs no code
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

// TestPasskeySignIn: a passkey alone signs in (with user verification),
// and serves as the second factor after the password; forged, replayed or
// another user's answers are refused with a clear 400 and start no
// session.
func TestPasskeySignIn(t *testing.T) {
	p := newPasskeyFixture(t)
	a := passkeytest.New(t)
	a.Backup = true
	p.register(t, p.login(t, "alice", "alice-pass"), a, "Phone")
	bobKey := passkeytest.New(t) // admin's
	p.register(t, p.login(t, "admin", "admin-pass"), bobKey, "Key")

	passwordless := func(t *testing.T, answer func(opts []byte) []byte) result {
		t.Helper()
		c, opts := p.begin(t, "/login/passkey/begin", "")
		return p.call("POST", "/login/passkey", "", answer2(c, answer(opts)))
	}

	t.Run("passwordless", func(t *testing.T) {
		r := passwordless(t, func(opts []byte) []byte { return a.Get(opts, pkOrigin, pkRPID, true) })
		if r.code != http.StatusOK {
			t.Fatalf("POST /login/passkey = %d %s, want 200", r.code, r.body)
		}
		m := r.json(t)
		if got := p.amr(t, m["token"].(string)); got != "swk user mfa" {
			t.Errorf("amr = %q, want swk user mfa", got)
		}
		if m["refresh_token"] == "" || len(r.resp.Cookies()) == 0 {
			t.Errorf("POST /login/passkey answered %v and cookies %v, want the same as POST /login", m, r.resp.Cookies())
		}
	})
	refused := []struct {
		name   string
		answer func(opts []byte) []byte
		code   string
	}{
		{"without user verification", func(opts []byte) []byte { return a.Get(opts, pkOrigin, pkRPID, false) }, "passkey_refused"},
		{"for another origin", func(opts []byte) []byte { return a.Get(opts, "https://evil.example.test", pkRPID, true) }, "passkey_refused"},
		{"for another RP ID", func(opts []byte) []byte { return a.Get(opts, pkOrigin, "evil.example.test", true) }, "passkey_refused"},
		{"for a parent domain", func(opts []byte) []byte { return a.Get(opts, pkOrigin, "example.test", true) }, "passkey_refused"},
		{"of an unknown credential", func(opts []byte) []byte {
			stranger := passkeytest.New(t) // never registered, claiming alice
			stranger.UserHandle = a.UserHandle
			return stranger.Get(opts, pkOrigin, pkRPID, true)
		}, "passkey_refused"},
		{"with an old counter", func(opts []byte) []byte {
			// The server stored 1 after the sign-in above; this answer
			// carries 1 again, as a clone of the authenticator would.
			saved := a.Counter
			a.Counter = 0
			defer func() { a.Counter = saved }()
			return a.Get(opts, pkOrigin, pkRPID, true)
		}, "passkey_refused"},
		{"garbage", func([]byte) []byte {
			return []byte(`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"","signature":""}}`)
		}, "invalid_request"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			before := p.counts(t)
			r := passwordless(t, tt.answer)
			if r.code != http.StatusBadRequest || r.json(t)["error"] != tt.code {
				t.Fatalf("POST /login/passkey %s = %d %s, want 400 %s", tt.name, r.code, r.body, tt.code)
			}
			if after := p.counts(t); after != before {
				t.Errorf("a refused sign-in changed the store: %s, then %s", before, after)
			}
		})
	}
	t.Run("unknown ceremony", func(t *testing.T) {
		_, opts := p.begin(t, "/login/passkey/begin", "")
		r := p.call("POST", "/login/passkey", "", answer2("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", a.Get(opts, pkOrigin, pkRPID, true)))
		if r.code != http.StatusBadRequest || r.json(t)["error"] != "invalid_ceremony" {
			t.Fatalf("= %d %s, want 400 invalid_ceremony", r.code, r.body)
		}
	})
	t.Run("a second-factor ceremony is not a passwordless one", func(t *testing.T) {
		c, opts := p.beginMFA(t, p.mfaRequired(t, "alice", "alice-pass"))
		r := p.call("POST", "/login/passkey", "", answer2(c, a.Get(opts, pkOrigin, pkRPID, true)))
		if r.code != http.StatusBadRequest || r.json(t)["error"] != "invalid_ceremony" {
			t.Fatalf("= %d %s, want 400 invalid_ceremony", r.code, r.body)
		}
	})

	t.Run("second factor", func(t *testing.T) {
		tok := p.mfaLogin(t, "alice", "alice-pass", a)
		if got := p.amr(t, tok); got != "pwd swk user mfa" {
			t.Errorf("amr = %q, want pwd swk user mfa", got)
		}
	})
	t.Run("second factor: another user's passkey, then the right one", func(t *testing.T) {
		mfaToken := p.mfaRequired(t, "alice", "alice-pass")
		c, opts := p.beginMFA(t, mfaToken)
		r := p.call("POST", "/login/mfa/passkey", "", mfaAnswer(mfaToken, c, bobKey.Get(opts, pkOrigin, pkRPID, true)))
		if r.code != http.StatusBadRequest || r.json(t)["error"] != "passkey_refused" {
			t.Fatalf("admin's passkey for alice = %d %s, want 400 passkey_refused", r.code, r.body)
		}
		// The refused answer spent its ceremony, not the mfa_token.
		c, opts = p.beginMFA(t, mfaToken)
		r = p.call("POST", "/login/mfa/passkey", "", mfaAnswer(mfaToken, c, a.Get(opts, pkOrigin, pkRPID, true)))
		if r.code != http.StatusOK {
			t.Fatalf("alice's own passkey after a refused one = %d %s, want 200", r.code, r.body)
		}
		// Now the mfa_token is spent.
		r = p.call("POST", "/login/mfa/passkey/begin", "", `{"mfa_token":"`+mfaToken+`"}`)
		if r.code != http.StatusBadRequest || r.json(t)["error"] != "invalid_mfa_token" {
			t.Fatalf("begin with a spent mfa_token = %d %s, want 400 invalid_mfa_token", r.code, r.body)
		}
	})
	t.Run("second factor: for another origin", func(t *testing.T) {
		mfaToken := p.mfaRequired(t, "alice", "alice-pass")
		c, opts := p.beginMFA(t, mfaToken)
		r := p.call("POST", "/login/mfa/passkey", "", mfaAnswer(mfaToken, c, a.Get(opts, "https://evil.example.test", pkRPID, true)))
		if r.code != http.StatusBadRequest || r.json(t)["error"] != "passkey_refused" {
			t.Fatalf("= %d %s, want 400 passkey_refused", r.code, r.body)
		}
	})
	t.Run("second factor: bad requests", func(t *testing.T) {
		for _, body := range []string{`{}`, `{"mfa_token":"nope"}`, `{"mfa_token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}`, `[]`} {
			r := p.call("POST", "/login/mfa/passkey/begin", "", body)
			if r.code != http.StatusBadRequest {
				t.Errorf("begin %s = %d %s, want 400", body, r.code, r.body)
			}
		}
		mfaToken := p.mfaRequired(t, "alice", "alice-pass")
		for _, body := range []string{`{"mfa_token":"` + mfaToken + `"}`, mfaAnswer(mfaToken, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", []byte(`{"id":"x"}`))} {
			r := p.call("POST", "/login/mfa/passkey", "", body)
			if r.code != http.StatusBadRequest {
				t.Errorf("finish %s = %d %s, want 400", body, r.code, r.body)
			}
		}
	})
	t.Run("disabled user", func(t *testing.T) {
		alice, err := p.store.UserByName(t.Context(), "alice")
		if err != nil {
			t.Fatal(err)
		}
		if err := p.store.SetDisabled(t.Context(), alice.ID, true, time.Now()); err != nil {
			t.Fatal(err)
		}
		r := passwordless(t, func(opts []byte) []byte { return a.Get(opts, pkOrigin, pkRPID, true) })
		if r.code != http.StatusBadRequest || r.json(t)["error"] != "passkey_refused" {
			t.Fatalf("passwordless for a disabled user = %d %s, want 400 passkey_refused", r.code, r.body)
		}
	})
}

func answer2(ceremony string, credential []byte) string { return answer(ceremony, credential, "") }

// TestPasskeyEnrolmentWhenConfined: with --require-mfa-for admin, an
// admin's password-only session may reach nothing but enrolment, and
// adding a passkey is enrolment; renaming is not. Once the passkey is the
// second factor of a new login, the session is whole.
func TestPasskeyEnrolmentWhenConfined(t *testing.T) {
	f := newFixture(t, Options{})
	svc, err := auth.New(t.Context(), f.store, f.kr, auth.Options{Issuer: "http://test", Hash: fastHash, RequireMFAFor: []string{"admin"}})
	if err != nil {
		t.Fatal(err)
	}
	pk, err := passkey.New(f.store, passkey.Options{PublicURL: pkOrigin})
	if err != nil {
		t.Fatal(err)
	}
	h := NewServer(Deps{Logger: slog.New(slog.DiscardHandler), Auth: svc, Keys: f.kr, Ready: f.store.Ping, Passkeys: pk}, Options{Issuer: pkOrigin})
	p := &pkFixture{fixture: f, h: h}
	r := p.call("POST", "/login", "", `{"name":"admin","password":"admin-pass"}`)
	if r.code != http.StatusOK {
		t.Fatalf("POST /login admin = %d %s", r.code, r.body)
	}
	confined := r.json(t)["token"].(string)
	if r := p.call("GET", "/user/sessions", confined, ""); r.code != http.StatusForbidden || r.json(t)["error"] != "mfa_enrolment_required" {
		t.Fatalf("GET /user/sessions, confined = %d %s, want 403 mfa_enrolment_required (the policy is not on?)", r.code, r.body)
	}
	a := passkeytest.New(t)
	k := p.register(t, confined, a, "Laptop")
	if got := p.list(t, confined); !strings.Contains(got, ":Laptop:") {
		t.Errorf("GET /user/passkeys, confined = %q, want the new passkey", got)
	}
	if r := p.call("PATCH", "/user/passkeys/"+k["id"].(string), confined, `{"name":"x"}`); r.code != http.StatusForbidden || r.json(t)["error"] != "mfa_enrolment_required" {
		t.Errorf("PATCH /user/passkeys/{id}, confined = %d %s, want 403 mfa_enrolment_required", r.code, r.body)
	}
	whole := p.mfaLogin(t, "admin", "admin-pass", a)
	if r := p.call("PATCH", "/user/passkeys/"+k["id"].(string), whole, `{"name":"Work laptop"}`); r.code != http.StatusNoContent {
		t.Errorf("PATCH /user/passkeys/{id} after a login with the passkey = %d %s, want 204", r.code, r.body)
	}
	if r := p.call("GET", "/user/sessions", whole, ""); r.code != http.StatusOK {
		t.Errorf("GET /user/sessions after a login with the passkey = %d %s, want 200", r.code, r.body)
	}
}

// TestPasskeyDeleteStepUp: deleting a passkey with a password-only
// session needs a code (403 step_up_required without one); a fresh login
// with a second factor needs none.
func TestPasskeyDeleteStepUp(t *testing.T) {
	p := newPasskeyFixture(t)
	alice := p.login(t, "alice", "alice-pass")
	a := passkeytest.New(t)
	k := p.register(t, alice, a, "Phone")
	path := "/user/passkeys/" + k["id"].(string)
	for _, tt := range []struct {
		body string
		want int
		code string
	}{
		{"", http.StatusForbidden, "step_up_required"},
		{`{"code":"000000"}`, http.StatusConflict, "no_factor"}, // alice has no TOTP: a code cannot step up
		{`{"code":`, http.StatusBadRequest, "invalid_request"},
	} {
		r := p.call("DELETE", path, alice, tt.body)
		if r.code != tt.want || r.json(t)["error"] != tt.code {
			t.Errorf("DELETE %s %q with a password-only session = %d %s, want %d %s", path, tt.body, r.code, r.body, tt.want, tt.code)
		}
	}
	if got := p.list(t, alice); !strings.Contains(got, ":Phone:") {
		t.Fatalf("after refused deletes: %q, want the passkey kept", got)
	}
	fresh := p.mfaLogin(t, "alice", "alice-pass", a)
	if r := p.call("DELETE", path, fresh, ""); r.code != http.StatusNoContent {
		t.Fatalf("DELETE after a fresh login with the passkey = %d %s, want 204", r.code, r.body)
	}
	if r := p.call("POST", "/login", "", `{"name":"alice","password":"alice-pass"}`); r.code != http.StatusOK {
		t.Errorf("POST /login without a second factor left = %d %s, want 200", r.code, r.body)
	}
}

// TestPasswordlessBeginThrottled: one address may begin only so many
// passwordless sign-ins (each stores a challenge); then 429 with
// Retry-After, and other addresses are not affected.
func TestPasswordlessBeginThrottled(t *testing.T) {
	p := newPasskeyFixture(t)
	from := func(ip string) result {
		req := bearer("POST", "/login/passkey/begin", "", "")
		req.RemoteAddr = ip + ":1234"
		return serve(p.h, req)
	}
	for i := range passwordlessPolicy.MaxFailures {
		if r := from("192.0.2.7"); r.code != http.StatusOK {
			t.Fatalf("begin %d from one address = %d %s, want 200", i+1, r.code, r.body)
		}
	}
	r := from("192.0.2.7")
	if r.code != http.StatusTooManyRequests || r.header.Get("Retry-After") == "" || r.json(t)["error"] != "throttled" {
		t.Fatalf("begin %d from one address = %d %s (Retry-After %q), want 429 throttled", passwordlessPolicy.MaxFailures+1, r.code, r.body, r.header.Get("Retry-After"))
	}
	if r := from("198.51.100.9"); r.code != http.StatusOK {
		t.Errorf("begin from another address = %d %s, want 200", r.code, r.body)
	}
}
