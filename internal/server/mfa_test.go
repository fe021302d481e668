package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/png"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/internal/testkit"
	"github.com/jwtgate/jwtgate/token"
)

// freshStep waits, if needed, until the current 30-second TOTP step has
// at least 8 seconds left, so a test that computes codes relative to now
// does not cross a step boundary halfway.
func freshStep(t *testing.T) {
	t.Helper()
	if left := 30 - time.Now().Unix()%30; left < 8 {
		time.Sleep(time.Duration(left)*time.Second + 100*time.Millisecond)
	}
}

// code is the TOTP code of uri steps away from now, computed by testkit
// from the URI (RFC 6238), not by the server's code.
func code(t *testing.T, uri string, steps int) string {
	t.Helper()
	c, err := testkit.TOTPStep(uri, time.Now(), steps)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrol turns TOTP on for the token's user through the API, confirming
// with the code of the previous step (so codes of steps 0 and +1 remain
// for the test), and returns the otpauth URI and the recovery codes.
func (f *fixture) enrol(t *testing.T, tok string) (string, []string) {
	t.Helper()
	r := f.do(bearer("POST", "/user/totp", tok, ""))
	if r.code != 200 {
		t.Fatalf("POST /user/totp = %d %s, want 200", r.code, r.body)
	}
	var en struct{ Secret, URI string }
	_ = json.Unmarshal(r.body, &en)
	if !strings.HasPrefix(en.URI, "otpauth://totp/") || !strings.Contains(en.URI, "secret="+en.Secret) {
		t.Fatalf("POST /user/totp = %s, want an otpauth URI with the secret", r.body)
	}
	r = f.do(bearer("POST", "/user/totp/confirm", tok, `{"code":"`+code(t, en.URI, -1)+`"}`))
	var rc struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	if r.code != 200 || json.Unmarshal(r.body, &rc) != nil || len(rc.RecoveryCodes) != 10 {
		t.Fatalf("POST /user/totp/confirm = %d %s, want 200 with 10 recovery codes", r.code, r.body)
	}
	return en.URI, rc.RecoveryCodes
}

// mfaLogin posts the password and returns the mfa_token of the 401.
func (f *fixture) mfaLogin(t *testing.T, name, pw string) string {
	t.Helper()
	r := f.do(httptest.NewRequest("POST", "/login", strings.NewReader(`{"name":"`+name+`","password":"`+pw+`"}`)))
	var m mfaRequiredResponse
	if r.code != 401 || json.Unmarshal(r.body, &m) != nil || m.Error != "mfa_required" || m.MFAToken == "" {
		t.Fatalf("POST /login %s = %d %s, want 401 mfa_required with an mfa_token", name, r.code, r.body)
	}
	if !slices.Equal(m.Methods, []string{"totp", "recovery_code"}) {
		t.Errorf("POST /login methods = %q, want [totp recovery_code]", m.Methods)
	}
	return m.MFAToken
}

func amrOf(t *testing.T, f *fixture, r result) []string {
	t.Helper()
	var tr tokenResponse
	if err := json.Unmarshal(r.body, &tr); err != nil || tr.Token == "" {
		t.Fatalf("body %s has no token", r.body)
	}
	c, err := f.svc.Verify(tr.Token)
	if err != nil {
		t.Fatalf("Verify(token from %s) = %v", r.body, err)
	}
	return c.AMR
}

func TestMFALoginHTTP(t *testing.T) {
	freshStep(t)
	f := newFixture(t, Options{})
	tok := f.login(t, "alice", "alice-pass")
	uri, recovery := f.enrol(t, tok)

	// The QR code is a PNG of the pending secret: gone once confirmed.
	if r := f.do(bearer("GET", "/user/totp/qr.png", tok, "")); r.code != 404 {
		t.Errorf("GET /user/totp/qr.png after confirming = %d, want 404", r.code)
	}
	r := f.do(bearer("GET", "/user/factors", tok, ""))
	if r.code != 200 || !strings.Contains(string(r.body), `"totp":true,"recovery_codes":10,"passkeys":0,"mfa_required":false,"amr":["pwd"]`) {
		t.Errorf("GET /user/factors = %d %s", r.code, r.body)
	}

	mt := f.mfaLogin(t, "alice", "alice-pass")
	if r := f.do(httptest.NewRequest("POST", "/login/mfa", strings.NewReader(`{"mfa_token":"`+mt+`","code":"000000"}`))); r.code != 400 || r.json(t)["error"] != "invalid_code" {
		t.Errorf("POST /login/mfa wrong code = %d %s, want 400 invalid_code", r.code, r.body)
	}
	r = f.do(httptest.NewRequest("POST", "/login/mfa", strings.NewReader(`{"mfa_token":"`+mt+`","code":"`+code(t, uri, 0)+`"}`)))
	if r.code != 200 {
		t.Fatalf("POST /login/mfa right code = %d %s, want 200", r.code, r.body)
	}
	if got := amrOf(t, f, r); !slices.Equal(got, []string{"pwd", "otp", "mfa"}) {
		t.Errorf("amr after POST /login/mfa = %q, want [pwd otp mfa]", got)
	}
	if len(r.resp.Cookies()) < 2 {
		t.Errorf("POST /login/mfa set cookies %v, want the session cookies as POST /login sets", r.resp.Cookies())
	}
	for _, k := range []string{"token", "token_type", "expires_in", "refresh_token"} {
		if _, ok := r.json(t)[k]; !ok {
			t.Errorf("POST /login/mfa body lacks %q: %s", k, r.body)
		}
	}
	if r := f.do(httptest.NewRequest("POST", "/login/mfa", strings.NewReader(`{"mfa_token":"`+mt+`","code":"`+code(t, uri, 1)+`"}`))); r.code != 400 || r.json(t)["error"] != "invalid_mfa_token" {
		t.Errorf("POST /login/mfa spent token = %d %s, want 400 invalid_mfa_token", r.code, r.body)
	}

	// One step: {"name","password","otp"}; the same code again is a replay.
	one := `{"name":"alice","password":"alice-pass","otp":"` + code(t, uri, 1) + `"}`
	if r := f.do(httptest.NewRequest("POST", "/login", strings.NewReader(one))); r.code != 200 {
		t.Errorf("POST /login with otp = %d %s, want 200", r.code, r.body)
	}
	if r := f.do(httptest.NewRequest("POST", "/login", strings.NewReader(one))); r.code != 400 || r.json(t)["error"] != "invalid_code" {
		t.Errorf("POST /login with a replayed otp = %d %s, want 400 invalid_code", r.code, r.body)
	}
	// A recovery code, typed in upper case with spaces.
	typed := strings.ToUpper(strings.ReplaceAll(recovery[3], "-", " "))
	if r := f.do(httptest.NewRequest("POST", "/login", strings.NewReader(`{"name":"alice","password":"alice-pass","otp":"`+typed+`"}`))); r.code != 200 {
		t.Errorf("POST /login with a recovery code = %d %s, want 200", r.code, r.body)
	}
	// Users without a second factor: the tutorial's answer, unchanged.
	if m := f.loginFull(t, "admin", "admin-pass"); m["token"] == nil {
		t.Errorf("POST /login admin (no factor) = %v", m)
	}
}

func TestTOTPEnrolmentHTTP(t *testing.T) {
	freshStep(t)
	f := newFixture(t, Options{})
	tok := f.login(t, "alice", "alice-pass")
	if r := f.do(bearer("POST", "/user/totp/confirm", tok, `{"code":"123456"}`)); r.code != 409 || r.json(t)["error"] != "no_factor" {
		t.Errorf("POST /user/totp/confirm before starting = %d %s, want 409 no_factor", r.code, r.body)
	}
	r := f.do(bearer("POST", "/user/totp", tok, ""))
	var en struct{ Secret, URI string }
	if r.code != 200 || json.Unmarshal(r.body, &en) != nil {
		t.Fatalf("POST /user/totp = %d %s", r.code, r.body)
	}
	r = f.do(bearer("GET", "/user/totp/qr.png", tok, ""))
	if r.code != 200 || r.header.Get("Content-Type") != "image/png" || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET /user/totp/qr.png = %d %v", r.code, r.header)
	}
	if img, err := png.Decode(bytes.NewReader(r.body)); err != nil || img.Bounds().Dx() != qrSize {
		t.Errorf("GET /user/totp/qr.png: not a %d px PNG (%v)", qrSize, err)
	}
	if r := f.do(bearer("GET", "/user/factors", tok, "")); !strings.Contains(string(r.body), `"totp":false`) {
		t.Errorf("GET /user/factors while pending = %s, want totp false", r.body)
	}
	for _, bad := range []string{`{"code":"` + code(t, en.URI, 2) + `"}`, `{"code":"12345"}`, `{}`, `{"code":12}`} {
		if r := f.do(bearer("POST", "/user/totp/confirm", tok, bad)); r.code != 400 {
			t.Errorf("POST /user/totp/confirm %s = %d %s, want 400", bad, r.code, r.body)
		}
	}
	r = f.do(bearer("POST", "/user/totp/confirm", tok, `{"code":"`+code(t, en.URI, 0)+`"}`))
	if r.code != 200 {
		t.Fatalf("POST /user/totp/confirm = %d %s", r.code, r.body)
	}
	if r := f.do(bearer("POST", "/user/totp", tok, `{"code":"`+code(t, en.URI, 1)+`"}`)); r.code != 409 || r.json(t)["error"] != "totp_enabled" {
		t.Errorf("POST /user/totp with TOTP on = %d %s, want 409 totp_enabled", r.code, r.body)
	}

	// Regenerating recovery codes needs a TOTP code; the old set dies.
	var first struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	_ = json.Unmarshal(r.body, &first)
	r = f.do(bearer("POST", "/user/recovery-codes", tok, `{"code":"`+code(t, en.URI, 1)+`"}`))
	if r.code != 200 {
		t.Fatalf("POST /user/recovery-codes = %d %s", r.code, r.body)
	}
	if r := f.do(httptest.NewRequest("POST", "/login", strings.NewReader(`{"name":"alice","password":"alice-pass","otp":"`+first.RecoveryCodes[0]+`"}`))); r.code != 400 {
		t.Errorf("POST /login with a voided recovery code = %d %s, want 400", r.code, r.body)
	}

	// Turning it off needs the password and a code.
	var second struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	_ = json.Unmarshal(r.body, &second)
	for _, bad := range []struct{ body, want string }{
		{`{"password":"alice-pass"}`, "invalid_request"},
		{`{"password":"wrong","code":"` + second.RecoveryCodes[0] + `"}`, "invalid_credentials"},
		{`{"password":"alice-pass","code":"000000"}`, "invalid_code"},
	} {
		if r := f.do(bearer("DELETE", "/user/totp", tok, bad.body)); r.code != 400 || r.json(t)["error"] != bad.want {
			t.Errorf("DELETE /user/totp %s = %d %s, want 400 %s", bad.body, r.code, r.body, bad.want)
		}
	}
	if r := f.do(bearer("DELETE", "/user/totp", tok, `{"password":"alice-pass","code":"`+second.RecoveryCodes[0]+`"}`)); r.code != 204 {
		t.Fatalf("DELETE /user/totp = %d %s, want 204", r.code, r.body)
	}
	if m := f.loginFull(t, "alice", "alice-pass"); m["token"] == nil {
		t.Errorf("POST /login after turning TOTP off = %v, want a token", m)
	}
}

