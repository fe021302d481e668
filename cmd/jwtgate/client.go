package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/oidc"
	"github.com/jwtgate/jwtgate/internal/server"
)

// clientHelp follows the client commands' synopses in `jwtgate client --help`.
const clientHelp = `OpenID Connect clients: the applications that sign users in with jwtgate
("Sign in with jwtgate"). A confidential client (the default: a server-side
app such as oauth2-proxy, Grafana or Gitea) gets a client secret, printed
once by add and rotate-secret and stored only as a hash; a public client
(--public: a single-page or native app that cannot keep a secret) gets none
and must use PKCE. Redirect URIs are matched exactly: register every one the
app uses. A client is named by its client_id or its name.

Examples:
  jwtgate client add grafana --redirect-uri https://grafana.example.com/login/generic_oauth
  jwtgate client add cli --public --redirect-uri http://127.0.0.1/callback --json
  jwtgate client list
  jwtgate client rotate-secret grafana
`

// clientService opens the store named by --db and the client registry on
// it, auditing through the rules' audit log; the caller closes the store.
func clientService(c cmdIO, dbURL string) (store, *oidc.Clients, error) {
	st, svc, err := userService(c, dbURL)
	if err != nil {
		return nil, nil, err
	}
	return st, oidc.NewClients(st, nil, svc.Record).RevokingWith(svc.RevokeSessionIDs), nil
}

// clientAddFlags defines `jwtgate client add NAME`.
func clientAddFlags(fs *flag.FlagSet) func(cmdIO, []string) error {
	dbURL := dbFlag(fs)
	var redirects, postLogout, scopes stringList
	fs.Var(&redirects, "redirect-uri", "a redirect URI of the app, matched exactly (repeatable; at least one)")
	fs.Var(&postLogout, "post-logout-redirect-uri", "where the app may send a user after logging out (repeatable)")
	fs.Var(&scopes, "scope", "a scope the client may ask for, of "+strings.Join(oidc.SupportedScopes, ", ")+" (repeatable; default all)")
	public := fs.Bool("public", false, "a public client (single-page or native app): no secret, PKCE required")
	trusted := fs.Bool("trusted", false, "a first-party app: users are not asked for consent")
	alg := fs.String("id-token-alg", "", "the id_token signing algorithm the client wants, of "+strings.Join(oidc.SupportedIDTokenAlgs, ", ")+" (default RS256)")
	asJSON := fs.Bool("json", false, `print {"client_id","client_secret"} as JSON`)
	return func(c cmdIO, args []string) error {
		spec := oidc.ClientSpec{
			Name: args[0], RedirectURIs: redirects, PostLogoutRedirectURIs: postLogout, Public: *public,
			Scopes: splitScopes(scopes), Trusted: *trusted, IDTokenAlg: *alg,
		}
		st, clients, err := clientService(c, *dbURL)
		if err != nil {
			return err
		}
		defer st.Close()
		cl, secret, err := clients.Create(c.ctx, spec)
		if err != nil {
			return clientErr("client add", args[0], err)
		}
		if *asJSON {
			return printJSON(c.stdout, struct {
				ClientID     string `json:"client_id"`
				ClientSecret string `json:"client_secret,omitempty"`
			}{cl.ID, secret})
		}
		fmt.Fprintf(c.stdout, "created client %s\nclient_id:     %s\n", displayName(cl.Name), cl.ID)
		if secret == "" {
			fmt.Fprintln(c.stdout, "public client: no secret; it must use PKCE (S256)")
			return nil
		}
		fmt.Fprintf(c.stdout, "client_secret: %s\n", secret)
		fmt.Fprintln(c.stderr, "The secret is shown only this once: store it now. jwtgate client rotate-secret makes a new one.")
		return nil
	}
}

// splitScopes accepts --scope "openid profile" and --scope openid,email as
// well as one scope per flag.
func splitScopes(in []string) []string {
	var out []string
	for _, s := range in {
		out = append(out, strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })...)
	}
	return out
}

// clientListFlags defines `jwtgate client list`.
func clientListFlags(fs *flag.FlagSet) func(cmdIO, []string) error {
	dbURL := dbFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	return func(c cmdIO, _ []string) error {
		st, clients, err := clientService(c, *dbURL)
		if err != nil {
			return err
		}
		defer st.Close()
		list, err := clients.List(c.ctx)
		if err != nil {
			return err
		}
		if *asJSON {
			out := make([]server.ClientJSON, 0, len(list))
			for i := range list {
				out = append(out, server.ToClientJSON(&list[i]))
			}
			return printJSON(c.stdout, out)
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tCLIENT ID\tTYPE\tREDIRECT URIS\tCREATED")
		for _, cl := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", displayName(cl.Name), cl.ID, clientType(&cl),
				displayText(strings.Join(cl.RedirectURIs, " ")), cl.CreatedAt.Format(time.RFC3339))
		}
		return tw.Flush()
	}
}

