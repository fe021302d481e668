// Package mail delivers jwtgate's emails: messages are checked and stored
// in the outbox (jwtgate.OutboxStore) inside the request that causes them,
// and a sender loop hands them to an SMTP server with retries and backoff.
// A down or slow SMTP server therefore never blocks a request, and a crash
// loses no email that a request acknowledged.
package mail

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/jwtgate/jwtgate"
)

// CheckAddress validates one recipient address: jwtgate.CheckEmail.
func CheckAddress(addr string) (string, error) { return jwtgate.CheckEmail(addr) }

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

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

// check validates m before it is stored.
func (m *Message) check() error {
	to, err := CheckAddress(m.To)
	if err != nil {
		return err
	}
	m.To = to
	if m.Subject == "" || strings.ContainsFunc(m.Subject, isControl) || !utf8.ValidString(m.Subject) {
		return fmt.Errorf("%w: subject empty, or with control characters or invalid UTF-8", jwtgate.ErrInvalid)
	}
	if m.Text == "" || !utf8.ValidString(m.Text) || !utf8.ValidString(m.HTML) {
		return fmt.Errorf("%w: text body empty, or a body with invalid UTF-8", jwtgate.ErrInvalid)
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
