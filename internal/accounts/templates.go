package accounts

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	texttemplate "text/template"
	"time"

	"github.com/jwtgate/jwtgate/internal/mail"
)

//go:embed templates/*.tmpl
var templateFS embed.FS

// The kinds of email jwtgate sends, each a text and an HTML template under
// templates/ and a subject here.
const (
	kindVerify          = "verify"
	kindReset           = "reset"
	kindPasswordChanged = "password_changed"
	kindInvite          = "invite"
	kindEmailChanged    = "email_changed"
)

var subjects = map[string]string{
	kindVerify:          "Confirm your email address",
	kindReset:           "Reset your password",
	kindPasswordChanged: "Your password was reset",
	kindInvite:          "You are invited",
	kindEmailChanged:    "Your email address was changed",
}

// emailData is what a template may show. Name and Email come from users,
// so the HTML templates escape them (html/template); the text templates
// show them as they are, and names and addresses hold no control
// characters (jwtgate.ValidateName, jwtgate.CheckEmail).
type emailData struct {
	Subject string
	Site    string // the public URL's host
	Name    string
	Email   string
	Link    string
	TTL     string
}

// templates holds every kind's parsed templates, parsed once at start.
type templates struct {
	text map[string]*texttemplate.Template
	html map[string]*htmltemplate.Template
}

func parseTemplates() (*templates, error) {
	t := &templates{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	for kind := range subjects {
		tt, err := texttemplate.ParseFS(templateFS, "templates/"+kind+".txt.tmpl")
		if err != nil {
			return nil, fmt.Errorf("accounts: email template %s: %w", kind, err)
		}
		ht, err := htmltemplate.ParseFS(templateFS, "templates/layout.html.tmpl", "templates/"+kind+".html.tmpl")
		if err != nil {
			return nil, fmt.Errorf("accounts: email template %s: %w", kind, err)
		}
		t.text[kind], t.html[kind] = tt.Option("missingkey=error"), ht.Option("missingkey=error")
	}
	return t, nil
}

// render builds the message of kind for to.
func (t *templates) render(kind, to string, d emailData) (mail.Message, error) {
	d.Subject = subjects[kind]
	var text, html bytes.Buffer
	if err := t.text[kind].Execute(&text, d); err != nil {
		return mail.Message{}, fmt.Errorf("accounts: render %s email: %w", kind, err)
	}
	if err := t.html[kind].ExecuteTemplate(&html, "layout", d); err != nil {
		return mail.Message{}, fmt.Errorf("accounts: render %s email: %w", kind, err)
	}
	return mail.Message{To: to, Subject: d.Subject, Text: text.String(), HTML: html.String()}, nil
}

// humanTTL says a lifetime the way an email should: "30 minutes", "24 hours", "3 days".
func humanTTL(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	case d >= 2*time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%d hours", d/time.Hour)
	case d == time.Hour:
		return "1 hour"
	default:
		return fmt.Sprintf("%d minutes", (d+time.Minute-1)/time.Minute)
	}
}
