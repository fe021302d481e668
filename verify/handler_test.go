package verify

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/token"
)

func TestHandler(t *testing.T) {
	k := mustGenerate(t, token.EdDSA)
	iss := newFakeIssuer(t, k)
	v := mustNew(t, iss.url)
	c := claims(iss.url, time.Now())
	good := sign(t, k, c)
	var seen *Claims
	h := v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := ClaimsFrom(r.Context())
		if !ok {
			t.Error("ClaimsFrom(protected request) = false")
		}
		seen = got
		_, _ = io.WriteString(w, "hello "+got.Name)
	}))
	tests := []struct {
		name      string
		header    []string // Authorization values
		cookie    string
		code      int
		challenge string
	}{
		{name: "valid", header: []string{"Bearer " + good}, code: 200},
		{name: "lower-case scheme", header: []string{"bearer " + good}, code: 200},
		{name: "no header", code: 401, challenge: `Bearer realm="jwtgate"`},
		{name: "cookie only", cookie: good, code: 401, challenge: `Bearer realm="jwtgate"`},
		{name: "basic", header: []string{"Basic YWRtaW46MTIzNA=="}, code: 401, challenge: `Bearer realm="jwtgate"`},
		{name: "invalid token", header: []string{"Bearer " + good[:len(good)-2]}, code: 401, challenge: `Bearer realm="jwtgate", error="invalid_token"`},
		{name: "malformed", header: []string{"Bearer " + good + " x"}, code: 401, challenge: `Bearer realm="jwtgate", error="invalid_token"`},
		{name: "two headers", header: []string{"Bearer " + good, "Bearer " + good}, code: 401, challenge: `Bearer realm="jwtgate", error="invalid_token"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seen = nil
			r := httptest.NewRequest("GET", "/private", nil)
			for _, h := range tt.header {
				r.Header.Add("Authorization", h)
			}
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: "jwtgate_session", Value: tt.cookie})
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.code {
				t.Fatalf("GET /private (%s) = %d, want %d", tt.name, w.Code, tt.code)
			}
			if tt.code == 200 {
				if seen == nil || seen.SessionID != c.SessionID || w.Body.String() != "hello admin" {
					t.Errorf("GET /private (%s): claims %+v, body %q", tt.name, seen, w.Body.String())
				}
				return
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.challenge {
				t.Errorf("GET /private (%s): WWW-Authenticate = %q, want %q", tt.name, got, tt.challenge)
			}
			if w.Body.Len() != 0 || w.Header().Get("Cache-Control") != "no-store" {
				t.Errorf("GET /private (%s): body %q, Cache-Control %q; want empty, no-store", tt.name, w.Body.String(), w.Header().Get("Cache-Control"))
			}
			if seen != nil {
				t.Errorf("GET /private (%s) reached the handler", tt.name)
			}
		})
	}
	if c, ok := ClaimsFrom(context.Background()); ok || c != nil {
		t.Errorf("ClaimsFrom(empty context) = %v, %v; want nil, false", c, ok)
	}
}

func TestBearerToken(t *testing.T) {
	const tok = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiIxIn0.c2ln-_~+/="
	tests := []struct {
		name   string
		values []string
		want   string
		err    error // nil: want ok
	}{
		{name: "Bearer", values: []string{"Bearer " + tok}, want: tok},
		{name: "bearer", values: []string{"bearer " + tok}, want: tok},
		{name: "BEARER", values: []string{"BEARER " + tok}, want: tok},
		{name: "BeArEr", values: []string{"BeArEr " + tok}, want: tok},
		{name: "several spaces", values: []string{"Bearer   " + tok}, want: tok},
		{name: "padding", values: []string{"Bearer abc=="}, want: "abc=="},
		{name: "none", err: ErrNoToken},
		{name: "Basic", values: []string{"Basic YWRtaW46MTIzNA=="}, err: ErrNoToken},
		{name: "DPoP", values: []string{"DPoP " + tok}, err: ErrNoToken},
		{name: "scheme glued to token", values: []string{"Bearer" + tok}, err: token.ErrInvalid},
		{name: "empty", values: []string{""}, err: token.ErrInvalid},
		{name: "scheme only", values: []string{"Bearer"}, err: token.ErrInvalid},
		{name: "scheme and space", values: []string{"Bearer "}, err: token.ErrInvalid},
		{name: "tab", values: []string{"Bearer\t" + tok}, err: token.ErrInvalid},
		{name: "two tokens", values: []string{"Bearer a b"}, err: token.ErrInvalid},
		{name: "trailing space", values: []string{"Bearer " + tok + " "}, err: token.ErrInvalid},
		{name: "comma", values: []string{"Bearer a,b"}, err: token.ErrInvalid},
		{name: "quoted", values: []string{`Bearer "` + tok + `"`}, err: token.ErrInvalid},
		{name: "only padding", values: []string{"Bearer =="}, err: token.ErrInvalid},
		{name: "padding in the middle", values: []string{"Bearer a=b"}, err: token.ErrInvalid},
		{name: "non-ASCII", values: []string{"Bearer tökén"}, err: token.ErrInvalid},
		{name: "NUL", values: []string{"Bearer a\x00b"}, err: token.ErrInvalid},
		{name: "auth-param syntax", values: []string{"Bearer token=abc"}, err: token.ErrInvalid},
		{name: "two headers", values: []string{"Bearer a", "Bearer b"}, err: token.ErrInvalid},
	}
	for _, tt := range tests {
		h := http.Header{}
		for _, v := range tt.values {
			h.Add("Authorization", v)
		}
		got, err := bearerToken(h)
		if tt.err == nil {
			if err != nil || got != tt.want {
				t.Errorf("bearerToken(%s) = %q, %v; want %q", tt.name, got, err, tt.want)
			}
			continue
		}
		if !errors.Is(err, tt.err) || !errors.Is(err, ErrUnauthenticated) {
			t.Errorf("bearerToken(%s) = %q, %v; want %v", tt.name, got, err, tt.err)
		}
	}
}

func TestCheck(t *testing.T) {
	k := mustGenerate(t, token.EdDSA)
	iss := newFakeIssuer(t, k)
	v := mustNew(t, iss.url)
	r := httptest.NewRequest("GET", "/", nil)
	if _, err := v.Check(r); !errors.Is(err, ErrNoToken) {
		t.Errorf("Check(no header) = %v, want ErrNoToken", err)
	}
	r.Header.Set("Authorization", "Bearer "+sign(t, k, claims(iss.url, time.Now())))
	if c, err := v.Check(r); err != nil || c.Name != "admin" {
		t.Errorf("Check(valid) = %+v, %v", c, err)
	}
	r.Header.Set("Authorization", "Bearer "+strings.Repeat("a", token.MaxLen+1))
	if _, err := v.Check(r); !errors.Is(err, token.ErrTooLarge) {
		t.Errorf("Check(oversized) = %v, want ErrTooLarge", err)
	}
}