// TestMFABadInput: malformed codes and mfa_tokens get a clear 4xx and
// change nothing: no session, the token still works afterwards, no
// recovery code spent.
func TestMFABadInput(t *testing.T) {
	freshStep(t)
	for _, tt := range []struct {
		name, body string // %s is alice's mfa_token, %o admin's
		status     int
		errCode    string
	}{
		{"letters", `{"mfa_token":"%s","code":"abcdef"}`, 400, "invalid_code"},
		{"7 digits", `{"mfa_token":"%s","code":"1234567"}`, 400, "invalid_code"},
		{"arabic-indic digits", `{"mfa_token":"%s","code":"١٢٣٤٥٦"}`, 400, "invalid_code"},
		{"fullwidth digits", `{"mfa_token":"%s","code":"１２３４５６"}`, 400, "invalid_code"},
		{"spaces", `{"mfa_token":"%s","code":"123 456"}`, 400, "invalid_code"},
		{"empty code", `{"mfa_token":"%s","code":""}`, 400, "invalid_code"},
		{"huge code", `{"mfa_token":"%s","code":"` + strings.Repeat("9", 5000) + `"}`, 400, "invalid_code"},
		{"code as number", `{"mfa_token":"%s","code":123456}`, 400, "invalid_request"},
		{"no token", `{"code":"123456"}`, 400, "invalid_request"},
		{"forged token", `{"mfa_token":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","code":"123456"}`, 400, "invalid_mfa_token"},
		{"token with NUL", `{"mfa_token":"%s\u0000","code":"123456"}`, 400, "invalid_mfa_token"},
		{"access token as mfa_token", `{"mfa_token":"%a","code":"123456"}`, 400, "invalid_mfa_token"},
		{"not JSON", `mfa_token=%s&code=123456`, 400, "invalid_request"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, Options{})
			tok := f.login(t, "alice", "alice-pass")
			uri, recovery := f.enrol(t, tok)
			mt := f.mfaLogin(t, "alice", "alice-pass")
			before := f.counts(t)
			body := strings.NewReplacer("%s", mt, "%a", tok).Replace(tt.body)
			r := f.do(httptest.NewRequest("POST", "/login/mfa", strings.NewReader(body)))
			if r.code != tt.status || r.json(t)["error"] != tt.errCode {
				t.Errorf("POST /login/mfa (%s) = %d %s, want %d %s", tt.name, r.code, r.body, tt.status, tt.errCode)
			}
			if after := f.counts(t); after != before {
				t.Errorf("stored users/sessions changed: %s -> %s", before, after)
			}
			alice, _ := f.store.UserByName(context.Background(), "alice")
			if fs, _ := f.svc.MFA().Factors(context.Background(), alice.ID); fs.RecoveryCodes != len(recovery) {
				t.Errorf("recovery codes after %s = %d, want %d", tt.name, fs.RecoveryCodes, len(recovery))
			}
			// The token still finishes the login with the right code.
			r = f.do(httptest.NewRequest("POST", "/login/mfa", strings.NewReader(`{"mfa_token":"`+mt+`","code":"`+code(t, uri, 0)+`"}`)))
			if r.code != 200 {
				t.Errorf("POST /login/mfa after %s = %d %s, want 200", tt.name, r.code, r.body)
			}
		})
	}
}

