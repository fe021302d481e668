package server

import (
	"bytes"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzBearerToken: whatever the header, a token is returned only when the
// header is exactly a Bearer scheme, one space and a token without spaces.
func FuzzBearerToken(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer x.y.z", "Basic dXNlcjpwYXNz", "Bearer  a", "Bearer\ta", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Authorization"] = []string{h}
		tok, present := bearerToken(r)
		if present != (h != "") {
			t.Fatalf("bearerToken(%q) present = %v", h, present)
		}
		if tok == "" {
			return
		}
		if !strings.EqualFold(h[:7], "Bearer ") || h[7:] != tok || strings.ContainsAny(tok, " \t") {
			t.Fatalf("bearerToken(%q) = %q", h, tok)
		}
	})
}

// FuzzLoginBody: any body gets 200 (only with the right credentials), 400,
// 413 or 429 (throttled after many failures), never a 5xx, and a refused body never changes the store.
func FuzzLoginBody(f *testing.F) {
	for _, s := range []string{
		`{"name":"alice","password":"alice-pass"}`,
		`{"name":"alice","password":"x"}`,
		`{"name":5}`, `[]`, `null`, `{"name":"a\u0000","password":""}`, "{\"name\":\"\xff\"}",
		`{"name":"alice","password":"alice-pass"} trailing`,
		`{"name":"bob","password":"alice-pass","name":"alice"}`,
		`{"NAME":"alice","password":"alice-pass"}`,
		`{"n\u0061me":"alice","name":"alice","password":"alice-pass"}`,
	} {
		f.Add([]byte(s))
	}
	fx := newFixture(f, Options{MaxBodyBytes: 4096})
	before := fx.counts(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		r := fx.do(httptest.NewRequest("POST", "/login", bytes.NewReader(body)))
		switch r.code {
		case 200:
			if !bytes.Contains(body, []byte("alice-pass")) && !bytes.Contains(body, []byte(`\u`)) {
				t.Fatalf("login succeeded without the password: %q", body)
			}
		case 400, 413, 429:
			if r.json(t)["error"] == nil {
				t.Fatalf("%d without an error code: %s", r.code, r.body)
			}
			// Only successful logins add sessions; users never change.
			if got := fx.counts(t); strings.Split(got, "#")[0] != strings.Split(before, "#")[0] {
				t.Fatalf("refused body %q changed users", body)
			}
		default:
			t.Fatalf("POST /login %q = %d %s", body, r.code, r.body)
		}
	})
}

// FuzzRefreshBody: any body sent to /token/refresh gets 200 (only when it
// carries an issued refresh token), 400, 401 or 413: never a 5xx.
func FuzzRefreshBody(f *testing.F) {
	fx := newFixture(f, Options{MaxBodyBytes: 4096})
	issued := fx.loginFull(f, "alice", "alice-pass")["refresh_token"].(string)
	for _, s := range []string{
		`{"refresh_token":"` + issued + `"}`,
		`{"refresh_token":""}`, `{"refresh_token":null}`, `{"refresh_token":5}`, `{}`, `[]`, "\xff",
		`{"refresh_token":"` + strings.Repeat("A", 43) + `"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := fx.do(httptest.NewRequest("POST", "/token/refresh", bytes.NewReader(body)))
		switch r.code {
		case 200:
			if !bytes.Contains(body, []byte(issued[:20])) && !bytes.Contains(body, []byte(`\u`)) {
				t.Fatalf("refresh succeeded without an issued token: %q", body)
			}
		case 400, 401, 413:
			if r.json(t)["error"] == nil {
				t.Fatalf("%d without an error code: %s", r.code, r.body)
			}
		default:
			t.Fatalf("POST /token/refresh %q = %d %s", body, r.code, r.body)
		}
	})
}
