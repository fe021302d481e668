package postgres

import (
	"cmp"
	"errors"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jwtgate/jwtgate"
)

// openFailure is an error from Open. Its text is its cause's on one line,
// with every secret of the connection string masked: Open's errors end up
// in logs and on terminals, and pgx's can quote the connection string
// (pgx masks passwords itself, on a best-effort basis for strings that do
// not parse; this is a second pass that does not depend on it).
type openFailure struct {
	msg     string
	cause   error
	invalid bool // the URL is at fault; see urlAtFault
}

func (e *openFailure) Error() string { return e.msg }

// Unwrap returns the cause, unmasked, for errors.Is and errors.As (a
// context deadline, a *pgconn.PgError). Print e, not its cause.
func (e *openFailure) Unwrap() error { return e.cause }

// Is makes errors.Is(e, jwtgate.ErrInvalid) report whether the URL is at
// fault, without that sentinel's text in the message.
func (e *openFailure) Is(target error) bool { return e.invalid && target == jwtgate.ErrInvalid }

// openError builds Open's error for a failure to open conn, the URL as
// given, naming the database as target ("" when conn did not parse).
// Passwords known otherwise (from a password file) are extra secrets.
func openError(conn, target string, err error, extra ...string) error {
	msg := "postgres: open"
	if target != "" {
		msg += " " + target
	}
	msg += ": " + oneLine(mask(withoutConnString(err), append(secretsOf(conn), extra...)))
	return &openFailure{msg: msg, cause: err, invalid: urlAtFault(err)}
}

// withoutConnString returns err's text, leaving out the connection string a
// pgconn.ParseConfigError quotes. pgx masks the password in it, but a string
// that does not parse has no certain boundaries: "u:p/q@r@h" may be masked
// as "u:xxxxxx@r@h", leaving part of the password. The caller knows which
// string it passed; what it needs is what is wrong with it.
func withoutConnString(err error) string {
	msg := err.Error()
	var pe *pgconn.ParseConfigError
	if !errors.As(err, &pe) {
		return msg
	}
	// The text is "cannot parse `CONN`: REASON", and REASON holds no "`: ".
	if i := strings.LastIndex(msg, "`: "); strings.HasPrefix(msg, "cannot parse `") && i >= 0 {
		return "cannot parse the connection string: " + msg[i+len("`: "):]
	}
	return "cannot parse the connection string"
}

// urlAtFault reports whether err means the connection string is wrong, so
// that retrying cannot help and the operator must fix the setting: it does
// not parse, or the server refused its user or password (SQLSTATE class
// 28), its database (3D000), its schema (3F000), or its user's privileges
// (42501, say to create the tables). Failures to reach the server are not:
// it may be starting.
func urlAtFault(err error) bool {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return true
	}
	code := errCode(err)
	return strings.HasPrefix(code, "28") || code == "3D000" || code == codeInvalidSchemaName || code == "42501"
}

// keywordPassword finds password=… and sslpassword=… in the keyword/value
// form of a connection string (host=h password='p q').
var keywordPassword = regexp.MustCompile(`(?i)\b(?:ssl)?password\s*=\s*('(?:[^'\\]|\\.)*'|\S*)`)

// secretsOf returns the strings in conn that may be secrets: the password of
// a URL's userinfo, password and sslpassword query values, and their
// keyword/value twins, each as written and %-decoded. It reads strings that
// do not parse too, and then errs towards finding too much: where an
// unescaped '@' makes the userinfo ambiguous it takes both readings.
func secretsOf(conn string) []string {
	var found []string
	add := func(s string) {
		if s == "" {
			return
		}
		found = append(found, s)
		if d, err := url.QueryUnescape(s); err == nil && d != s {
			found = append(found, d)
		}
		if d, err := url.PathUnescape(s); err == nil && d != s {
			found = append(found, d)
		}
	}
	rest, isURL := strings.CutPrefix(conn, "postgres://")
	if !isURL {
		rest, isURL = strings.CutPrefix(conn, "postgresql://")
	}
	if isURL {
		for _, i := range []int{strings.IndexAny(rest, "@/"), strings.LastIndexByte(rest, '@')} {
			if i >= 0 && rest[i] == '@' {
				if _, pw, ok := strings.Cut(rest[:i], ":"); ok {
					add(pw)
				}
			}
		}
		if _, query, ok := strings.Cut(rest, "?"); ok {
			for kv := range strings.SplitSeq(query, "&") {
				k, v, _ := strings.Cut(kv, "=")
				if k, err := url.QueryUnescape(k); err == nil && (k == "password" || k == "sslpassword") {
					add(v)
				}
			}
		}
	}
	for _, m := range keywordPassword.FindAllStringSubmatch(conn, -1) {
		add(m[1])
		add(strings.Trim(m[1], "'"))
	}
	return found
}

// mask replaces every secret in s with xxxxx, longest first so that a
// secret containing another is masked whole.
func mask(s string, secrets []string) string {
	secrets = slices.Clone(secrets)
	slices.SortFunc(secrets, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "xxxxx")
		}
	}
	return s
}

// oneLine joins the lines of a multi-line message (pgx lists one line per
// address tried) with "; ", so an error is one log line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	var b strings.Builder
	for line := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == '\n' || r == '\r' }) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if b.Len() > 0 {
			if strings.HasSuffix(b.String(), ":") {
				b.WriteString(" ")
			} else {
				b.WriteString("; ")
			}
		}
		b.WriteString(line)
	}
	return b.String()
}
