package main

import (
	"context"
	"log/slog"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/passkey"
)

// startPasskeys builds the WebAuthn service for the public URL issuer,
// auditing through audit. A passkey is bound to a domain name: WebAuthn
// refuses an IP address (the default issuer, http://127.0.0.1:8000) or a
// bare name other than localhost. Then the server runs without passkeys,
// says so once, and the pages offer none; nil comes back.
func startPasskeys(store passkey.Store, issuer string, audit func(context.Context, jwtgate.AuditEvent), logger *slog.Logger) *passkey.Service {
	pk, err := passkey.New(store, passkey.Options{PublicURL: issuer, Audit: audit})
	if err != nil {
		logger.Warn("passkeys are off: WebAuthn needs a domain name (or localhost) in --issuer, not an IP address", "issuer", issuer, "err", err)
		return nil
	}
	return pk
}
