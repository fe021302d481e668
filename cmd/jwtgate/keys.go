package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/jwtgate/jwtgate/internal/auth"
	"github.com/jwtgate/jwtgate/token"
)

const keysUsage = `Usage:
  jwtgate keys list [--json]
  jwtgate keys rotate

A rotation publishes a new key at once and signs with it 10 minutes later,
twice the longest time servers let verifiers cache the JWKS, so no verifier
holding a cached JWKS meets an unknown kid whatever the servers'
--key-publish-delay. Running servers on the same store pick it up within
seconds. The old key stays published until its last token expires. While a
new key is pending, rotate refuses: at most one key waits.

Examples:
  jwtgate keys list --db sqlite:/var/lib/jwtgate/jwtgate.db
  jwtgate keys rotate --db postgres://jwtgate@db/jwtgate
`

func runKeys(c cmdIO, args []string) error {
	if len(args) == 0 || isHelp(args[0]) {
		io.WriteString(c.stdout, keysUsage)
		return nil
	}
	sub := args[0]
	fs := flag.NewFlagSet("keys "+sub, flag.ContinueOnError)
	dbURL := dbFlag(fs)
	alg := fs.String("signing-alg", token.EdDSA, "algorithm of the new key: EdDSA, ES256 or RS256")
	var asJSON *bool
	switch sub {
	case "list":
		asJSON = fs.Bool("json", false, "print JSON")
	case "rotate":
	default:
		return usagef("unknown keys command %q (run 'jwtgate keys --help')", sub)
	}
	pos, err := parseArgs(fs, args[1:], c)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("keys %s takes no arguments", sub)
	}
	kek, err := secretSetting(c, "KEY_ENCRYPTION_KEY")
	if err != nil {
		return err
	}
	sealer, err := parseSealer(kek)
	if err != nil {
		return err
	}
	store, err := openStore(c.ctx, *dbURL)
	if err != nil {
		return err
	}
	defer store.Close()
	// The CLI does not know the servers' --key-publish-delay and
	// --access-ttl, and need not: the default delay is safe whatever the
	// servers' JWKS cache lifetime, and a key counts as possibly in use
	// until the longest access lifetime a server may have has passed.
	kr, err := auth.OpenKeyring(c.ctx, store, auth.KeyringOptions{
		Alg: *alg, ExtraAlgs: auth.IDTokenExtraAlgs(*alg), PublishDelay: auth.DefaultPublishDelay, TokenLifetime: auth.MaxAccessTTL + auth.Leeway, Sealer: sealer,
	})
	if err != nil {
		return err
	}
	if sub == "rotate" {
		svc, err := auth.New(c.ctx, store, nil, auth.Options{})
		if err != nil {
			return err
		}
		k, err := svc.RotateKey(c.ctx, kr)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stdout, "new %s key %s published; it signs from %s\n", k.Alg, k.ID, k.ActivatesAt.Format(time.RFC3339))
		return nil
	}
	keys := kr.List()
	if *asJSON {
		if keys == nil {
			keys = []auth.KeyInfo{}
		}
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(keys)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KID\tALG\tSTATE\tCREATED\tACTIVATES\tRETIRES")
	for _, k := range keys {
		retires := "-"
		if k.RetiresAt != nil {
			retires = k.RetiresAt.Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Alg, k.State,
			k.CreatedAt.Format(time.RFC3339), k.ActivatesAt.Format(time.RFC3339), retires)
	}
	return tw.Flush()
}

func isHelp(s string) bool { return s == "-h" || s == "--help" || s == "help" }
