package mail

import "testing"

func TestMessageCheck(t *testing.T) {
	ok := Message{To: "a@example.test", Subject: "Verify your email", Text: "Hello"}
	tests := []struct {
		name string
		edit func(*Message)
		ok   bool
	}{
		{name: "valid", edit: func(*Message) {}, ok: true},
		{name: "with html", edit: func(m *Message) { m.HTML = "<p>Hello</p>" }, ok: true},
		{name: "subject CRLF", edit: func(m *Message) { m.Subject = "Hi\r\nBcc: evil@example.test" }},
		{name: "empty subject", edit: func(m *Message) { m.Subject = "" }},
		{name: "empty text", edit: func(m *Message) { m.Text = "" }},
		{name: "bad recipient", edit: func(m *Message) { m.To = "nope" }},
		{name: "invalid UTF-8 html", edit: func(m *Message) { m.HTML = "\xff" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := ok
			tt.edit(&m)
			err := m.check()
			if tt.ok != (err == nil) {
				t.Errorf("check(%+v) = %v, want ok=%v", m, err, tt.ok)
			}
		})
	}
}
