package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// writeDotenv writes content to a .env file in a new temp dir and returns
// its path.
func writeDotenv(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// testIO is a cmdIO with the given environment and .env path and no
// terminal.
func testIO(env []string, dotenv string) cmdIO {
	return cmdIO{ctx: context.Background(), env: env, dotenv: dotenv,
		stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard}
}

func TestParseDotenv(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    map[string]string
		wantErr string // substring of the error; "" means success
	}{
		{name: "empty", in: "", want: map[string]string{}},
		{name: "plain", in: "A=1\nB=two\n", want: map[string]string{"A": "1", "B": "two"}},
		{name: "no final newline", in: "A=1", want: map[string]string{"A": "1"}},
		{name: "CRLF", in: "A=1\r\nB=2\r\n", want: map[string]string{"A": "1", "B": "2"}},
		{name: "comments", in: "# a comment\nA=1\n  # indented comment\n#B=2\n", want: map[string]string{"A": "1"}},
		{name: "blank lines", in: "\n\n   \nA=1\n\t\n", want: map[string]string{"A": "1"}},
		{name: "export prefix", in: "export A=1\nexport  B=2\n", want: map[string]string{"A": "1", "B": "2"}},
		{name: "key named export", in: "export=1\n", want: map[string]string{"export": "1"}},
		{name: "spaces around", in: "  A  =  1  \n", want: map[string]string{"A": "1"}},
		{name: "empty value", in: "A=\nB=''\nC=\"\"\n", want: map[string]string{"A": "", "B": "", "C": ""}},
		{name: "single quotes", in: "A='x y'\n", want: map[string]string{"A": "x y"}},
		{name: "double quotes", in: "A=\"x y\"\n", want: map[string]string{"A": "x y"}},
		{name: "quotes keep spaces", in: "A=\"  x  \"\n", want: map[string]string{"A": "  x  "}},
		{name: "other quote inside", in: "A=\"it's\"\nB='say \"hi\"'\n", want: map[string]string{"A": "it's", "B": `say "hi"`}},
		{name: "hash inside quotes", in: "A=\"x # y\"\nB='#z'\n", want: map[string]string{"A": "x # y", "B": "#z"}},
		{name: "inline comment", in: "A=1 # the answer\nB=two  #\n", want: map[string]string{"A": "1", "B": "two"}},
		{name: "comment after quotes", in: "A=\"x\" # c\n", want: map[string]string{"A": "x"}},
		{name: "hash without space", in: "A=abc#def\n", want: map[string]string{"A": "abc#def"}},
		{name: "equals in value", in: "A=b=c\nB='x=y'\nURL=postgres://u:p@h/db?sslmode=require\n",
			want: map[string]string{"A": "b=c", "B": "x=y", "URL": "postgres://u:p@h/db?sslmode=require"}},
		{name: "later wins", in: "A=1\nA=2\n", want: map[string]string{"A": "2"}},
		{name: "tutorial's file", in: "jwt_secret=my-secret\n", want: map[string]string{"jwt_secret": "my-secret"}},

		{name: "no equals", in: "A=1\nJUSTAKEY\n", wantErr: "line 2"},
		{name: "no equals after comments", in: "# c\n\nA=1\nnope\n", wantErr: "line 4"},
		{name: "empty key", in: "=1\n", wantErr: "line 1"},
		{name: "export with empty key", in: "export =1\n", wantErr: "line 1"},
		{name: "space in key", in: "A B=1\n", wantErr: "line 1"},
		{name: "tab in key", in: "A\tB=1\n", wantErr: "line 1"},
		{name: "quote in key", in: "\"A\"=1\n", wantErr: "line 1"},
		{name: "single quote in key", in: "'A'=1\n", wantErr: "line 1"},
		{name: "unterminated double", in: "A=1\nB=\"abc\n", wantErr: "line 2: unterminated quote in B"},
		{name: "unterminated single", in: "B='abc\n", wantErr: "line 1: unterminated quote in B"},
		{name: "line too long", in: "A=" + strings.Repeat("x", 70<<10) + "\n", wantErr: "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDotenv(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseDotenv(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseDotenv(%q) error: %v", tt.in, err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("parseDotenv(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestLoadEnvironment(t *testing.T) {
	tests := []struct {
		name    string
		env     []string
		dotenv  string // .env content; "" means no file at all
		want    map[string]string
		wantErr string
	}{
		{name: "nothing", want: map[string]string{}},
		{name: "other variables pass", env: []string{"PATH=/bin", "HOME=/root", "FOO=bar"},
			want: map[string]string{"PATH": "/bin", "HOME": "/root", "FOO": "bar"}},
		{name: "known settings", env: []string{"JWTGATE_DB=sqlite:x.db", "JWTGATE_ADMIN_PASSWORD=pw", "JWTGATE_JWT_SECRET=s"},
			want: map[string]string{"JWTGATE_DB": "sqlite:x.db", "JWTGATE_ADMIN_PASSWORD": "pw", "JWTGATE_JWT_SECRET": "s"}},
		{name: "value with equals", env: []string{"JWTGATE_DB=sqlite:a=b.db"}, want: map[string]string{"JWTGATE_DB": "sqlite:a=b.db"}},
		{name: "entry without equals ignored", env: []string{"GARBAGE"}, want: map[string]string{}},
		{name: "tutorial's lower-case secret", dotenv: "jwt_secret=abc\n", want: map[string]string{"jwt_secret": "abc"}},
		{name: "tutorial's secret in env", env: []string{"jwt_secret=abc"}, want: map[string]string{"jwt_secret": "abc"}},
		{name: "process env wins over .env", env: []string{"JWTGATE_ADDR=1.2.3.4:1"},
			dotenv: "JWTGATE_ADDR=5.6.7.8:2\nJWTGATE_DB=sqlite:d.db\n",
			want:   map[string]string{"JWTGATE_ADDR": "1.2.3.4:1", "JWTGATE_DB": "sqlite:d.db"}},
		{name: "empty env value still wins", env: []string{"JWTGATE_AUDIENCE="}, dotenv: "JWTGATE_AUDIENCE=api\n",
			want: map[string]string{"JWTGATE_AUDIENCE": ""}},

		{name: "unknown in env", env: []string{"JWTGATE_FOO=1"}, wantErr: "JWTGATE_FOO"},
		{name: "unknown in .env", dotenv: "JWTGATE_FOO=1\n", wantErr: "JWTGATE_FOO"},
		{name: "unknown empty", env: []string{"JWTGATE_FOO="}, wantErr: "JWTGATE_FOO"},
		{name: "misspelt setting", env: []string{"JWTGATE_ACCESS_TTLS=1m"}, wantErr: "JWTGATE_ACCESS_TTLS"},
		{name: "malformed .env", dotenv: "A=1\nB\n", wantErr: "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), ".env") // missing unless written
			if tt.dotenv != "" {
				path = writeDotenv(t, tt.dotenv)
			}
			got, err := loadEnvironment(tt.env, path)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("loadEnvironment(%q, %q) = %v, %v; want error containing %q", tt.env, tt.dotenv, got, err, tt.wantErr)
				}
				if !errors.Is(err, errConfig) {
					t.Errorf("loadEnvironment(%q, %q) error %v does not wrap errConfig", tt.env, tt.dotenv, err)
				}
				if tt.dotenv != "" && strings.Contains(tt.wantErr, "line") && !strings.Contains(err.Error(), path) {
					t.Errorf("loadEnvironment error %q does not name the file %s", err, path)
				}
				return
			}
			if err != nil {
				t.Fatalf("loadEnvironment(%q, %q) error: %v", tt.env, tt.dotenv, err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("loadEnvironment(%q, %q) = %q, want %q", tt.env, tt.dotenv, got, tt.want)
			}
		})
	}
}

func TestLoadEnvironmentWithoutDotenv(t *testing.T) {
	got, err := loadEnvironment([]string{"JWTGATE_DB=sqlite:x.db"}, "")
	if err != nil || got["JWTGATE_DB"] != "sqlite:x.db" {
		t.Errorf(`loadEnvironment(env, "") = %v, %v; want JWTGATE_DB=sqlite:x.db`, got, err)
	}
}

func TestLoadEnvironmentUnreadableDotenv(t *testing.T) {
	dir := t.TempDir() // a directory where a file is expected
	_, err := loadEnvironment(nil, dir)
	if err == nil || !errors.Is(err, errConfig) || !strings.Contains(err.Error(), dir) {
		t.Errorf("loadEnvironment(nil, %q) = %v, want a configuration error naming it", dir, err)
	}
}

// TestServePrecedence checks the order of sources: flag, then process
// environment, then .env, then the default.
func TestServePrecedence(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		env    []string
		dotenv string
		want   time.Duration
		wantDB string
	}{
		{name: "default", want: 15 * time.Minute, wantDB: defaultDB},
		{name: ".env", dotenv: "JWTGATE_ACCESS_TTL=3m\nJWTGATE_DB=sqlite:dotenv.db\n", want: 3 * time.Minute, wantDB: "sqlite:dotenv.db"},
		{name: "env beats .env", env: []string{"JWTGATE_ACCESS_TTL=2m"}, dotenv: "JWTGATE_ACCESS_TTL=3m\nJWTGATE_DB=sqlite:dotenv.db\n",
			want: 2 * time.Minute, wantDB: "sqlite:dotenv.db"},
		{name: "flag beats env", args: []string{"--access-ttl", "1m"}, env: []string{"JWTGATE_ACCESS_TTL=2m", "JWTGATE_DB=sqlite:env.db"},
			want: time.Minute, wantDB: "sqlite:env.db"},
		{name: "flag beats env and .env", args: []string{"--access-ttl=1m", "--db=sqlite:flag.db"},
			env: []string{"JWTGATE_ACCESS_TTL=2m", "JWTGATE_DB=sqlite:env.db"}, dotenv: "JWTGATE_ACCESS_TTL=3m\nJWTGATE_DB=sqlite:dotenv.db\n",
			want: time.Minute, wantDB: "sqlite:flag.db"},
		{name: "flag equal to default still beats env", args: []string{"--access-ttl=15m"}, env: []string{"JWTGATE_ACCESS_TTL=2m"},
			want: 15 * time.Minute, wantDB: defaultDB},
		{name: "bad .env value shadowed by flag", args: []string{"--access-ttl=1m"}, dotenv: "JWTGATE_ACCESS_TTL=abc\n",
			want: time.Minute, wantDB: defaultDB},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), ".env")
			if tt.dotenv != "" {
				path = writeDotenv(t, tt.dotenv)
			}
			cfg, err := parseServe(testIO(tt.env, path), tt.args)
			if err != nil {
				t.Fatalf("parseServe(%q) with env %q, .env %q: %v", tt.args, tt.env, tt.dotenv, err)
			}
			if cfg.accessTTL != tt.want || cfg.db != tt.wantDB {
				t.Errorf("parseServe(%q) with env %q, .env %q = access-ttl %v, db %q; want %v, %q",
					tt.args, tt.env, tt.dotenv, cfg.accessTTL, cfg.db, tt.want, tt.wantDB)
			}
		})
	}
}