// TestMFATokenOfAnotherUser: alice's mfa_token with admin's code fails,
// and admin's code is not used up by it.
func TestMFATokenOfAnotherUser(t *testing.T) {
	freshStep(t)
	f := newFixture(t, Options{})
	aliceURI, _ := f.enrol(t, f.login(t, "alice", "alice-pass"))
	adminURI, adminRecovery := f.enrol(t, f.login(t, "admin", "admin-pass"))
	mt := f.mfaLogin(t, "alice", "alice-pass")
	for _, c := range []string{code(t, adminURI, 0), adminRecovery[0]} {
		if c == code(t, aliceURI, 0) {
			continue
		}
		if r := f.do(httptest.NewRequest("POST", "/login/mfa", strings.NewReader(`{"mfa_token":"`+mt+`","code":"`+c+`"}`))); r.code != 400 {
			t.Errorf("POST /login/mfa (alice's token, admin's code) = %d %s, want 400", r.code, r.body)
		}
	}
	am := f.mfaLogin(t, "admin", "admin-pass")
	for _, c := range []string{code(t, adminURI, 0), adminRecovery[0]} {
		if r := f.do(httptest.NewRequest("POST", "/login", strings.NewReader(`{"name":"admin","password":"admin-pass","otp":"`+c+`"}`))); r.code != 200 {
			t.Errorf("admin's own code %s after alice's attempt = %d %s, want 200", c, r.code, r.body)
		}
	}
	_ = am
}

