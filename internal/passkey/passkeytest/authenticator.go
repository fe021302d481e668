// Package passkeytest is a software WebAuthn authenticator for tests of
// the passkey ceremonies (internal/passkey, the HTTP routes in
// internal/server): it makes an ES256 credential and answers create() and
// get() as a browser passes an authenticator's answer on, and lets a test
// forge what a real one never would (another origin or RP ID, an old
// counter, no user verification).
package passkeytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// Authenticator holds one credential, with "none" attestation. Counter
// and Backup may be set by a test between calls.
type Authenticator struct {
	t      testing.TB
	key    *ecdsa.PrivateKey
	CredID []byte
	// UserHandle is the user handle it stored at registration (Create
	// sets it); a test may set it to claim another user.
	UserHandle []byte
	// Counter is the sign counter; Get advances it by one before signing.
	Counter uint32
	// Backup sets the BE and BS flags: a synced passkey.
	Backup bool
}

// New returns an authenticator with a fresh key and credential ID.
func New(t testing.TB) *Authenticator {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	return &Authenticator{t: t, key: key, CredID: id}
}

const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

var b64 = base64.RawURLEncoding

// options reads the challenge (and, for create, the user handle) out of
// the options JSON the server sent.
func options(t testing.TB, opts []byte) (challenge string, userHandle []byte) {
	t.Helper()
	var o struct {
		PublicKey struct {
			Challenge string `json:"challenge"`
			User      struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(opts, &o); err != nil {
		t.Fatalf("options %s: %v", opts, err)
	}
	if o.PublicKey.User.ID != "" {
		h, err := b64.DecodeString(o.PublicKey.User.ID)
		if err != nil {
			t.Fatalf("user.id %q: %v", o.PublicKey.User.ID, err)
		}
		userHandle = h
	}
	return o.PublicKey.Challenge, userHandle
}

func clientData(typ, challenge, origin string) []byte {
	b, _ := json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": origin, "crossOrigin": false})
	return b
}

func (a *Authenticator) flags(uv bool) byte {
	f := byte(flagUP)
	if uv {
		f |= flagUV
	}
	if a.Backup {
		f |= flagBE | flagBS
	}
	return f
}

func authData(rpID string, flags byte, counter uint32) []byte {
	h := sha256.Sum256([]byte(rpID))
	b := append(h[:], flags)
	return binary.BigEndian.AppendUint32(b, counter)
}

// Create answers navigator.credentials.create(opts) for origin and rpID.
func (a *Authenticator) Create(opts []byte, origin, rpID string) []byte {
	challenge, handle := options(a.t, opts)
	a.UserHandle = handle
	x, y := a.key.X.FillBytes(make([]byte, 32)), a.key.Y.FillBytes(make([]byte, 32))
	cose, err := cbor.Marshal(map[int]any{1: 2, 3: -7, -1: 1, -2: x, -3: y})
	if err != nil {
		a.t.Fatal(err)
	}
	ad := authData(rpID, a.flags(true)|flagAT, a.Counter)
	ad = append(ad, make([]byte, 16)...) // AAGUID: zero, as "none" attestation allows
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(a.CredID)))
	ad = append(ad, a.CredID...)
	ad = append(ad, cose...)
	att, err := cbor.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": ad})
	if err != nil {
		a.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.CredID), "rawId": b64.EncodeToString(a.CredID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(clientData("webauthn.create", challenge, origin)),
			"attestationObject": b64.EncodeToString(att),
			"transports":        []string{"internal"},
		},
	})
	return b
}

// Get answers navigator.credentials.get(opts), signing with the counter
// advanced by one; uv sets the user-verified flag.
func (a *Authenticator) Get(opts []byte, origin, rpID string, uv bool) []byte {
	challenge, _ := options(a.t, opts)
	a.Counter++
	ad := authData(rpID, a.flags(uv), a.Counter)
	cd := clientData("webauthn.get", challenge, origin)
	cdHash := sha256.Sum256(cd)
	digest := sha256.Sum256(append(append([]byte{}, ad...), cdHash[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, a.key, digest[:])
	if err != nil {
		a.t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{
		"id": b64.EncodeToString(a.CredID), "rawId": b64.EncodeToString(a.CredID), "type": "public-key",
		"response": map[string]any{
			"clientDataJSON":    b64.EncodeToString(cd),
			"authenticatorData": b64.EncodeToString(ad),
			"signature":         b64.EncodeToString(sig),
			"userHandle":        b64.EncodeToString(a.UserHandle),
		},
	})
	return b
}