// TestServeSecrets checks the env-only settings and the tutorial's key.
func TestServeSecrets(t *testing.T) {
	s32 := strings.Repeat("s", 32)
	t32 := strings.Repeat("t", 32)
	tests := []struct {
		name       string
		env        []string
		dotenv     string
		wantSecret string
		wantAdmin  string
	}{
		{name: "none"},
		{name: "tutorial .env", dotenv: "jwt_secret=" + s32 + "\n", wantSecret: s32},
		{name: "JWTGATE_JWT_SECRET beats jwt_secret", env: []string{"JWTGATE_JWT_SECRET=" + t32}, dotenv: "jwt_secret=" + s32 + "\n", wantSecret: t32},
		{name: "env jwt_secret beats .env", env: []string{"jwt_secret=" + t32}, dotenv: "jwt_secret=" + s32 + "\n", wantSecret: t32},
		{name: "admin password from .env", dotenv: "JWTGATE_ADMIN_PASSWORD=hunter2hunter2\n", wantAdmin: "hunter2hunter2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), ".env")
			if tt.dotenv != "" {
				path = writeDotenv(t, tt.dotenv)
			}
			cfg, err := parseServe(testIO(tt.env, path), nil)
			if err != nil {
				t.Fatalf("parseServe with env %q, .env %q: %v", tt.env, tt.dotenv, err)
			}
			if cfg.secret != tt.wantSecret || cfg.adminPassword != tt.wantAdmin {
				t.Errorf("parseServe with env %q, .env %q = secret %q, admin password %q; want %q, %q",
					tt.env, tt.dotenv, cfg.secret, cfg.adminPassword, tt.wantSecret, tt.wantAdmin)
			}
		})
	}
}

