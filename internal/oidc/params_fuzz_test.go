package oidc_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/jwtgate/jwtgate/internal/oidc"
)

// FuzzCheckParams: whatever CheckParams accepts has each parameter once,
// within the size bounds, and valid UTF-8; whatever it refuses wraps
// ErrBadParams.
func FuzzCheckParams(f *testing.F) {
	for _, seed := range []string{
		"response_type=code&client_id=a&redirect_uri=https%3A%2F%2Fa.test%2F",
		"response_type=code&client_id=a&prompt=none&id_token_hint=eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2ln",
		"id_token_hint=a&id_token_hint=b", "id_token_hint=" + string(make([]byte, 2100)),
		"client_id=a&client_id=b", "state=%ff", "state=a%00b", "a=1&a=1", "", "x=" + string(make([]byte, 3000)),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		form, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		err = oidc.CheckParams(form)
		if err != nil {
			if !errors.Is(err, oidc.ErrBadParams) {
				t.Fatalf("CheckParams(%q) = %v, want ErrBadParams", raw, err)
			}
			return
		}
		if len(form) > oidc.MaxParams {
			t.Fatalf("CheckParams(%q) accepted %d parameters", raw, len(form))
		}
		total := 0
		for k, v := range form {
			if len(v) != 1 {
				t.Fatalf("CheckParams(%q) accepted %d values of %q", raw, len(v), k)
			}
			if len(v[0]) > oidc.MaxParamBytes {
				t.Fatalf("CheckParams(%q) accepted a value of %d bytes", raw, len(v[0]))
			}
			total += len(k) + len(v[0])
		}
		if total > oidc.MaxTotalBytes {
			t.Fatalf("CheckParams(%q) accepted %d bytes", raw, total)
		}
	})
}
