// Package seal encrypts server secrets at rest (private signing keys, the
// refresh-token HMAC key) with AES-256-GCM under a key-encryption key the
// operator supplies, so a copy of the database alone yields no signing key.
package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// prefix marks sealed values. Plain values (PKCS#8 DER, raw secrets) never
// start with it.
var prefix = []byte("jgs1")

// ErrNoKey means a sealed value was found but no key-encryption key is set.
var ErrNoKey = errors.New("seal: value is sealed but no key-encryption key is configured (JWTGATE_KEY_ENCRYPTION_KEY)")

// Sealer seals and opens values. A nil *Sealer stores values in plain and
// refuses to open sealed ones. Safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// Parse builds a Sealer from the operator's key: 32 bytes, base64 encoded
// (standard or URL alphabet, padded or not), e.g. from `openssl rand -base64 32`.
func Parse(encoded string) (*Sealer, error) {
	encoded = strings.TrimSpace(encoded)
	var key []byte
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(encoded); err == nil {
			key = k
			break
		}
	}
	if len(key) != 32 {
		return nil, errors.New("seal: key-encryption key must be 32 bytes, base64-encoded (openssl rand -base64 32)")
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plain, binding it to aad (the record's id, so a sealed
// value cannot be moved to another record). A nil Sealer returns plain.
func (s *Sealer) Seal(plain, aad []byte) []byte {
	if s == nil {
		return plain
	}
	nonce := make([]byte, s.aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := append(append([]byte{}, prefix...), nonce...)
	return s.aead.Seal(out, nonce, plain, aad)
}

// Open returns the plain value of v: v itself if it was never sealed, else
// its decryption. It fails with ErrNoKey if v is sealed and s is nil, and
// with an error if v was sealed under another key or altered.
func (s *Sealer) Open(v, aad []byte) ([]byte, error) {
	if !bytes.HasPrefix(v, prefix) {
		return v, nil
	}
	if s == nil {
		return nil, ErrNoKey
	}
	rest := v[len(prefix):]
	if len(rest) < s.aead.NonceSize() {
		return nil, errors.New("seal: sealed value is truncated")
	}
	plain, err := s.aead.Open(nil, rest[:s.aead.NonceSize()], rest[s.aead.NonceSize():], aad)
	if err != nil {
		return nil, errors.New("seal: cannot open sealed value: wrong key-encryption key or corrupted data")
	}
	return plain, nil
}