func TestServeInvalidSettings(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		env     []string
		dotenv  string
		wantErr string // the error must contain this
	}{
		{name: "env duration", env: []string{"JWTGATE_ACCESS_TTL=abc"}, wantErr: "JWTGATE_ACCESS_TTL"},
		{name: ".env duration", dotenv: "JWTGATE_REFRESH_TTL=forever\n", wantErr: "JWTGATE_REFRESH_TTL"},
		{name: "flag duration", args: []string{"--access-ttl=abc"}, wantErr: "access-ttl"},
		{name: "flag duration separate value", args: []string{"--access-ttl", "abc"}, wantErr: "access-ttl"},
		{name: "env bool", env: []string{"JWTGATE_DEMO=maybe"}, wantErr: "JWTGATE_DEMO"},
		{name: "flag bool", args: []string{"--demo=maybe"}, wantErr: "demo"},
		{name: "env log level", env: []string{"JWTGATE_LOG_LEVEL=LOUD"}, wantErr: "JWTGATE_LOG_LEVEL"},
		{name: "flag log level", args: []string{"--log-level=LOUD"}, wantErr: "log-level"},
		{name: "env log format", env: []string{"JWTGATE_LOG_FORMAT=xml"}, wantErr: "JWTGATE_LOG_FORMAT"},
		{name: "flag log format", args: []string{"--log-format=logfmt"}, wantErr: "log-format"},
		{name: "log format in other case", args: []string{"--log-format=JSON"}, wantErr: "log-format"},
		{name: "access TTL above the cap", args: []string{"--access-ttl=25h"}, wantErr: "--access-ttl"},
		{name: "publish delay below the minimum", args: []string{"--key-publish-delay=1s"}, wantErr: "--key-publish-delay"},
		{name: "rotation shorter than publish delay plus access TTL", args: []string{"--key-publish-delay=3s", "--access-ttl=2s", "--key-rotation-interval=4s"}, wantErr: "--key-rotation-interval"},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "nope"},
		{name: "unknown env", env: []string{"JWTGATE_NOPE=1"}, wantErr: "JWTGATE_NOPE"},
		{name: "setting of another command is not unknown, but invalid here", args: []string{"--json"}, wantErr: "json"},
		{name: "positional argument", args: []string{"extra"}, wantErr: "extra"},
		{name: "env addr", env: []string{"JWTGATE_ADDR=nope"}, wantErr: "addr"},
		{name: "env signing alg", env: []string{"JWTGATE_SIGNING_ALG=none"}, wantErr: "signing-alg"},
		{name: "short secret", env: []string{"JWTGATE_JWT_SECRET=" + strings.Repeat("x", 31)}, wantErr: "JWTGATE_JWT_SECRET"},
		{name: "short tutorial secret", dotenv: "jwt_secret=" + strings.Repeat("x", 31) + "\n", wantErr: "JWTGATE_JWT_SECRET"},
		{name: "signup mode", args: []string{"--signup=sometimes"}, wantErr: "--signup"},
		{name: "email verification mode", env: []string{"JWTGATE_REQUIRE_EMAIL_VERIFICATION=maybe"}, wantErr: "--require-email-verification"},
		{name: "email verification without SMTP", args: []string{"--require-email-verification=on"}, wantErr: "needs --smtp-url"},
		{name: "SMTP password on the command line", args: []string{"--smtp-url=smtp://u:s3cret@mail.example.test"}, wantErr: "JWTGATE_SMTP_PASSWORD"},
		{name: "SMTP scheme", args: []string{"--smtp-url=http://mail.example.test"}, wantErr: "--smtp-url"},
		{name: "SMTP from", args: []string{"--smtp-url=smtp://mail.example.test", "--smtp-from=nope"}, wantErr: "--smtp-from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), ".env")
			if tt.dotenv != "" {
				path = writeDotenv(t, tt.dotenv)
			}
			_, err := parseServe(testIO(tt.env, path), tt.args)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("parseServe(%q) with env %q, .env %q = %v, want error containing %q", tt.args, tt.env, tt.dotenv, err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("parseServe(%q) error %q is more than one line", tt.args, err)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("parseServe(%q) error %q repeats a password", tt.args, err)
			}
			if got := exitCode(err); got != 2 {
				t.Errorf("exitCode(%v) = %d, want 2", err, got)
			}
		})
	}
}

