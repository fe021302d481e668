// Package mail delivers jwtgate's emails: messages are checked and stored
// in the outbox (jwtgate.OutboxStore) inside the request that causes them,
// and a sender loop hands them to an SMTP server with retries and backoff.
// A down or slow SMTP server therefore never blocks a request, and a crash
// loses no email that a request acknowledged.
package mail

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// ErrInvalid wraps every reason a message is refused before it is stored.
var ErrInvalid = errors.New("mail: invalid message")

// MaxAddressLen is the longest address accepted (RFC 5321's path limit, 256
// octets with the angle brackets).
const MaxAddressLen = 254

// Message is one email to one recipient. Text is required; HTML is
// optional and is sent as the alternative part. Both come from jwtgate's own
// templates: user-controlled values must be escaped by the template, never
// pasted in as markup.
type Message struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html,omitempty"`
}

// CheckAddress reports whether addr is one plain address (no display name,
// no group, no comments) that can go in a header unchanged: no CR, LF or
// other control characters, valid UTF-8, at most MaxAddressLen bytes. It
// returns addr with its domain lower-cased, as jwtgate stores addresses.
func CheckAddress(addr string) (string, error) {
	if addr == "" {
		return "", fmt.Errorf("%w: empty address", ErrInvalid)
	}
	if len(addr) > MaxAddressLen {
		return "", fmt.Errorf("%w: address longer than %d bytes", ErrInvalid, MaxAddressLen)
	}
	if !utf8.ValidString(addr) || strings.ContainsFunc(addr, isControl) {
		return "", fmt.Errorf("%w: address has control characters or invalid UTF-8", ErrInvalid)
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != addr {
		return "", fmt.Errorf("%w: %q is not a plain email address", ErrInvalid, addr)
	}
	at := strings.LastIndexByte(addr, '@')
	return addr[:at] + "@" + strings.ToLower(addr[at+1:]), nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// check validates m before it is stored.
func (m *Message) check() error {
	to, err := CheckAddress(m.To)
	if err != nil {
		return err
	}
	m.To = to
	if m.Subject == "" || strings.ContainsFunc(m.Subject, isControl) || !utf8.ValidString(m.Subject) {
		return fmt.Errorf("%w: subject empty, or with control characters or invalid UTF-8", ErrInvalid)
	}
	if m.Text == "" || !utf8.ValidString(m.Text) || !utf8.ValidString(m.HTML) {
		return fmt.Errorf("%w: text body empty, or a body with invalid UTF-8", ErrInvalid)
	}
	return nil
}

// encode and decode are the message's form inside the outbox's sealed body.
func (m *Message) encode() ([]byte, error) { return json.Marshal(m) }

func decode(b []byte) (*Message, error) {
	var m Message
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("mail: stored message: %w", err)
	}
	return &m, nil
}
