package postgres

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
)

// TestOpenErrorsHideSecrets opens what cannot be opened, with the password
// in every place a connection string can hold one, and checks the error:
// one line, naming the failure, without the password in any spelling, and
// marked jwtgate.ErrInvalid exactly when the string itself is at fault.
// None of these needs a server.
func TestOpenErrorsHideSecrets(t *testing.T) {
	tests := []struct {
		name        string
		url         string
		secrets     []string // none may appear in the error
		wantInvalid bool
		wantIn      string // the error should say this
	}{
		{name: "unreachable", url: "postgres://jg:s3cr3t-pw@127.0.0.1:1/test?sslmode=disable",
			secrets: []string{"s3cr3t-pw"}, wantIn: "jg@127.0.0.1:1/test"},
		{name: "unreachable, password in query", url: "postgres://jg@127.0.0.1:1/test?sslmode=disable&password=s3cr3t-pw",
			secrets: []string{"s3cr3t-pw"}, wantIn: "127.0.0.1:1"},
		{name: "bad port", url: "postgres://jg:s3cr3t-pw@127.0.0.1:port/test",
			secrets: []string{"s3cr3t-pw"}, wantInvalid: true},
		{name: "unescaped characters", url: "postgres://jg:s3cr/3t@pw@127.0.0.1:x/test",
			secrets: []string{"s3cr/3t@pw", "s3cr/3t", "3t@pw", "@pw"}, wantInvalid: true, wantIn: "invalid port"},
		{name: "escaped password, bad pool setting", url: "postgres://jg:s3cr%2F3t%40pw@127.0.0.1/test?pool_max_conns=many",
			secrets: []string{"s3cr%2F3t%40pw", "s3cr/3t@pw"}, wantInvalid: true, wantIn: "pool_max_conns"},
		{name: "keyword/value", url: "host=127.0.0.1 port=x user=jg password='s3cr3t pw'",
			secrets: []string{"s3cr3t pw"}, wantInvalid: true},
		{name: "sslpassword", url: "postgres://jg@127.0.0.1:x/test?sslpassword=s3cr3t-pw",
			secrets: []string{"s3cr3t-pw"}, wantInvalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			db, err := Open(ctx, tt.url)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%s) = nil, want an error", tt.name)
			}
			msg := err.Error()
			for _, s := range tt.secrets {
				if strings.Contains(msg, s) {
					t.Errorf("Open(%s) error %q holds the secret %q", tt.name, msg, s)
				}
			}
			if strings.ContainsAny(msg, "\r\n") {
				t.Errorf("Open(%s) error %q is more than one line", tt.name, msg)
			}
			if !strings.HasPrefix(msg, "postgres: open") || !strings.Contains(msg, tt.wantIn) {
				t.Errorf("Open(%s) error %q, want it to start %q and hold %q", tt.name, msg, "postgres: open", tt.wantIn)
			}
			if got := errors.Is(err, jwtgate.ErrInvalid); got != tt.wantInvalid {
				t.Errorf("errors.Is(Open(%s) error %q, ErrInvalid) = %t, want %t", tt.name, msg, got, tt.wantInvalid)
			}
		})
	}
}

// TestOpenRefused checks that what the server refuses about the URL (its
// database, its schema) is reported as the URL's fault.
func TestOpenRefused(t *testing.T) {
	base, err := url.Parse(serverURL(t))
	if err != nil {
		t.Fatal(err)
	}
	noDB := *base
	noDB.Path = "/jg_no_such_database"
	noSchema := *base
	q := noSchema.Query()
	q.Set("search_path", "jg_no_such_schema")
	noSchema.RawQuery = q.Encode()
	for _, u := range []*url.URL{&noDB, &noSchema} {
		db, err := Open(t.Context(), u.String())
		if err == nil {
			db.Close()
			t.Errorf("Open(%s) = nil, want an error", u.Redacted())
			continue
		}
		if !errors.Is(err, jwtgate.ErrInvalid) {
			t.Errorf("Open(%s) = %v, want ErrInvalid", u.Redacted(), err)
		}
	}
}

func TestSecretsOf(t *testing.T) {
	tests := []struct {
		conn string
		want []string // each must be among the secrets found
	}{
		{conn: "postgres://u:p%40ss@h/db", want: []string{"p%40ss", "p@ss"}},
		{conn: "postgresql://u:a@b@h/db", want: []string{"a", "a@b"}},
		{conn: "postgres://h/db?sslmode=disable&password=x%26y", want: []string{"x%26y", "x&y"}},
		{conn: "user=u password=plain host=h", want: []string{"plain"}},
		{conn: `user=u password='with space' host=h`, want: []string{"with space"}},
	}
	for _, tt := range tests {
		got := secretsOf(tt.conn)
		for _, w := range tt.want {
			found := false
			for _, g := range got {
				found = found || g == w
			}
			if !found {
				t.Errorf("secretsOf(%q) = %q, want it to hold %q", tt.conn, got, w)
			}
		}
	}
	if got := secretsOf("postgres://u@h/db?sslmode=disable"); len(got) != 0 {
		t.Errorf("secretsOf(no password) = %q, want none", got)
	}
}