func TestMFAThrottledHTTP(t *testing.T) {
	freshStep(t)
	f := newFixture(t, Options{})
	uri, _ := f.enrol(t, f.login(t, "alice", "alice-pass"))
	mt := f.mfaLogin(t, "alice", "alice-pass")
	var last result
	for i := range 7 {
		last = f.do(httptest.NewRequest("POST", "/login/mfa", strings.NewReader(fmt.Sprintf(`{"mfa_token":"%s","code":"00000%d"}`, mt, i))))
	}
	if last.code != 429 || last.header.Get("Retry-After") == "" {
		t.Fatalf("7th wrong code = %d %s (Retry-After %q), want 429 with Retry-After", last.code, last.body, last.header.Get("Retry-After"))
	}
	// Throttled even with the right code, until the wait is over.
	if r := f.do(httptest.NewRequest("POST", "/login/mfa", strings.NewReader(`{"mfa_token":"`+mt+`","code":"`+code(t, uri, 0)+`"}`))); r.code != 429 {
		t.Errorf("right code while throttled = %d, want 429", r.code)
	}
	events, _ := f.store.Audit(context.Background(), jwtgateAuditFilter("mfa.failed"))
	if len(events) < 5 {
		t.Errorf("mfa.failed audit events = %d, want at least 5", len(events))
	}
}

