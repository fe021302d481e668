package main

import (
	"errors"
	"flag"
	"fmt"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/accounts"
	"github.com/jwtgate/jwtgate/internal/mail"
)

// userInviteFlags defines `jwtgate user invite EMAIL`. The invitation and
// its email go into the store; a server running with --smtp-url sends the
// email (the outbox is shared), so the CLI needs no SMTP settings of its
// own. --link prints the link instead, for a server without email.
func userInviteFlags(fs *flag.FlagSet) func(cmdIO, []string) error {
	dbURL := dbFlag(fs)
	issuer := fs.String("issuer", "", "the server's public URL, which the link points to (the server's --issuer / JWTGATE_ISSUER)")
	var roles stringList
	fs.Var(&roles, "role", "give the invited user this role (repeatable)")
	ttl := fs.Duration("ttl", accounts.DefaultInviteTTL, "how long the invitation stays open (at most 720h)")
	printLink := fs.Bool("link", false, "print the invitation link, to hand over yourself (it is a secret: anyone holding it can create the account)")
	noEmail := fs.Bool("no-email", false, "do not queue the invitation email (with --link, for a server without --smtp-url)")
	return func(c cmdIO, args []string) error {
		if *issuer == "" {
			return configErr("user invite needs --issuer (or JWTGATE_ISSUER): the server's public URL, which the link points to")
		}
		if *noEmail && !*printLink {
			return usagef("user invite: --no-email needs --link, or nobody gets the invitation")
		}
		st, err := openStore(c.ctx, *dbURL)
		if err != nil {
			return err
		}
		defer st.Close()
		kek, err := secretSetting(c, "KEY_ENCRYPTION_KEY")
		if err != nil {
			return err
		}
		sealer, err := parseSealer(kek)
		if err != nil {
			return err
		}
		var outbox *mail.Outbox
		if !*noEmail {
			outbox = mail.NewOutbox(st, nil, mail.OutboxOptions{Sealer: sealer}) // enqueue only: the server sends
		}
		acc, err := accounts.New(st, nil, outbox, accounts.Options{PublicURL: *issuer, Signup: accounts.SignupInvite})
		if err != nil {
			return configErr("user invite: %v", err)
		}
		inv, link, err := acc.Invite(c.ctx, 0, args[0], roles, *ttl)
		if err != nil {
			if errors.Is(err, jwtgate.ErrInvalid) || errors.Is(err, jwtgate.ErrConflict) {
				return fmt.Errorf("user invite: %w", err)
			}
			return err
		}
		fmt.Fprintf(c.stdout, "invited %s (invitation %d, open until %s)\n", displayText(inv.Email), inv.ID, inv.ExpiresAt.Format(time.RFC3339))
		if !*noEmail {
			fmt.Fprintln(c.stdout, "the email is queued; a server with --smtp-url sends it")
		}
		if *printLink {
			fmt.Fprintln(c.stdout, link)
		}
		return nil
	}
}
