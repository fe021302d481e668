package testkit

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// TOTP computes the code an authenticator app shows at t for an otpauth://
// URI, written here from RFC 6238 and RFC 4226 with crypto/hmac, apart
// from the server's implementation, so a test checks the server against
// the RFCs rather than against itself. It honours the URI's algorithm
// (SHA1 only), digits and period, and errs on anything else.
func TOTP(uri string, t time.Time) (string, error) {
	secret, period, digits, err := parseOTPAuth(uri)
	if err != nil {
		return "", err
	}
	return hotp(secret, uint64(t.Unix()/period), digits), nil
}

// TOTPStep is TOTP for a step away from t's: -1 is the code of the 30
// seconds before, +1 of the 30 seconds after.
func TOTPStep(uri string, t time.Time, steps int) (string, error) {
	_, period, _, err := parseOTPAuth(uri)
	if err != nil {
		return "", err
	}
	return TOTP(uri, t.Add(time.Duration(int64(steps)*period)*time.Second))
}

func parseOTPAuth(uri string) (secret []byte, period int64, digits int, err error) {
	u, err := url.Parse(uri)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("otpauth uri: %w", err)
	}
	if u.Scheme != "otpauth" || u.Host != "totp" {
		return nil, 0, 0, fmt.Errorf("otpauth uri: %q is not otpauth://totp/", uri)
	}
	q := u.Query()
	if a := q.Get("algorithm"); a != "" && !strings.EqualFold(a, "SHA1") {
		return nil, 0, 0, fmt.Errorf("otpauth uri: algorithm %q, want SHA1", a)
	}
	period, digits = 30, 6
	if p := q.Get("period"); p != "" {
		if period, err = strconv.ParseInt(p, 10, 64); err != nil || period <= 0 {
			return nil, 0, 0, fmt.Errorf("otpauth uri: period %q", p)
		}
	}
	if d := q.Get("digits"); d != "" {
		if digits, err = strconv.Atoi(d); err != nil || digits < 6 || digits > 8 {
			return nil, 0, 0, fmt.Errorf("otpauth uri: digits %q", d)
		}
	}
	s := strings.ToUpper(strings.TrimRight(q.Get("secret"), "="))
	secret, err = base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if err != nil || len(secret) == 0 {
		return nil, 0, 0, fmt.Errorf("otpauth uri: secret: %v", err)
	}
	return secret, period, digits, nil
}

// hotp is RFC 4226 section 5.3: HMAC-SHA-1 of the counter, dynamic
// truncation, modulo 10^digits, zero-padded.
func hotp(secret []byte, counter uint64, digits int) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	m := hmac.New(sha1.New, secret)
	m.Write(msg[:])
	sum := m.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	bin := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, bin%mod)
}