func TestStepUpHTTP(t *testing.T) {
	freshStep(t)
	f := newFixture(t, Options{})
	tok := f.login(t, "alice", "alice-pass")
	uri, _ := f.enrol(t, tok)
	change := `{"current_password":"alice-pass","new_password":"alice-pass-2"%s}`
	if r := f.do(bearer("POST", "/user/password", tok, fmt.Sprintf(change, ""))); r.code != 403 || r.json(t)["error"] != "step_up_required" {
		t.Errorf("POST /user/password without a code = %d %s, want 403 step_up_required", r.code, r.body)
	}
	if r := f.do(bearer("POST", "/user/password", tok, fmt.Sprintf(change, `,"code":"000000"`))); r.code != 400 || r.json(t)["error"] != "invalid_code" {
		t.Errorf("POST /user/password with a wrong code = %d %s, want 400 invalid_code", r.code, r.body)
	}
	if r := f.do(bearer("POST", "/user/password", tok, fmt.Sprintf(change, `,"code":7`))); r.code != 400 {
		t.Errorf("POST /user/password with a numeric code = %d %s, want 400", r.code, r.body)
	}
	if r := f.do(bearer("POST", "/user/password", tok, fmt.Sprintf(change, `,"code":"`+code(t, uri, 0)+`"`))); r.code != 204 {
		t.Errorf("POST /user/password with a code = %d %s, want 204", r.code, r.body)
	}
	// A session that signed in with the code just now needs none.
	r := f.do(httptest.NewRequest("POST", "/login", strings.NewReader(`{"name":"alice","password":"alice-pass-2","otp":"`+code(t, uri, 1)+`"}`)))
	var tr tokenResponse
	_ = json.Unmarshal(r.body, &tr)
	if r := f.do(bearer("POST", "/user/password", tr.Token, `{"current_password":"alice-pass-2","new_password":"alice-pass-3"}`)); r.code != 204 {
		t.Errorf("POST /user/password from a fresh mfa session = %d %s, want 204", r.code, r.body)
	}
}

