package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// Algorithms jwtgate signs with.
const (
	EdDSA = "EdDSA"
	ES256 = "ES256"
	RS256 = "RS256"
	HS256 = "HS256"
)

// MinSecretLen is the shortest HS256 secret accepted: RFC 7518 section 3.2
// requires a key at least as long as the hash output (256 bits).
const MinSecretLen = 32

// Key is a signing or verification key with its pinned algorithm.
type Key struct {
	ID      string // kid; empty for the shared secret
	Alg     string
	private any // ed25519.PrivateKey, *ecdsa.PrivateKey, *rsa.PrivateKey or []byte; nil for verify-only keys
	public  any // ed25519.PublicKey, *ecdsa.PublicKey, *rsa.PublicKey or []byte
	method  jwt.SigningMethod
}

// CanSign reports whether k holds a private key (or secret).
func (k *Key) CanSign() bool { return k.private != nil }

// Public returns the public key (the secret for HS256).
func (k *Key) Public() crypto.PublicKey { return k.public }

// Secret returns an HS256 key for a shared secret. It refuses secrets shorter
// than MinSecretLen bytes.
func Secret(secret []byte) (*Key, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("token: secret is %d bytes, need at least %d", len(secret), MinSecretLen)
	}
	s := append([]byte(nil), secret...)
	return &Key{Alg: HS256, private: s, public: s, method: jwt.SigningMethodHS256}, nil
}

// Generate makes a new asymmetric key for alg (EdDSA: Ed25519; ES256: P-256;
// RS256: RSA 2048) with a kid derived from its public key.
func Generate(alg string) (*Key, error) {
	var priv crypto.Signer
	var err error
	switch alg {
	case EdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	case ES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case RS256:
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	default:
		return nil, fmt.Errorf("token: unsupported signing algorithm %q (want EdDSA, ES256 or RS256)", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("token: generate %s key: %w", alg, err)
	}
	return newKey("", alg, priv, priv.Public())
}

// ParsePrivate rebuilds a key from its PKCS#8 DER private half, checking that
// the key type fits alg. An empty kid is derived from the public key.
func ParsePrivate(kid, alg string, pkcs8 []byte) (*Key, error) {
	priv, err := x509.ParsePKCS8PrivateKey(pkcs8)
	if err != nil {
		return nil, fmt.Errorf("token: parse %s private key: %w", alg, err)
	}
	s, ok := priv.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("token: %s private key of type %T cannot sign", alg, priv)
	}
	return newKey(kid, alg, s, s.Public())
}

// ParsePublic rebuilds a verify-only key from its PKIX DER public half.
func ParsePublic(kid, alg string, pkix []byte) (*Key, error) {
	pub, err := x509.ParsePKIXPublicKey(pkix)
	if err != nil {
		return nil, fmt.Errorf("token: parse %s public key: %w", alg, err)
	}
	return newKey(kid, alg, nil, pub)
}

// MarshalPrivate returns the PKCS#8 DER of k's private key.
func (k *Key) MarshalPrivate() ([]byte, error) {
	if k.private == nil || k.Alg == HS256 {
		return nil, fmt.Errorf("token: key %q has no private key to marshal", k.ID)
	}
	return x509.MarshalPKCS8PrivateKey(k.private)
}

// MarshalPublic returns the PKIX DER of k's public key.
func (k *Key) MarshalPublic() ([]byte, error) {
	if k.Alg == HS256 {
		return nil, fmt.Errorf("token: a shared secret has no public key")
	}
	return x509.MarshalPKIXPublicKey(k.public)
}

func newKey(kid, alg string, priv crypto.Signer, pub crypto.PublicKey) (*Key, error) {
	k := &Key{ID: kid, Alg: alg, public: pub}
	switch alg {
	case EdDSA:
		if _, ok := pub.(ed25519.PublicKey); !ok {
			return nil, fmt.Errorf("token: EdDSA needs an Ed25519 key, got %T", pub)
		}
		k.method = jwt.SigningMethodEdDSA
	case ES256:
		if p, ok := pub.(*ecdsa.PublicKey); !ok || p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("token: ES256 needs a P-256 key, got %T", pub)
		}
		k.method = jwt.SigningMethodES256
	case RS256:
		if p, ok := pub.(*rsa.PublicKey); !ok || p.N.BitLen() < 2048 {
			return nil, fmt.Errorf("token: RS256 needs an RSA key of at least 2048 bits, got %T", pub)
		}
		k.method = jwt.SigningMethodRS256
	default:
		return nil, fmt.Errorf("token: unsupported signing algorithm %q", alg)
	}
	if priv != nil {
		// Keep the concrete type golang-jwt expects (ed25519.PrivateKey, not *).
		k.private = priv
	}
	if k.ID == "" {
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return nil, fmt.Errorf("token: marshal public key: %w", err)
		}
		sum := sha256.Sum256(der)
		k.ID = base64.RawURLEncoding.EncodeToString(sum[:12])
	}
	return k, nil
}
