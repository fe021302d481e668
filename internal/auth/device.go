package auth

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"

	"github.com/jwtgate/jwtgate"
)

// Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device
// Cookies"): a successful login gives the browser a cookie that proves it
// has logged in to this account before. Attempts that carry it are
// throttled on the device's own key instead of the account's, so that a
// stranger's failures cannot lock the owner's known browsers out.
//
// A cookie is "ID.MAC": ID is 128 random bits, MAC the HMAC-SHA256 of the
// folded account name and ID under a server secret kept in the store
// (sealed like the signing keys), so every instance accepts it and nobody
// can forge one, or move one to another account. The cookie does not name
// the account: the login request does. It is issued afresh on every
// successful login; it carries no session and grants nothing but a separate
// failure budget.

// deviceIDLen is the length of a device cookie's ID (16 bytes, base64url).
const deviceIDLen = 22

// deviceMAC returns the MAC of a device cookie for the account name and id.
func (s *Service) deviceMAC(name, id string) string {
	m := hmac.New(sha256.New, s.deviceKey)
	m.Write([]byte("jwtgate device cookie v1\x00"))
	m.Write([]byte(jwtgate.NameKey(name)))
	m.Write([]byte{0})
	m.Write([]byte(id))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// newDeviceCookie returns a fresh device cookie value for the account name.
func (s *Service) newDeviceCookie(name string) string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := base64.RawURLEncoding.EncodeToString(b[:])
	return id + "." + s.deviceMAC(name, id)
}

// deviceID returns the ID of cookie if it is a valid device cookie for the
// account name, or "".
func (s *Service) deviceID(name, cookie string) string {
	if s.deviceKey == nil || cookie == "" {
		return ""
	}
	id, mac, ok := strings.Cut(cookie, ".")
	if !ok || len(id) != deviceIDLen {
		return ""
	}
	if !hmac.Equal([]byte(mac), []byte(s.deviceMAC(name, id))) {
		return ""
	}
	return id
}
