package e2e

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jwtgate/jwtgate/internal/pgtest"
	"github.com/jwtgate/jwtgate/internal/testkit"
)

// freshTOTPStep waits until the current 30-second TOTP step has at least
// 10 seconds left, so codes computed now stay in their step while used.
func freshTOTPStep(t *testing.T) {
	if left := 30 - time.Now().Unix()%30; left < 10 {
		time.Sleep(time.Duration(left)*time.Second + 100*time.Millisecond)
	}
}

func totpCode(t *testing.T, uri string, steps int) string {
	t.Helper()
	c, err := testkit.TOTPStep(uri, time.Now(), steps)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestTOTPTwoInstancesOnPostgres (issue 14): two jwtgate processes on one
// PostgreSQL database. Enrolment started at A is confirmed at B; a code
// accepted at A is refused at B (each code works once, everywhere); of the
// same code sent to both at once, exactly one login wins; an mfa_token
// from A finishes at B. The TOTP secret is sealed at rest under
// JWTGATE_KEY_ENCRYPTION_KEY. Codes are computed from the otpauth URI the
// server returned, by testkit (RFC 6238), not by the server's code.
func TestTOTPTwoInstancesOnPostgres(t *testing.T) {
	t.Parallel()
	db := pgtest.FreshSchema(t)
	args := []string{"--demo", "--db", db, "--issuer", "http://jwtgate.cluster"}
	kek := "JWTGATE_KEY_ENCRYPTION_KEY=" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
	a := StartServer(t, "", args, kek)
	b := StartServer(t, "", args, kek)
	freshTOTPStep(t)

	admin := loginToken(t, a.URL, "admin", "1234")
	auth := []string{"Authorization", "Bearer " + admin}
	r := send(t, "POST", a.URL+"/user/totp", nil, auth...)
	var en struct{ Secret, URI string }
	if r.status != 200 || json.Unmarshal(r.body, &en) != nil || en.URI == "" {
		t.Fatalf("POST /user/totp at A = %d %s", r.status, r.body)
	}
	if u, err := url.Parse(en.URI); err != nil || u.Query().Get("issuer") != "jwtgate.cluster" {
		t.Errorf("otpauth URI %q: want issuer jwtgate.cluster (the --issuer host)", en.URI)
	}
	r = send(t, "POST", b.URL+"/user/totp/confirm", []byte(`{"code":"`+totpCode(t, en.URI, -1)+`"}`), auth...)
	if r.status != 200 {
		t.Fatalf("POST /user/totp/confirm at B = %d %s", r.status, r.body)
	}

	// Sealed at rest: the stored secret is not the secret.
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(en.Secret)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var stored []byte
	if err := conn.QueryRow(ctx, `SELECT secret FROM totp_secrets`).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(stored, raw) || bytes.Contains(stored, []byte(en.Secret)) || len(stored) <= len(raw) {
		t.Errorf("stored TOTP secret (%d bytes) holds the secret in the clear", len(stored))
	}

	login := func(base, otp string) reply {
		return send(t, "POST", base+"/login", []byte(`{"name":"admin","password":"1234","otp":"`+otp+`"}`))
	}
	c0 := totpCode(t, en.URI, 0)
	if r := login(a.URL, c0); r.status != 200 {
		t.Fatalf("login at A with a fresh code = %d %s", r.status, r.body)
	}
	if r := login(b.URL, c0); r.status != 400 || r.jsonBody()["error"] != "invalid_code" {
		t.Errorf("login at B with the code A accepted = %d %s, want 400 invalid_code", r.status, r.body)
	}

	// The same new code at both instances at once: exactly one wins.
	c1 := totpCode(t, en.URI, 1)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var codes []int
	for _, s := range []*Server{a, b, a, b} {
		wg.Go(func() {
			r := login(s.URL, c1)
			mu.Lock()
			codes = append(codes, r.status)
			mu.Unlock()
		})
	}
	wg.Wait()
	won := 0
	for _, c := range codes {
		switch c {
		case 200:
			won++
		case 400, 429:
		default:
			t.Errorf("concurrent login answered %d", c)
		}
	}
	if won != 1 {
		t.Errorf("concurrent logins with one code on two instances: %v, want exactly one 200", codes)
	}

	// A login begun at A finishes at B: the mfa_token lives in the store.
	r = send(t, "POST", a.URL+"/login", []byte(`{"name":"admin","password":"1234"}`))
	m := r.jsonBody()
	mt, _ := m["mfa_token"].(string)
	if r.status != 401 || m["error"] != "mfa_required" || mt == "" {
		t.Fatalf("POST /login at A = %d %s, want 401 mfa_required", r.status, r.body)
	}
	if strings.Count(mt, ".") == 2 {
		t.Errorf("mfa_token %q looks like a JWT; it must not be an access token", mt)
	}
	// Every code up to the step after this one is spent or older: wait
	// for the next step and use its successor's code (within the skew).
	time.Sleep(time.Duration(30-time.Now().Unix()%30)*time.Second + 200*time.Millisecond)
	next := totpCode(t, en.URI, 1)
	r = send(t, "POST", b.URL+"/login/mfa", []byte(`{"mfa_token":"`+mt+`","code":"`+next+`"}`))
	if r.status != 200 {
		t.Fatalf("POST /login/mfa at B with A's mfa_token = %d %s", r.status, r.body)
	}
	var tok struct{ Token string }
	_ = json.Unmarshal(r.body, &tok)
	v := send(t, "GET", a.URL+"/auth/verify?mfa=1", nil, "Authorization", "Bearer "+tok.Token)
	if v.status != 200 || v.header.Get("X-Auth-Amr") != "pwd,otp,mfa" {
		t.Errorf("GET /auth/verify?mfa=1 at A = %d X-Auth-Amr %q, want 200 pwd,otp,mfa", v.status, v.header.Get("X-Auth-Amr"))
	}
	if r := send(t, "POST", a.URL+"/login/mfa", []byte(`{"mfa_token":"`+mt+`","code":"`+next+`"}`)); r.status != 400 {
		t.Errorf("POST /login/mfa at A with the spent mfa_token = %d %s, want 400", r.status, r.body)
	}
}
