package sqlrow

import (
	"encoding/json"
	"fmt"

	"github.com/jwtgate/jwtgate"
)

// ClientColumns is the column list ScanClient reads, in its order.
const ClientColumns = `id, name, secret_hash, public, redirect_uris, post_logout_redirect_uris, scopes, trusted, id_token_alg, created_at, updated_at`

// JSONList is how a client's lists (redirect URIs, scopes) are stored: a
// JSON array, read and written whole, never queried into; nil is [].
func JSONList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l) // a []string always marshals
	return string(b)
}

// ScanClient reads the columns of ClientColumns. public and trusted may be
// booleans or the 0/1 INTEGERs SQLite keeps.
func ScanClient(s Scanner) (*jwtgate.Client, error) {
	var c jwtgate.Client
	var redirects, logouts, scopes string
	var created, updated int64
	if err := s.Scan(&c.ID, &c.Name, &c.SecretHash, &c.Public, &redirects, &logouts, &scopes, &c.Trusted, &c.IDTokenAlg, &created, &updated); err != nil {
		return nil, err
	}
	for _, l := range []struct {
		raw string
		dst *[]string
	}{{redirects, &c.RedirectURIs}, {logouts, &c.PostLogoutRedirectURIs}, {scopes, &c.Scopes}} {
		if err := json.Unmarshal([]byte(l.raw), l.dst); err != nil {
			return nil, fmt.Errorf("client %s: list column: %w", c.ID, err)
		}
	}
	c.CreatedAt, c.UpdatedAt = Time(created), Time(updated)
	return &c, nil
}
