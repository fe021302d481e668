package mfa

import (
	"crypto/rand"
	"crypto/sha256"
	"strings"
)

// RecoveryCodes is how many recovery codes a user gets at a time.
const RecoveryCodes = 10

// recoveryAlphabet leaves out letters and digits people confuse (0/o,
// 1/l/i), so a code read off paper types right.
const recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// recoveryLen is the number of random characters: 12 of 31 symbols are
// about 59 bits, far beyond guessing under the login throttle, which is
// why a fast hash (SHA-256) is enough to store them.
const recoveryLen = 12

// NewRecoveryCodes returns RecoveryCodes fresh codes, shown as
// xxxx-xxxx-xxxx, and the hashes to store.
func NewRecoveryCodes() (codes []string, hashes [][]byte) {
	for range RecoveryCodes {
		b := make([]byte, recoveryLen)
		for i := range b {
			b[i] = recoveryAlphabet[randIndex(len(recoveryAlphabet))]
		}
		c := string(b[:4]) + "-" + string(b[4:8]) + "-" + string(b[8:])
		codes = append(codes, c)
		hashes = append(hashes, HashRecoveryCode(c))
	}
	return codes, hashes
}

// randIndex returns a uniform random number in [0, n) (n < 256), by
// rejection so no symbol is more likely than another.
func randIndex(n int) int {
	limit := 256 - 256%n
	var b [1]byte
	for {
		_, _ = rand.Read(b[:])
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}

// NormalizeRecoveryCode folds what a person may type differently (case,
// dashes, spaces) and reports whether the rest has the shape of a code.
func NormalizeRecoveryCode(code string) (string, bool) {
	if len(code) > 64 {
		return "", false
	}
	var b strings.Builder
	for _, r := range strings.ToLower(code) {
		switch {
		case r == '-' || r == ' ':
		case strings.ContainsRune(recoveryAlphabet, r):
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	if b.Len() != recoveryLen {
		return "", false
	}
	return b.String(), true
}

// HashRecoveryCode is what the store keeps of a code.
func HashRecoveryCode(code string) []byte {
	n, _ := NormalizeRecoveryCode(code)
	h := sha256.Sum256([]byte("jwtgate-recovery\x00" + n))
	return h[:]
}
