package verify_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtgate/jwtgate/token"
	"github.com/jwtgate/jwtgate/verify"
)

func TestRequireAMR(t *testing.T) {
	key, _ := token.Generate(token.EdDSA)
	v, err := verify.NewStatic(key, verify.WithIssuer("https://auth.test"))
	if err != nil {
		t.Fatal(err)
	}
	defer v.Close()
	mint := func(amr []string) string {
		now := time.Now()
		raw, err := token.Sign(key, &token.Claims{
			RegisteredClaims: jwt.RegisteredClaims{Issuer: "https://auth.test", Subject: "1", ID: token.NewID(),
				IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(time.Minute))},
			UserID: 1, Name: "alice", SessionID: token.NewID(), AMR: amr,
		})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	for _, tt := range []struct {
		name     string
		require  []string
		amr      []string
		behind   bool // behind v.Handler
		want     int
		stepUpWW bool
	}{
		{"mfa present", []string{"mfa"}, []string{"pwd", "otp", "mfa"}, true, 204, false},
		{"password only", []string{"mfa"}, []string{"pwd"}, true, 401, true},
		{"no amr claim", []string{"mfa"}, nil, true, 401, true},
		{"two required, one present", []string{"mfa", "hwk"}, []string{"pwd", "otp", "mfa"}, true, 401, true},
		{"two required, both present", []string{"mfa", "hwk"}, []string{"hwk", "user", "mfa"}, true, 204, false},
		{"case matters", []string{"mfa"}, []string{"MFA"}, true, 401, true},
		{"not behind Handler", []string{"mfa"}, []string{"mfa"}, false, 401, false},
	} {
		h := verify.RequireAMR(tt.require...)(ok)
		if tt.behind {
			h = v.Handler(h)
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Authorization", "Bearer "+mint(tt.amr))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		ww := w.Header().Get("WWW-Authenticate")
		if w.Code != tt.want || strings.Contains(ww, "insufficient_user_authentication") != tt.stepUpWW {
			t.Errorf("%s: RequireAMR(%q) on amr %q = %d %q, want %d (step-up challenge %t)", tt.name, tt.require, tt.amr, w.Code, ww, tt.want, tt.stepUpWW)
		}
	}
}