// clientType is how list and show describe a client.
func clientType(c *jwtgate.Client) string {
	t := "confidential"
	if c.Public {
		t = "public"
	}
	if c.Trusted {
		t += ", trusted"
	}
	return t
}

// clientShowFlags defines `jwtgate client show CLIENT`.
func clientShowFlags(fs *flag.FlagSet) func(cmdIO, []string) error {
	dbURL := dbFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON")
	return func(c cmdIO, args []string) error {
		st, clients, err := clientService(c, *dbURL)
		if err != nil {
			return err
		}
		defer st.Close()
		cl, err := clients.Find(c.ctx, args[0])
		if err != nil {
			return clientErr("client show", args[0], err)
		}
		if *asJSON {
			return printJSON(c.stdout, server.ToClientJSON(cl))
		}
		none := func(list []string) string {
			if len(list) == 0 {
				return "-"
			}
			return displayText(strings.Join(list, " "))
		}
		scopes := cl.Scopes
		if len(scopes) == 0 {
			scopes = oidc.SupportedScopes
		}
		alg := cl.IDTokenAlg
		if alg == "" {
			alg = "RS256"
		}
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 1, ' ', 0)
		fmt.Fprintf(tw, "name:\t%s\n", displayName(cl.Name))
		fmt.Fprintf(tw, "client_id:\t%s\n", cl.ID)
		fmt.Fprintf(tw, "type:\t%s\n", clientType(cl))
		fmt.Fprintf(tw, "redirect URIs:\t%s\n", none(cl.RedirectURIs))
		fmt.Fprintf(tw, "post-logout URIs:\t%s\n", none(cl.PostLogoutRedirectURIs))
		fmt.Fprintf(tw, "scopes:\t%s\n", none(scopes))
		fmt.Fprintf(tw, "id_token alg:\t%s\n", alg)
		fmt.Fprintf(tw, "created:\t%s\n", cl.CreatedAt.Format(time.RFC3339))
		fmt.Fprintf(tw, "updated:\t%s\n", cl.UpdatedAt.Format(time.RFC3339))
		return tw.Flush()
	}
}

// clientDeleteFlags defines `jwtgate client delete CLIENT`.
func clientDeleteFlags(fs *flag.FlagSet) func(cmdIO, []string) error {
	dbURL := dbFlag(fs)
	return func(c cmdIO, args []string) error {
		st, clients, err := clientService(c, *dbURL)
		if err != nil {
			return err
		}
		defer st.Close()
		cl, err := clients.Find(c.ctx, args[0])
		if err != nil {
			return clientErr("client delete", args[0], err)
		}
		if err := clients.Delete(c.ctx, cl.ID); err != nil {
			return clientErr("client delete", args[0], err)
		}
		fmt.Fprintf(c.stdout, "client %s (%s) deleted\n", displayName(cl.Name), cl.ID)
		return nil
	}
}

// clientRotateFlags defines `jwtgate client rotate-secret CLIENT`.
func clientRotateFlags(fs *flag.FlagSet) func(cmdIO, []string) error {
	dbURL := dbFlag(fs)
	asJSON := fs.Bool("json", false, `print {"client_id","client_secret"} as JSON`)
	return func(c cmdIO, args []string) error {
		st, clients, err := clientService(c, *dbURL)
		if err != nil {
			return err
		}
		defer st.Close()
		cl, err := clients.Find(c.ctx, args[0])
		if err != nil {
			return clientErr("client rotate-secret", args[0], err)
		}
		secret, err := clients.RotateSecret(c.ctx, cl.ID)
		if err != nil {
			return clientErr("client rotate-secret", args[0], err)
		}
		if *asJSON {
			return printJSON(c.stdout, struct {
				ClientID     string `json:"client_id"`
				ClientSecret string `json:"client_secret"`
			}{cl.ID, secret})
		}
		fmt.Fprintf(c.stdout, "new secret for client %s; the old one no longer works\nclient_id:     %s\nclient_secret: %s\n",
			displayName(cl.Name), cl.ID, secret)
		fmt.Fprintln(c.stderr, "The secret is shown only this once: store it now.")
		return nil
	}
}

// clientErr turns registry errors into one-line messages: a usage error
// (exit 2) for what the operator typed wrong, exit 1 for a name taken or a
// client not found.
func clientErr(cmd, name string, err error) error {
	switch {
	case errors.Is(err, jwtgate.ErrNotFound):
		return fmt.Errorf("%s: no client %s", cmd, displayName(name))
	case errors.Is(err, jwtgate.ErrConflict):
		return fmt.Errorf("%s: a client named %s already exists", cmd, displayName(name))
	case errors.Is(err, jwtgate.ErrInvalid):
		return usagef("%s: %s", cmd, strings.TrimPrefix(err.Error(), jwtgate.ErrInvalid.Error()+": "))
	}
	return err
}