// TestServeSMTPPassword: the SMTP password may come from the environment,
// in JWTGATE_SMTP_URL or JWTGATE_SMTP_PASSWORD, never from argv.
func TestServeSMTPPassword(t *testing.T) {
	for _, tt := range []struct {
		name string
		args []string
		env  []string
	}{
		{"in the URL, from the environment", nil, []string{"JWTGATE_SMTP_URL=smtp://u:pw@mail.example.test"}},
		{"on its own", []string{"--smtp-url=smtp://u@mail.example.test"}, []string{"JWTGATE_SMTP_PASSWORD=pw"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseServe(testIO(tt.env, filepath.Join(t.TempDir(), ".env")), tt.args)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.accounts.smtpPassword != "pw" || cfg.accounts.smtpFrom != "jwtgate <no-reply@127.0.0.1>" {
				t.Errorf("password %q, from %q", cfg.accounts.smtpPassword, cfg.accounts.smtpFrom)
			}
			if _, err := cfg.accounts.sender(); err != nil {
				t.Errorf("sender() = %v", err)
			}
		})
	}
}

func TestServeConfigValidate(t *testing.T) {
	// The defaults, as parseServe makes them, with the issuer not yet derived.
	defaults, err := parseServe(testIO(nil, ""), nil)
	if err != nil {
		t.Fatalf("parseServe with no settings: %v", err)
	}
	defaults.issuer = ""
	valid := func() serveConfig { return *defaults }
	tests := []struct {
		name       string
		change     func(*serveConfig)
		wantErr    string // substring; "" means valid
		wantIssuer string // checked when valid
	}{
		{name: "defaults", change: func(*serveConfig) {}, wantIssuer: "http://127.0.0.1:8000"},
		{name: "any host", change: func(c *serveConfig) { c.addr = ":8000" }, wantIssuer: "http://:8000"},
		{name: "IPv6", change: func(c *serveConfig) { c.addr = "[::1]:9000" }, wantIssuer: "http://[::1]:9000"},
		{name: "TLS issuer", change: func(c *serveConfig) { c.tlsCert, c.tlsKey = "c.pem", "k.pem" }, wantIssuer: "https://127.0.0.1:8000"},
		{name: "explicit issuer kept", change: func(c *serveConfig) { c.issuer = "https://auth.example.com" }, wantIssuer: "https://auth.example.com"},
		{name: "explicit issuer kept under TLS", change: func(c *serveConfig) {
			c.issuer, c.tlsCert, c.tlsKey = "https://auth.example.com", "c.pem", "k.pem"
		}, wantIssuer: "https://auth.example.com"},
		{name: "ES256", change: func(c *serveConfig) { c.signingAlg = "ES256" }, wantIssuer: "http://127.0.0.1:8000"},
		{name: "RS256", change: func(c *serveConfig) { c.signingAlg = "RS256" }, wantIssuer: "http://127.0.0.1:8000"},
		{name: "refresh equal to access", change: func(c *serveConfig) { c.refreshTTL = c.accessTTL }, wantIssuer: "http://127.0.0.1:8000"},
		{name: "HS256 with secret", change: func(c *serveConfig) { c.signingAlg, c.secret = "HS256", strings.Repeat("k", 32) }, wantIssuer: "http://127.0.0.1:8000"},
		{name: "secret of 32 bytes", change: func(c *serveConfig) { c.secret = strings.Repeat("k", 32) }, wantIssuer: "http://127.0.0.1:8000"},
		{name: "secret of 16 two-byte runes", change: func(c *serveConfig) { c.secret = strings.Repeat("é", 16) }, wantIssuer: "http://127.0.0.1:8000"},

		{name: "addr without port", change: func(c *serveConfig) { c.addr = "localhost" }, wantErr: "--addr"},
		{name: "empty addr", change: func(c *serveConfig) { c.addr = "" }, wantErr: "--addr"},
		{name: "addr with two colons", change: func(c *serveConfig) { c.addr = "a:b:c" }, wantErr: "--addr"},
		{name: "zero access TTL", change: func(c *serveConfig) { c.accessTTL = 0 }, wantErr: "--access-ttl"},
		{name: "negative access TTL", change: func(c *serveConfig) { c.accessTTL = -time.Minute }, wantErr: "--access-ttl"},
		{name: "refresh shorter than access", change: func(c *serveConfig) { c.refreshTTL = time.Minute }, wantErr: "--refresh-ttl"},
		{name: "TLS cert without key", change: func(c *serveConfig) { c.tlsCert = "c.pem" }, wantErr: "--tls-cert"},
		{name: "TLS key without cert", change: func(c *serveConfig) { c.tlsKey = "k.pem" }, wantErr: "--tls-key"},
		{name: "alg none", change: func(c *serveConfig) { c.signingAlg = "none" }, wantErr: "--signing-alg"},
		{name: "alg HS512", change: func(c *serveConfig) { c.signingAlg = "HS512" }, wantErr: "--signing-alg"},
		{name: "alg empty", change: func(c *serveConfig) { c.signingAlg = "" }, wantErr: "--signing-alg"},
		{name: "HS256 without secret", change: func(c *serveConfig) { c.signingAlg = "HS256" }, wantErr: "JWTGATE_JWT_SECRET"},
		{name: "secret of 31 bytes", change: func(c *serveConfig) { c.secret = strings.Repeat("k", 31) }, wantErr: "JWTGATE_JWT_SECRET: 31 bytes"},
		{name: "HS256 with secret of 31 bytes", change: func(c *serveConfig) { c.signingAlg, c.secret = "HS256", strings.Repeat("k", 31) }, wantErr: "JWTGATE_JWT_SECRET"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := valid()
			tt.change(&cfg)
			before := cfg
			err := cfg.validate()
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("validate(%+v) = %v, want error containing %q", before, err, tt.wantErr)
				}
				if !errors.Is(err, errConfig) {
					t.Errorf("validate(%+v) error %v does not wrap errConfig", before, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("validate(%+v) = %v, want nil", before, err)
			}
			if cfg.issuer != tt.wantIssuer {
				t.Errorf("validate(%+v) issuer = %q, want %q", before, cfg.issuer, tt.wantIssuer)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{name: "usage", err: usagef("bad flag"), want: 2},
		{name: "wrapped usage", err: fmt.Errorf("user add: %w", usagef("bad flag")), want: 2},
		{name: "config", err: configErr("invalid %s", "JWTGATE_X"), want: 2},
		{name: "wrapped config", err: fmt.Errorf("serve: %w", configErr("bad")), want: 2},
		{name: "bare errConfig", err: errConfig, want: 2},
		{name: "other", err: errors.New("disk on fire"), want: 1},
		{name: "wrapped other", err: fmt.Errorf("listen: %w", os.ErrPermission), want: 1},
		{name: "context canceled", err: context.Canceled, want: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := exitCode(tt.err); got != tt.want {
				t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
			}
		})
	}
}

// FuzzParseDotenv checks that parseDotenv never panics, that every key it
// returns could be written back as a KEY=VALUE line (non-empty, no blanks,
// quotes, '=' or line breaks), and that rendering the result as quoted
// `export KEY="VALUE"` lines and parsing that again gives the same map.
func FuzzParseDotenv(f *testing.F) {
	for _, s := range []string{
		"",
		"A=1\nB=2\n",
		"# c\n\nexport A='x y'\nB=\"q # r\" # c\n",
		"A=b=c\nURL=postgres://u:p@h/db?x=1\n",
		"jwt_secret=abc\r\n",
		"A=\"unterminated\n",
		"export #a=1\n",
		"A=x\"y'z\n",
		"=1\n",
		"export=1\n",
		"A=\"\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := parseDotenv(strings.NewReader(in))
		if err != nil {
			if got != nil {
				t.Errorf("parseDotenv(%q) = %q with error %v; want no map on error", in, got, err)
			}
			return
		}
		var b strings.Builder
		for _, k := range slices.Sorted(maps.Keys(got)) {
			if k == "" || strings.ContainsAny(k, " \t\"'=\n") {
				t.Fatalf("parseDotenv(%q) returned key %q", in, k)
			}
			v := got[k]
			if strings.Contains(v, "\n") {
				t.Fatalf("parseDotenv(%q) returned %s=%q, a value spanning lines", in, k, v)
			}
			q := `"`
			if strings.Contains(v, `"`) {
				if strings.Contains(v, `'`) {
					return // not expressible in one quoted line
				}
				q = `'`
			}
			// "export " lets keys like "#a" (which only an export line can
			// produce) survive without being read as a comment.
			fmt.Fprintf(&b, "export %s=%s%s%s\n", k, q, v, q)
		}
		again, err := parseDotenv(strings.NewReader(b.String()))
		if err != nil {
			if len(b.String()) > 60<<10 {
				return // the rendered lines outgrew the scanner's line limit
			}
			t.Fatalf("parseDotenv(%q) = %q, but its rendering %q does not parse: %v", in, got, b.String(), err)
		}
		if !maps.Equal(got, again) {
			t.Fatalf("parseDotenv(%q) = %q, but its rendering %q parses as %q", in, got, b.String(), again)
		}
	})
}