// newMFAFixture is newFixture with --require-mfa-for admin.
func newMFAFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	dbPath := filepath.Join(t.TempDir(), "jwtgate.db")
	store, err := sqlite.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	kr, err := auth.NewKeyring(ctx, store, auth.KeyringOptions{Alg: token.EdDSA, PublishDelay: 10 * time.Minute, TokenLifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := auth.New(ctx, store, kr, auth.Options{Issuer: "http://test", Hash: fastHash, RequireMFAFor: []string{"admin"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		name  string
		roles []string
	}{{"admin", []string{"admin"}}, {"alice", nil}} {
		if _, err := svc.CreateUser(ctx, u.name, u.name+"-pass", u.roles); err != nil {
			t.Fatal(err)
		}
	}
	h := NewServer(Deps{Logger: slog.New(slog.DiscardHandler), Auth: svc, Keys: kr, Ready: store.Ping}, Options{Issuer: "http://test"})
	return &fixture{h: h, svc: svc, store: store, dbPath: dbPath, kr: kr}
}

func TestRequireMFAConfinesToEnrolment(t *testing.T) {
	freshStep(t)
	f := newMFAFixture(t)
	tok := f.login(t, "admin", "admin-pass")
	for _, tt := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/admin/users", 403},
		{"GET", "/user/sessions", 403},
		{"GET", "/no/such/route", 403},
		{"GET", "/user", 200},
		{"GET", "/user/factors", 200},
	} {
		r := f.do(bearer(tt.method, tt.path, tok, ""))
		if r.code != tt.want || (tt.want == 403 && r.json(t)["error"] != "mfa_enrolment_required") {
			t.Errorf("%s %s by an unenrolled admin = %d %s, want %d", tt.method, tt.path, r.code, r.body, tt.want)
		}
	}
	if r := f.do(bearer("GET", "/user/factors", tok, "")); !strings.Contains(string(r.body), `"mfa_required":true`) {
		t.Errorf("GET /user/factors = %s, want mfa_required true", r.body)
	}
	// Users of other roles are not confined.
	if r := f.do(bearer("GET", "/user/sessions", f.login(t, "alice", "alice-pass"), "")); r.code != 200 {
		t.Errorf("GET /user/sessions by alice = %d, want 200", r.code)
	}
	// Enrolment is open; signing in with the factor lifts the confinement.
	uri, _ := f.enrol(t, tok)
	r := f.do(httptest.NewRequest("POST", "/login", strings.NewReader(`{"name":"admin","password":"admin-pass","otp":"`+code(t, uri, 0)+`"}`)))
	var tr tokenResponse
	if r.code != 200 || json.Unmarshal(r.body, &tr) != nil {
		t.Fatalf("POST /login admin with otp = %d %s", r.code, r.body)
	}
	if r := f.do(bearer("GET", "/admin/users", tr.Token, "")); r.code != 200 {
		t.Fatalf("GET /admin/users after an mfa login = %d %s, want 200", r.code, r.body)
	}
	if r := f.do(bearer("POST", "/logout", tok, "")); r.code != 204 {
		t.Errorf("POST /logout by the confined session = %d, want 204", r.code)
	}
}

func TestAdminResetFactors(t *testing.T) {
	freshStep(t)
	f := newFixture(t, Options{})
	admin := f.login(t, "admin", "admin-pass")
	alice := f.login(t, "alice", "alice-pass")
	f.enrol(t, alice)
	r := f.do(bearer("GET", "/admin/users?q=alice", admin, ""))
	if r.code != 200 || !strings.Contains(string(r.body), `"factors":{"totp":true,"recovery_codes":10,"passkeys":0}`) {
		t.Errorf("GET /admin/users = %d %s, want alice's factors", r.code, r.body)
	}
	if r := f.do(bearer("DELETE", "/admin/users/nobody/factors", admin, "")); r.code != 404 {
		t.Errorf("DELETE /admin/users/nobody/factors = %d, want 404", r.code)
	}
	if r := f.do(bearer("DELETE", "/admin/users/alice/factors", alice, "")); r.code != 403 {
		t.Errorf("DELETE /admin/users/alice/factors by alice = %d, want 403", r.code)
	}
	r = f.do(bearer("DELETE", "/admin/users/alice/factors", admin, ""))
	if r.code != 200 || r.json(t)["had_factors"] != true {
		t.Fatalf("DELETE /admin/users/alice/factors = %d %s", r.code, r.body)
	}
	if r := f.do(bearer("GET", "/user", alice, "")); r.code != 401 {
		t.Errorf("alice's token after the reset = %d, want 401 (sessions ended)", r.code)
	}
	if m := f.loginFull(t, "alice", "alice-pass"); m["token"] == nil {
		t.Errorf("POST /login alice after the reset = %v, want a token without a second step", m)
	}
	events, _ := f.store.Audit(context.Background(), jwtgateAuditFilter("mfa.factors_reset"))
	if len(events) != 1 || events[0].ActorID == 0 {
		t.Errorf("mfa.factors_reset events = %+v, want one with the admin as actor", events)
	}
}

func jwtgateAuditFilter(typ string) jwtgate.AuditFilter { return jwtgate.AuditFilter{Type: typ} }

// TestForwardAuthAMR: /auth/verify passes the amr on, and ?mfa=1 refuses
// a login without a second factor (401 insufficient_user_authentication;
// a browser with ?redirect=1 goes to the login page).
func TestForwardAuthAMR(t *testing.T) {
	freshStep(t)
	f := newFixture(t, Options{})
	pwd := f.login(t, "alice", "alice-pass")
	uri, _ := f.enrol(t, pwd)
	r := f.do(httptest.NewRequest("POST", "/login", strings.NewReader(`{"name":"alice","password":"alice-pass","otp":"`+code(t, uri, 0)+`"}`)))
	var full tokenResponse
	if r.code != 200 || json.Unmarshal(r.body, &full) != nil {
		t.Fatalf("POST /login with otp = %d %s", r.code, r.body)
	}
	for _, tt := range []struct {
		name, path, tok string
		want            int
		amr             string
	}{
		{"password session", "/auth/verify", pwd, 200, "pwd"},
		{"mfa session", "/auth/verify", full.Token, 200, "pwd,otp,mfa"},
		{"password session, mfa required", "/auth/verify?mfa=1", pwd, 401, ""},
		{"mfa session, mfa required", "/auth/verify?mfa=1", full.Token, 200, "pwd,otp,mfa"},
		{"mfa=0 is no requirement", "/auth/verify?mfa=0", pwd, 200, "pwd"},
		{"xmfa=1 is not mfa=1", "/auth/verify?xmfa=1", pwd, 200, "pwd"},
		{"with redirect", "/auth/verify?redirect=1&mfa=1", pwd, 401, ""},
	} {
		req := bearer("GET", tt.path, tt.tok, "")
		req.Header.Set("X-Auth-Amr", "mfa") // a client's own is never passed on
		r := f.do(req)
		if r.code != tt.want || r.header.Get("X-Auth-Amr") != tt.amr {
			t.Errorf("%s: GET %s = %d X-Auth-Amr %q, want %d %q", tt.name, tt.path, r.code, r.header.Get("X-Auth-Amr"), tt.want, tt.amr)
		}
		if tt.want == 401 && !strings.Contains(r.header.Get("WWW-Authenticate"), `error="insufficient_user_authentication"`) {
			t.Errorf("%s: WWW-Authenticate = %q, want the RFC 9470 error", tt.name, r.header.Get("WWW-Authenticate"))
		}
	}
	// A browser navigation without the factor goes to the login page.
	req := httptest.NewRequest("GET", "/auth/verify?redirect=1&mfa=1&rd=http://test/app", nil)
	req.Header.Set("Cookie", "jwtgate_access="+pwd)
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	req.Header.Set("Accept", "text/html")
	if r := f.do(req); r.code != 302 || !strings.HasPrefix(r.header.Get("Location"), "http://test/login") {
		t.Errorf("browser GET /auth/verify?redirect=1&mfa=1 = %d Location %q, want 302 to the login page", r.code, r.header.Get("Location"))
	}
}

// FuzzLoginMFABody: any body sent to POST /login/mfa gets 200 only with
// the live mfa_token in it, else 400, 413 or 429 with an error code,
// never a 5xx; a refused body starts no session and spends no recovery
// code. A body the fuzzer writes "MT" into gets the live token there.
func FuzzLoginMFABody(f *testing.F) {
	for _, s := range []string{
		`{"mfa_token":"MT","code":"123456"}`, `{"mfa_token":"MT","code":"abcd-efgh-jkmn"}`,
		`{"mfa_token":"MT","code":"١٢٣٤٥٦"}`, `{"mfa_token":"MT"}`, `{"code":"123456"}`, `{"mfa_token":5,"code":[]}`,
		`{"mfa_token":"MT","code":"123456","mfa_token":"x"}`, `{"MFA_TOKEN":"MT","code":"1"}`, `null`, `[]`, "\xff",
		`{"mfa_token":"MT\u0000","code":"000000"}`,
	} {
		f.Add([]byte(s))
	}
	fx := newFixture(f, Options{MaxBodyBytes: 4096})
	tok := fx.login(f, "alice", "alice-pass")
	r := fx.do(bearer("POST", "/user/totp", tok, ""))
	var en struct{ URI string }
	_ = json.Unmarshal(r.body, &en)
	c, _ := testkit.TOTPStep(en.URI, time.Now(), 0)
	if r := fx.do(bearer("POST", "/user/totp/confirm", tok, `{"code":"`+c+`"}`)); r.code != 200 {
		f.Fatalf("confirm = %d %s", r.code, r.body)
	}
	alice, _ := fx.store.UserByName(context.Background(), "alice")
	r = fx.do(httptest.NewRequest("POST", "/login", strings.NewReader(`{"name":"alice","password":"alice-pass"}`)))
	var m mfaRequiredResponse
	if json.Unmarshal(r.body, &m) != nil || m.MFAToken == "" {
		f.Fatalf("POST /login = %d %s", r.code, r.body)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		before := fx.counts(t)
		fs, _ := fx.svc.MFA().Factors(context.Background(), alice.ID)
		body = bytes.ReplaceAll(body, []byte("MT"), []byte(m.MFAToken))
		r := fx.do(httptest.NewRequest("POST", "/login/mfa", bytes.NewReader(body)))
		switch r.code {
		case 200:
			if !bytes.Contains(body, []byte(m.MFAToken)) {
				t.Fatalf("200 without the mfa_token: %q", body)
			}
		case 400, 413, 429:
			if e, _ := r.json(t)["error"].(string); e == "" {
				t.Fatalf("%d without an error code: %s", r.code, r.body)
			}
			if got := fx.counts(t); got != before {
				t.Fatalf("refused body %q changed the store: %s -> %s", body, before, got)
			}
			if now, _ := fx.svc.MFA().Factors(context.Background(), alice.ID); now.RecoveryCodes != fs.RecoveryCodes {
				t.Fatalf("refused body %q spent a recovery code", body)
			}
		default:
			t.Fatalf("POST /login/mfa %q = %d %s", body, r.code, r.body)
		}
	})
}

// FuzzStepUpBody: requireStepUp reads the "code" member of any body before
// the handler: never a 5xx, and a user with a second factor never changes
// the password without a right code (the fuzzer cannot know one).
func FuzzStepUpBody(f *testing.F) {
	for _, s := range []string{
		`{"current_password":"alice-pass","new_password":"alice-pass-2"}`,
		`{"current_password":"alice-pass","new_password":"alice-pass-2","code":"123456"}`,
		`{"current_password":"alice-pass","new_password":"alice-pass-2","code":123456}`,
		`{"current_password":"alice-pass","new_password":"alice-pass-2","code":null}`,
		`{"code":"1","code":"2"}`, `{"code":{"x":1}}`, `{"code":"` + strings.Repeat("a", 100) + `"}`, `[`, "\xff",
	} {
		f.Add([]byte(s))
	}
	fx := newFixture(f, Options{MaxBodyBytes: 4096})
	tok := fx.login(f, "alice", "alice-pass")
	r := fx.do(bearer("POST", "/user/totp", tok, ""))
	var en struct{ URI string }
	_ = json.Unmarshal(r.body, &en)
	c, _ := testkit.TOTPStep(en.URI, time.Now(), -1)
	if r := fx.do(bearer("POST", "/user/totp/confirm", tok, `{"code":"`+c+`"}`)); r.code != 200 {
		f.Fatalf("confirm = %d %s", r.code, r.body)
	}
	before := fx.counts(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		r := fx.do(bearer("POST", "/user/password", tok, string(body)))
		if r.code >= 500 || r.code == 204 || r.code == 200 {
			t.Fatalf("POST /user/password %q = %d %s, want a 4xx", body, r.code, r.body)
		}
		if got := fx.counts(t); got != before {
			t.Fatalf("POST /user/password %q changed the store: %s -> %s", body, before, got)
		}
	})
}
