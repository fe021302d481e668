package passkey_test

import (
	"errors"
	"testing"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/passkey"
)

// FuzzFinishLogin feeds arbitrary bytes as the browser's answer to a real
// ceremony: every answer that is not a valid assertion must be refused
// with ErrInvalid or ErrRefused (a clear 4xx), never panic, and never
// count as a login.
func FuzzFinishLogin(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `null`, `[]`, `{"id":"","type":"public-key"}`,
		`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"","signature":""}}`,
		`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0","authenticatorData":"AAAA","signature":"MEUCIQ","userHandle":"AAAAAAAAAAE"}}`,
		"\xff\xfe", `{"response":{"attestationObject":"o2NmbXRkbm9uZQ"}}`,
	} {
		f.Add([]byte(seed))
	}
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		id, _, err := e.svc.BeginPasswordless(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		r, err := e.svc.FinishLogin(t.Context(), 0, id, body)
		if err == nil {
			t.Fatalf("FinishLogin(%q) signed in %+v", body, r.User)
		}
		if !errors.Is(err, jwtgate.ErrInvalid) && !errors.Is(err, passkey.ErrRefused) {
			t.Fatalf("FinishLogin(%q) = %v, want ErrInvalid or ErrRefused", body, err)
		}
	})
}

// FuzzFinishRegistration feeds arbitrary bytes as the browser's answer to
// a real registration: anything but a valid attestation for this relying
// party is refused with ErrInvalid or ErrRefused (a clear 4xx), and no
// credential is stored.
func FuzzFinishRegistration(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `null`, `{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"AAAA"}}`,
		`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIn0","attestationObject":"o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YUA"}}`,
		`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"v_8A"}}`,
		"\xff\xfe",
	} {
		f.Add([]byte(seed))
	}
	e := newEnv(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		id, _, err := e.svc.BeginRegistration(t.Context(), e.alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		c, err := e.svc.FinishRegistration(t.Context(), e.alice.ID, id, "fuzz", body)
		if err == nil {
			t.Fatalf("FinishRegistration(%q) stored %x", body, c.ID)
		}
		if !errors.Is(err, jwtgate.ErrInvalid) && !errors.Is(err, passkey.ErrRefused) {
			t.Fatalf("FinishRegistration(%q) = %v, want ErrInvalid or ErrRefused", body, err)
		}
		if list, err := e.svc.List(t.Context(), e.alice.ID); err != nil || len(list) != 0 {
			t.Fatalf("after a refused registration alice has %d passkeys (%v)", len(list), err)
		}
	})
}
