// Package password hashes and checks passwords with argon2id, encoded as PHC
// strings so that parameters can change over time: a hash made with older
// (or bcrypt) parameters still verifies, and Check says it should be
// rehashed.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // iterations
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// OWASP is the OWASP Password Storage Cheat Sheet's first argon2id
// configuration: m=19 MiB, t=2, p=1. Each hash costs 19 MiB while it runs,
// which is why callers bound hashing concurrency.
var OWASP = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// ErrMalformed means a stored hash could not be parsed.
var ErrMalformed = errors.New("password: malformed hash")

// Limits on parameters read from a stored hash, so a corrupted or hostile
// row cannot make one check allocate gigabytes or loop for minutes.
const (
	maxMemory     = 1 << 18 // KiB (256 MiB, 13× OWASP's minimum)
	maxTime       = 16
	maxBcryptCost = 14
	maxKeyLen     = 128
	maxSaltLen    = 64
)

// Validate checks that p can hash: within the bounds a stored hash may
// have, with a salt of at least 8 bytes and a key of at least 16.
func Validate(p Params) error {
	if p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory || p.Time < 1 || p.Time > maxTime ||
		p.Threads < 1 || p.SaltLen < 8 || p.SaltLen > maxSaltLen || p.KeyLen < 16 || p.KeyLen > maxKeyLen {
		return fmt.Errorf("password: argon2id parameters %+v out of range", p)
	}
	return nil
}

// Hash returns the PHC string of pw under p:
// $argon2id$v=19$m=19456,t=2,p=1$<salt>$<key> (unpadded standard base64).
func Hash(pw string, p Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return encode(p, salt, key), nil
}

// Check reports whether pw matches the encoded hash, and whether the hash
// should be replaced because it was made with parameters other than want
// (or with bcrypt). The comparison is constant-time. A malformed hash is an
// error wrapping ErrMalformed, never a match.
func Check(encoded, pw string, want Params) (ok, rehash bool, err error) {
	if strings.HasPrefix(encoded, "$2a$") || strings.HasPrefix(encoded, "$2b$") || strings.HasPrefix(encoded, "$2y$") {
		// bcrypt's cost is exponential: cost 31 would run for days.
		if cost, err := bcrypt.Cost([]byte(encoded)); err != nil || cost > maxBcryptCost {
			return false, false, fmt.Errorf("%w: bcrypt cost out of range", ErrMalformed)
		}
		err := bcrypt.CompareHashAndPassword([]byte(encoded), []byte(pw))
		switch {
		case err == nil:
			return true, true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, false, nil
		default:
			return false, false, fmt.Errorf("%w: bcrypt: %v", ErrMalformed, err)
		}
	}
	p, salt, key, err := decode(encoded)
	if err != nil {
		return false, false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	ok = subtle.ConstantTimeCompare(got, key) == 1
	rehash = p.Memory != want.Memory || p.Time != want.Time || p.Threads != want.Threads ||
		uint32(len(key)) != want.KeyLen || uint32(len(salt)) != want.SaltLen
	return ok, rehash, nil
}

// Dummy returns a well-formed hash under p that no password is known to
// match (an all-zero key). Checking a password against it costs exactly
// what checking against a real hash does, which is what makes an unknown
// user as slow as a wrong password, and it needs no hashing to make.
func Dummy(p Params) string {
	return encode(p, make([]byte, p.SaltLen), make([]byte, p.KeyLen))
}

// encode renders parameters, salt and key as a PHC string.
func encode(p Params, salt, key []byte) string {
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// decode parses an argon2id PHC string.
func decode(s string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: not an argon2id PHC string", ErrMalformed)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: unsupported argon2 version %q", ErrMalformed, parts[2])
	}
	var m, t, th uint64
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, found := strings.Cut(kv, "=")
		if !found {
			return p, nil, nil, fmt.Errorf("%w: parameter %q", ErrMalformed, kv)
		}
		n, perr := strconv.ParseUint(v, 10, 32)
		if perr != nil {
			return p, nil, nil, fmt.Errorf("%w: parameter %q", ErrMalformed, kv)
		}
		switch k {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			th = n
		default:
			return p, nil, nil, fmt.Errorf("%w: unknown parameter %q", ErrMalformed, k)
		}
	}
	if m < 8 || m > maxMemory || t < 1 || t > maxTime || th < 1 || th > 255 || m < 8*th {
		return p, nil, nil, fmt.Errorf("%w: parameters out of range", ErrMalformed)
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 || len(salt) > maxSaltLen {
		return p, nil, nil, fmt.Errorf("%w: salt", ErrMalformed)
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > maxKeyLen {
		return p, nil, nil, fmt.Errorf("%w: key", ErrMalformed)
	}
	return Params{Memory: uint32(m), Time: uint32(t), Threads: uint8(th), SaltLen: uint32(len(salt)), KeyLen: uint32(len(key))}, salt, key, nil
}
