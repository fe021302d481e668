package jwtgate

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxEmailLen is the longest address accepted (RFC 5321's path limit, 256
// octets with the angle brackets).
const MaxEmailLen = 254

// UserEmail is a user's email address. Addresses are optional; an address
// belongs to at most one user, compared by EmailKey.
type UserEmail struct {
	UserID     int64
	Address    string     // as CheckEmail returned it
	VerifiedAt *time.Time // nil until the user proved they receive mail there
}

// Verified reports whether the address was proven.
func (e UserEmail) Verified() bool { return e.VerifiedAt != nil }

// CheckEmail validates addr as one plain address (no display name, group
// or comment) that can go in a mail header unchanged: no control
// characters, valid UTF-8, at most MaxEmailLen bytes. It returns addr
// with its domain lower-cased, which is how addresses are stored; the
// local part is kept as typed, since only the receiving server knows what
// it means. The error wraps ErrInvalid.
func CheckEmail(addr string) (string, error) {
	switch {
	case addr == "":
		return "", fmt.Errorf("%w: email is empty", ErrInvalid)
	case len(addr) > MaxEmailLen:
		return "", fmt.Errorf("%w: email is longer than %d bytes", ErrInvalid, MaxEmailLen)
	case !utf8.ValidString(addr) || strings.ContainsFunc(addr, isControl):
		return "", fmt.Errorf("%w: email has control characters or invalid UTF-8", ErrInvalid)
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr {
		return "", fmt.Errorf("%w: email is not one plain address (name@domain)", ErrInvalid)
	}
	at := strings.LastIndexByte(addr, '@')
	return addr[:at] + "@" + strings.ToLower(addr[at+1:]), nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// EmailKey is the form of an address used for uniqueness and look-up:
// addresses are unique regardless of case, so Alice@ and alice@ cannot
// belong to two accounts. Nothing else is folded (dots, +tags): that would
// merge mailboxes that may be distinct.
func EmailKey(addr string) string { return strings.ToLower(addr) }

// EmailStore keeps users' addresses. Implementations are safe for
// concurrent use.
type EmailStore interface {
	// SetUserEmail sets e.UserID's address, replacing any. ErrConflict if
	// another user has the address (by EmailKey); ErrNotFound if there is
	// no such user.
	SetUserEmail(ctx context.Context, e UserEmail) error
	// UserEmail returns userID's address; ErrNotFound if it has none.
	UserEmail(ctx context.Context, userID int64) (*UserEmail, error)
	// UserEmailByAddress finds an address by EmailKey; ErrNotFound if none.
	UserEmailByAddress(ctx context.Context, addr string) (*UserEmail, error)
	// DeleteUserEmail removes userID's address; ErrNotFound if it has none.
	DeleteUserEmail(ctx context.Context, userID int64) error
	// UserEmails returns the addresses of the users in ids that have one.
	UserEmails(ctx context.Context, ids []int64) (map[int64]UserEmail, error)
}
