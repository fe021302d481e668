package server

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestRouteShortcut: routeMux's shortcut to GET /user and /auth/verify
// answers every request exactly as the ServeMux behind it would, with the
// same r.Pattern, and leaves everything else to the mux. It fails when
// the shortcut takes a request the mux would route elsewhere, or answers
// one differently.
func TestRouteShortcut(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.loginFull(t, "alice", "alice-pass")["token"].(string)
	rm := &routeMux{ServeMux: http.NewServeMux()}
	addRoutes(rm, fullDeps(f), newCookies(false, "", nil), Options{Issuer: "http://test"})
	if rm.user == nil || rm.verify == nil {
		t.Fatal("the shortcut's routes were not registered")
	}
	// Count what goes through the shortcut (the mux holds the originals).
	hits := 0
	for _, h := range []*http.Handler{&rm.user, &rm.verify} {
		inner := *h
		*h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits++; inner.ServeHTTP(w, r) })
	}
	for _, c := range []struct {
		method, target, auth string
		shortcut             bool // whether the shortcut should take it
	}{
		{"GET", "/user", "Bearer " + tok, true},
		{"GET", "/user", "", true},
		{"GET", "/user", "Bearer nope", true},
		{"GET", "/user?x=1", "Bearer " + tok, true},
		{"GET", "/us%65r", "Bearer " + tok, true},
		{"HEAD", "/user", "Bearer " + tok, false},
		{"POST", "/user", "Bearer " + tok, false},
		{"GET", "/user/", "Bearer " + tok, false},
		{"GET", "//user", "Bearer " + tok, false},
		{"GET", "/user/sessions", "Bearer " + tok, false},
		{"GET", "/auth/verify", "Bearer " + tok, true},
		{"POST", "/auth/verify", "Bearer " + tok, true},
		{"PUT", "/auth/verify?mfa=1", "Bearer " + tok, true},
		{"GET", "/auth/verify?redirect=1", "", true},
		{"GET", "/auth/verify/", "Bearer " + tok, false},
		{"GET", "/auth/verifyx", "Bearer " + tok, false},
	} {
		t.Run(c.method+" "+c.target+" "+c.auth[:min(len(c.auth), 12)], func(t *testing.T) {
			serve := func(h http.Handler) (*httptest.ResponseRecorder, string) {
				r := httptest.NewRequest(c.method, c.target, nil)
				if c.auth != "" {
					r.Header.Set("Authorization", c.auth)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				return w, r.Pattern
			}
			before := hits
			got, gotPattern := serve(rm)
			if took := hits > before; took != c.shortcut {
				t.Errorf("went through the shortcut: %v, want %v", took, c.shortcut)
			}
			want, wantPattern := serve(rm.ServeMux)
			if got.Code != want.Code || got.Body.String() != want.Body.String() {
				t.Errorf("shortcut answered %d %q, the mux %d %q", got.Code, got.Body, want.Code, want.Body)
			}
			for k := range want.Header() {
				if g, w := got.Header().Values(k), want.Header().Values(k); len(g) != len(w) || (len(g) > 0 && g[0] != w[0]) {
					t.Errorf("header %s: shortcut %q, mux %q", k, g, w)
				}
			}
			if len(got.Header()) != len(want.Header()) {
				t.Errorf("shortcut sent headers %v, the mux %v", got.Header(), want.Header())
			}
			if gotPattern != wantPattern {
				t.Errorf("r.Pattern: shortcut %q, mux %q", gotPattern, wantPattern)
			}
		})
	}
}
