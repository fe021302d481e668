// Package mfa holds jwtgate's second factors: TOTP codes from an
// authenticator app (RFC 6238), single-use recovery codes, and their
// enrolment and checking rules. Each code works once, on every instance
// sharing the store: the last accepted time step is stored and advanced
// atomically (jwtgate.FactorStore.UseTOTPStep).
//
// It knows nothing of HTTP; it depends on the domain, the sealer for
// secrets at rest and the throttle for wrong codes.
package mfa

import (
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// The TOTP parameters every authenticator app accepts (RFC 6238's
// defaults, Google Authenticator's only ones): HMAC-SHA1, 6 digits,
// 30-second steps, one step of clock skew either way.
const (
	Period    = 30
	Digits    = 6
	Skew      = 1
	secretLen = 20 // bytes: RFC 4226 recommends 160 bits
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSecret makes a TOTP secret for account at issuer and returns it raw,
// with its otpauth:// URI for the authenticator app.
func NewSecret(issuer, account string) (secret []byte, uri string, err error) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: Period, SecretSize: secretLen, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, "", fmt.Errorf("mfa: new totp secret: %w", err)
	}
	secret, err = b32.DecodeString(key.Secret())
	if err != nil {
		return nil, "", fmt.Errorf("mfa: new totp secret: %w", err)
	}
	return secret, key.URL(), nil
}

// SecretText is the secret as a person types it into an app: base32.
func SecretText(secret []byte) string { return b32.EncodeToString(secret) }

// Step is the TOTP time step of t.
func Step(t time.Time) int64 { return t.Unix() / Period }

// Code returns the code of secret for time step (for tests and tools).
func Code(secret []byte, step int64) string {
	c, err := totp.GenerateCodeCustom(SecretText(secret), time.Unix(step*Period, 0), totp.ValidateOpts{Period: Period, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		panic("mfa: " + err.Error()) // only a malformed secret fails, and secrets come from NewSecret
	}
	return c
}

// ValidCode reports whether code has the shape of a TOTP code: exactly
// six ASCII digits. Unicode digits, spaces and other lengths are refused
// before any comparison.
func ValidCode(code string) bool {
	if len(code) != Digits {
		return false
	}
	for i := range len(code) {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// Match returns the time step within Skew of now whose code is code, and
// whether there is one. Steps at or before after are not considered: a
// code already used (or older than one used) never matches again. Every
// candidate is compared in constant time.
func Match(secret []byte, code string, now time.Time, after int64) (int64, bool) {
	if !ValidCode(code) {
		return 0, false
	}
	cur := Step(now)
	var found int64
	ok := false
	for step := cur - Skew; step <= cur+Skew; step++ {
		if step <= after {
			continue
		}
		if subtle.ConstantTimeCompare([]byte(Code(secret, step)), []byte(code)) == 1 && !ok {
			found, ok = step, true
		}
	}
	return found, ok
}