// setting is one serve setting: a flag with its JWTGATE_* twin, or an
// env-only secret (flag "").
type setting struct{ flag, env string }

// serveFlagNames returns the names of serve's flags, read from its --help.
func serveFlagNames(t testing.TB) []string {
	var out strings.Builder
	c := testIO(nil, "")
	c.stdout = &out
	if _, err := parseServe(c, []string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("parseServe(--help) = %v, want flag.ErrHelp", err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^  -([a-z0-9-]+)`).FindAllStringSubmatch(out.String(), -1) {
		names = append(names, m[1])
	}
	if len(names) < 5 {
		t.Fatalf("parseServe(--help) listed flags %q; want serve's flags", names)
	}
	return names
}

// serveSettings lists what FuzzServeConfig varies, by index. The first
// entries are fixed so the seed corpus keeps its meaning; flags and secrets
// added later are appended, so the fuzzer covers them without edits here.
func serveSettings(t testing.TB) []setting {
	list := []setting{
		{"addr", "JWTGATE_ADDR"}, {"db", "JWTGATE_DB"}, {"issuer", "JWTGATE_ISSUER"},
		{"audience", "JWTGATE_AUDIENCE"}, {"access-ttl", "JWTGATE_ACCESS_TTL"},
		{"refresh-ttl", "JWTGATE_REFRESH_TTL"}, {"signing-alg", "JWTGATE_SIGNING_ALG"},
		{"demo", "JWTGATE_DEMO"}, {"tls-cert", "JWTGATE_TLS_CERT"}, {"tls-key", "JWTGATE_TLS_KEY"},
		{"log-level", "JWTGATE_LOG_LEVEL"}, {"", "JWTGATE_JWT_SECRET"}, {"", "JWTGATE_ADMIN_PASSWORD"},
	}
	seen := map[string]bool{}
	for _, s := range list {
		seen[s.env] = true
	}
	var extra []setting
	for _, f := range serveFlagNames(t) {
		if !seen[envName(f)] {
			extra = append(extra, setting{f, envName(f)})
			seen[envName(f)] = true
		}
	}
	for _, e := range envOnly {
		if !seen[e] {
			extra = append(extra, setting{"", e})
		}
	}
	slices.SortFunc(extra, func(a, b setting) int { return strings.Compare(a.env, b.env) })
	return append(list, extra...)
}

// TestServeFlagsHaveEnvTwins checks SPEC 1: every serve flag has a
// JWTGATE_* twin that is accepted, and that sets the flag.
func TestServeFlagsHaveEnvTwins(t *testing.T) {
	for _, f := range serveFlagNames(t) {
		t.Run(f, func(t *testing.T) {
			_, err := loadEnvironment([]string{envName(f) + "=x"}, "")
			if err != nil {
				t.Fatalf("loadEnvironment(%s=x) = %v, want the twin of --%s accepted", envName(f), err, f)
			}
			// A value through the twin reaches the flag: parseServe either
			// takes it or refuses it naming the setting.
			_, err = parseServe(testIO([]string{envName(f) + "=\x00bad"}, ""), nil)
			if err != nil && !strings.Contains(err.Error(), f) && !strings.Contains(err.Error(), envName(f)) {
				t.Errorf("parseServe with %s=\\x00bad = %v, which does not name the setting", envName(f), err)
			}
		})
	}
}

// FuzzServeConfig sets one serve setting to an arbitrary value, as a flag
// or as an environment variable, and checks that parseServe either accepts
// it or refuses it with a one-line usage/configuration error (exit status
// 2) that names the setting (by its flag or its variable name).
func FuzzServeConfig(f *testing.F) {
	f.Add(uint8(0), "127.0.0.1:0", false)
	f.Add(uint8(0), "nope", true)
	f.Add(uint8(4), "abc", false)
	f.Add(uint8(4), "1000000h", true)
	f.Add(uint8(5), "1s", false)
	f.Add(uint8(6), "HS256", false)
	f.Add(uint8(7), "maybe", true)
	f.Add(uint8(8), "cert.pem", false)
	f.Add(uint8(10), "LOUD", true)
	f.Add(uint8(11), strings.Repeat("x", 31), true)
	settings := serveSettings(f)
	f.Fuzz(func(t *testing.T, which uint8, value string, viaEnv bool) {
		s := settings[int(which)%len(settings)]
		var args, env []string
		if viaEnv || s.flag == "" {
			env = []string{s.env + "=" + value}
		} else {
			args = []string{"--" + s.flag + "=" + value}
		}
		cfg, err := parseServe(testIO(env, ""), args)
		if err == nil {
			if cfg == nil {
				t.Fatalf("parseServe(%q) with env %q = nil, nil", args, env)
			}
			return
		}
		msg := err.Error()
		if !strings.Contains(msg, s.env) && (s.flag == "" || !strings.Contains(msg, s.flag)) {
			t.Errorf("parseServe(%q) with env %q = %q, which names neither %s nor --%s", args, env, msg, s.env, s.flag)
		}
		if strings.ContainsAny(msg, "\r\n") {
			t.Errorf("parseServe(%q) with env %q = %q, more than one line", args, env, msg)
		}
		if got := exitCode(err); got != 2 {
			t.Errorf("exitCode(%q) = %d, want 2", msg, got)
		}
	})
}
