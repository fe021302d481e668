package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jwtgate/jwtgate/internal/accounts"
	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/internal/mail"
	"github.com/jwtgate/jwtgate/internal/seal"
)

// accountsConfig is what serve is told about self-service accounts and
// email.
type accountsConfig struct {
	signup          string
	requireVerified string // auto, on or off
	smtpURL         string
	smtpFrom        string
	smtpPassword    string // env only
}

func accountsFlags(fs *flag.FlagSet, a *accountsConfig) {
	fs.StringVar(&a.signup, "signup", string(accounts.SignupClosed), "who may create an account: closed (admins only), open (anyone) or invite (anyone with an invitation)")
	fs.StringVar(&a.requireVerified, "require-email-verification", "auto", "signed-up users may log in only once their email is verified: on, off, or auto (on when --smtp-url is set)")
	fs.StringVar(&a.smtpURL, "smtp-url", "", "SMTP server for emails (verification, password reset, invitations): smtp://[USER@]HOST[:PORT] (STARTTLS, required off loopback) or smtps://… (TLS); the password goes in JWTGATE_SMTP_PASSWORD")
	fs.StringVar(&a.smtpFrom, "smtp-from", "", "From address of emails, e.g. \"jwtgate <no-reply@example.com>\" (default no-reply@ the issuer's host)")
}

// validate checks the settings; fromArgv says whether --smtp-url came from
// the command line, where a password would be visible to every local user.
func (a *accountsConfig) validate(issuer string, fromArgv bool) error {
	if _, err := accounts.ParseMode(a.signup); err != nil {
		return configErr("invalid --signup %q: want closed, open or invite", a.signup)
	}
	if !slices.Contains([]string{"auto", "on", "off"}, a.requireVerified) {
		return configErr("invalid --require-email-verification %q: want auto, on or off", a.requireVerified)
	}
	if a.smtpURL == "" {
		if a.requireVerified == "on" {
			return configErr("invalid --require-email-verification on: needs --smtp-url to send the links")
		}
		return nil
	}
	u, err := url.Parse(a.smtpURL)
	if err != nil {
		return configErr("invalid --smtp-url: not a URL (want smtp://HOST:PORT or smtps://HOST:PORT)")
	}
	if pw, ok := u.User.Password(); ok && pw != "" {
		if fromArgv {
			return configErr("invalid --smtp-url: a password on the command line is visible to every local user; set JWTGATE_SMTP_PASSWORD (or JWTGATE_SMTP_URL) in the environment instead")
		}
		if a.smtpPassword == "" {
			a.smtpPassword = pw
		}
	}
	if a.smtpFrom == "" {
		host := issuer
		if iu, err := url.Parse(issuer); err == nil && iu.Hostname() != "" {
			host = iu.Hostname()
		}
		a.smtpFrom = "jwtgate <no-reply@" + host + ">"
	}
	if _, err := a.sender(); err != nil {
		return configErr("invalid --smtp-url/--smtp-from: %v", strings.TrimPrefix(err.Error(), "mail: "))
	}
	return nil
}

// sender builds the SMTP sender, the password taken from the environment.
func (a *accountsConfig) sender() (*mail.SMTP, error) {
	u, err := url.Parse(a.smtpURL)
	if err != nil {
		return nil, fmt.Errorf("mail: SMTP URL is not a URL")
	}
	if a.smtpPassword != "" {
		name := ""
		if u.User != nil {
			name = u.User.Username()
		}
		u.User = url.UserPassword(name, a.smtpPassword)
	}
	return mail.ParseSMTP(u.String(), a.smtpFrom)
}

// flagOnCommandLine reports whether args set --name (or -name).
func flagOnCommandLine(args []string, name string) bool {
	for _, a := range args {
		if a == "--" {
			return false
		}
		a = strings.TrimLeft(a, "-")
		if a == name || strings.HasPrefix(a, name+"=") {
			return true
		}
	}
	return false
}

// startAccounts builds the account flows and, with SMTP, the outbox, and
// starts their background loops; stop ends them and waits.
func startAccounts(ctx context.Context, a *accountsConfig, store store, svc *auth.Service, sealer *seal.Sealer, issuer string, logger *slog.Logger) (acc *accounts.Service, stop func(), err error) {
	mode, _ := accounts.ParseMode(a.signup) // validated
	var outbox *mail.Outbox
	if a.smtpURL != "" {
		sender, err := a.sender()
		if err != nil {
			return nil, nil, err
		}
		outbox = mail.NewOutbox(store, sender, mail.OutboxOptions{Sealer: sealer, Logger: logger})
		logger.Info("email on", "smtp", sender.Addr())
	} else {
		logger.Info("email off: no --smtp-url, so password reset, email verification and emailed invitations are unavailable")
	}
	acc, err = accounts.New(store, svc, outbox, accounts.Options{
		PublicURL: issuer, Signup: mode, Logger: logger,
		RequireVerified: a.requireVerified == "on" || (a.requireVerified == "auto" && outbox != nil),
	})
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{}, 3)
	run := func(f func(context.Context) error) {
		go func() { _ = f(ctx); done <- struct{}{} }()
	}
	loops := 2
	run(acc.Run)
	run(func(ctx context.Context) error { return cleanEmails(ctx, store, logger) })
	if outbox != nil {
		loops++
		run(outbox.Run)
	}
	return acc, func() {
		cancel()
		for range loops {
			<-done
		}
	}, nil
}

// cleanEmails deletes, every hour, sent or abandoned emails and spent or
// expired one-time tokens older than a week: they matter only for a while
// after the fact.
func cleanEmails(ctx context.Context, store store, logger *slog.Logger) error {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		cut := time.Now().Add(-7 * 24 * time.Hour)
		if _, err := store.DeleteEmailsBefore(ctx, cut); err != nil && ctx.Err() == nil {
			logger.Warn("clean outbox", "err", err)
		}
		if _, err := store.DeleteOneTimeTokensBefore(ctx, cut); err != nil && ctx.Err() == nil {
			logger.Warn("clean one-time tokens", "err", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}
