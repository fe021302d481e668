package seal

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"testing"
)

func newKey(t *testing.T) string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func TestSealOpen(t *testing.T) {
	s, err := Parse(newKey(t))
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte{0x30, 0x2e, 1, 2, 3}
	sealed := s.Seal(plain, []byte("kid-1"))
	if bytes.Contains(sealed, plain) {
		t.Fatal("sealed value contains the plain text")
	}
	got, err := s.Open(sealed, []byte("kid-1"))
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open = %x, %v; want %x", got, err, plain)
	}
	if _, err := s.Open(sealed, []byte("kid-2")); err == nil {
		t.Error("Open with another record's aad succeeded")
	}
	other, _ := Parse(newKey(t))
	if _, err := other.Open(sealed, []byte("kid-1")); err == nil {
		t.Error("Open with another key succeeded")
	}
	tampered := append([]byte{}, sealed...)
	tampered[len(tampered)-1] ^= 1
	if _, err := s.Open(tampered, []byte("kid-1")); err == nil {
		t.Error("Open of a tampered value succeeded")
	}
	var none *Sealer
	if _, err := none.Open(sealed, []byte("kid-1")); !errors.Is(err, ErrNoKey) {
		t.Errorf("nil Sealer Open(sealed) = %v, want ErrNoKey", err)
	}
	// Values stored before sealing was configured stay readable.
	if got, err := s.Open(plain, nil); err != nil || !bytes.Equal(got, plain) {
		t.Errorf("Open(plain) = %x, %v", got, err)
	}
	if got := none.Seal(plain, nil); !bytes.Equal(got, plain) {
		t.Errorf("nil Sealer Seal = %x, want plain", got)
	}
}

func TestParse(t *testing.T) {
	raw := make([]byte, 32)
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{base64.StdEncoding.EncodeToString(raw), true},
		{base64.RawURLEncoding.EncodeToString(raw), true},
		{" " + base64.StdEncoding.EncodeToString(raw) + "\n", true},
		{base64.StdEncoding.EncodeToString(raw[:16]), false},
		{"not base64 at all!", false},
		{"", false},
	} {
		if _, err := Parse(tt.in); (err == nil) != tt.ok {
			t.Errorf("Parse(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}
