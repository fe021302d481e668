package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/jwtgate/jwtgate"
	jgoidc "github.com/jwtgate/jwtgate/internal/oidc"
	"github.com/jwtgate/jwtgate/internal/pgtest"
	"github.com/jwtgate/jwtgate/internal/postgres"
	"github.com/jwtgate/jwtgate/internal/sqlite"
	"github.com/jwtgate/jwtgate/verify"
)

// rpIssuer is the issuer every instance in these tests is configured with;
// the relying party's transport sends its host to whichever instance the
// test points it at, as a load balancer would.
const rpIssuer = "http://jwtgate.test"

// switchTransport sends requests for the issuer's host to the current
// target instance.
type switchTransport struct{ target atomic.Pointer[string] }

func (s *switchTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host == "jwtgate.test" {
		r = r.Clone(r.Context())
		r.URL.Host = strings.TrimPrefix(*s.target.Load(), "http://")
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (s *switchTransport) use(base string) { s.target.Store(&base) }

// rpClient is a relying party on golang.org/x/oauth2 and go-oidc, and a
// browser (a cookie jar) that logs in on jwtgate's login API and approves
// on its consent API.
type rpClient struct {
	t        *testing.T
	tr       *switchTransport
	http     *http.Client // the RP's back channel
	browser  *http.Client // the user's browser: cookies, no automatic redirects
	provider *oidc.Provider
	conf     oauth2.Config
}

func newRPClient(t *testing.T, first string, clientID, secret, redirect string) *rpClient {
	t.Helper()
	tr := &switchTransport{}
	tr.use(first)
	jar, _ := cookiejar.New(nil)
	c := &rpClient{t: t, tr: tr, http: &http.Client{Transport: tr, Timeout: 20 * time.Second},
		browser: &http.Client{Transport: tr, Jar: jar, Timeout: 20 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	ctx := oidc.ClientContext(t.Context(), c.http)
	p, err := oidc.NewProvider(ctx, rpIssuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	c.provider = p
	c.conf = oauth2.Config{ClientID: clientID, ClientSecret: secret, RedirectURL: redirect, Endpoint: p.Endpoint(),
		Scopes: []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess}}
	return c
}

func (c *rpClient) ctx() context.Context { return oidc.ClientContext(c.t.Context(), c.http) }

// login logs the browser in through the API the login page uses.
func (c *rpClient) login(name, password string) {
	c.t.Helper()
	resp, err := c.browser.Post(rpIssuer+"/login", "application/json", bytes.NewReader(loginJSON(name, password)))
	if err != nil {
		c.t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		c.t.Fatalf("browser login = %d", resp.StatusCode)
	}
}

// authorize runs the browser from the authorization URL to the redirect
// back to the app, approving consent, and returns that redirect's query.
func (c *rpClient) authorize(authURL string) url.Values {
	c.t.Helper()
	next := authURL
	for range 6 {
		resp, err := c.browser.Get(next)
		if err != nil {
			c.t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			c.t.Fatalf("GET %s = %d %s", next, resp.StatusCode, body)
		}
		loc, _ := resp.Location()
		switch {
		case strings.HasPrefix(loc.String(), c.conf.RedirectURL):
			return loc.Query()
		case loc.Path == "/oauth2/consent":
			d, _ := json.Marshal(map[string]any{"id": loc.Query().Get("id"), "approve": true})
			resp, err := c.browser.Post(rpIssuer+"/oauth2/consent", "application/json", bytes.NewReader(d))
			if err != nil {
				c.t.Fatal(err)
			}
			var step struct {
				RedirectTo string `json:"redirect_to"`
			}
			err = json.NewDecoder(resp.Body).Decode(&step)
			resp.Body.Close()
			if resp.StatusCode != 200 || err != nil {
				c.t.Fatalf("consent = %d %v", resp.StatusCode, err)
			}
			next = step.RedirectTo
			if strings.HasPrefix(next, c.conf.RedirectURL) {
				u, _ := url.Parse(next)
				return u.Query()
			}
		default:
			next = loc.String()
		}
	}
	c.t.Fatalf("the authorization never came back to %s", c.conf.RedirectURL)
	return nil
}

// codeFlow is a complete login: authorize with PKCE, state and nonce, the
// code exchanged, the id_token verified by go-oidc (RS256, iss, aud, exp,
// nonce, at_hash). redeemAt, if set, is the instance the code is redeemed
// at.
func (c *rpClient) codeFlow(redeemAt string) (*oauth2.Token, *oidc.IDToken) {
	c.t.Helper()
	verifier := oauth2.GenerateVerifier()
	state, nonce := "state-"+oauth2.GenerateVerifier()[:8], "nonce-"+oauth2.GenerateVerifier()[:8]
	q := c.authorize(c.conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)))
	if q.Get("state") != state || q.Get("iss") != rpIssuer || q.Get("code") == "" {
		c.t.Fatalf("authorization response = %v, want code, state %s, iss %s", q, state, rpIssuer)
	}
	if redeemAt != "" {
		c.tr.use(redeemAt)
	}
	tok, err := c.conf.Exchange(c.ctx(), q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		c.t.Fatalf("code exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := c.provider.Verifier(&oidc.Config{ClientID: c.conf.ClientID}).Verify(c.ctx(), raw)
	if err != nil {
		c.t.Fatalf("id_token: %v", err)
	}
	if idt.Nonce != nonce {
		c.t.Errorf("id_token nonce = %q, want %q", idt.Nonce, nonce)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		c.t.Errorf("at_hash: %v", err)
	}
	return tok, idt
}

// createClient registers a client in the store the servers use.
func createClient(t *testing.T, store jwtgate.Store, spec jgoidc.ClientSpec) (*jwtgate.Client, string) {
	t.Helper()
	c, secret, err := jgoidc.NewClients(store, nil, nil).Create(t.Context(), spec)
	if err != nil {
		t.Fatal(err)
	}
	return c, secret
}

// checkRP runs the relying party's whole life against the instances: a
// code flow (redeemed at the second instance when there is one),
// userinfo, a refresh, a refresh reuse, client_credentials, and the
// access tokens at /auth/verify.
func checkRP(t *testing.T, store jwtgate.Store, bases ...string) {
	const redirect = "https://app.example.test/callback"
	c, secret := createClient(t, store, jgoidc.ClientSpec{Name: "go-rp", RedirectURIs: []string{redirect}})
	rp := newRPClient(t, bases[0], c.ID, secret, redirect)
	rp.login("admin", "1234")
	redeem := bases[len(bases)-1]
	tok, idt := rp.codeFlow(redeem)
	var claims struct {
		PreferredUsername string   `json:"preferred_username"`
		SID               string   `json:"sid"`
		AuthTime          int64    `json:"auth_time"`
		AMR               []string `json:"amr"`
	}
	if err := idt.Claims(&claims); err != nil || claims.PreferredUsername != "admin" || claims.SID == "" || claims.AuthTime == 0 ||
		!slices.Contains(claims.AMR, "pwd") {
		t.Errorf("id_token claims = %+v, %v", claims, err)
	}

	// userinfo, from the first instance.
	rp.tr.use(bases[0])
	ui, err := rp.provider.UserInfo(rp.ctx(), oauth2.StaticTokenSource(tok))
	if err != nil || ui.Subject != idt.Subject {
		t.Fatalf("userinfo = %+v, %v; want sub %s", ui, err, idt.Subject)
	}
	// The RFC 9068 access token passes forward auth.
	if r := send(t, "GET", bases[0]+"/auth/verify", nil, "Authorization", "Bearer "+tok.AccessToken); r.status != 200 {
		t.Errorf("client access token at /auth/verify = %d %s", r.status, r.body)
	}

	// The verify package, as a resource server would use it, accepts the
	// client's token and tells whose it is and what was granted.
	v, err := verify.New(t.Context(), rpIssuer, verify.WithInternalURL(bases[0]))
	if err != nil {
		t.Fatalf("verify.New: %v", err)
	}
	defer v.Close()
	if vc, err := v.Verify(t.Context(), tok.AccessToken); err != nil || vc.ClientID != c.ID || !vc.HasScope("email") || vc.Name != "admin" || vc.SessionID != claims.SID {
		t.Errorf("verify.Verify(client access token) = %+v, %v; want client %s, scope email, user admin, sid %s", vc, err, c.ID, claims.SID)
	}

	// refresh: rotated; the spent token, replayed after the grace window,
	// is refused and ends the session.
	old := tok.RefreshToken
	next, err := rp.conf.TokenSource(rp.ctx(), &oauth2.Token{RefreshToken: old, Expiry: time.Now().Add(-time.Hour)}).Token()
	if err != nil || next.AccessToken == "" || next.RefreshToken == "" || next.RefreshToken == old {
		t.Fatalf("refresh = %+v, %v; want a new access token and a rotated refresh token", next, err)
	}
	if r := send(t, "GET", redeem+"/auth/verify", nil, "Authorization", "Bearer "+next.AccessToken); r.status != 200 {
		t.Errorf("refreshed access token at /auth/verify = %d", r.status)
	}

	// client_credentials.
	cc := clientcredentials.Config{ClientID: c.ID, ClientSecret: secret, TokenURL: rp.provider.Endpoint().TokenURL}
	machine, err := cc.Token(rp.ctx())
	if err != nil || machine.AccessToken == "" {
		t.Fatalf("client_credentials = %+v, %v", machine, err)
	}
	if r := send(t, "GET", bases[0]+"/auth/verify", nil, "Authorization", "Bearer "+machine.AccessToken); r.status != 200 {
		t.Errorf("client_credentials token at /auth/verify = %d %s", r.status, r.body)
	}
	if vc, err := v.Verify(t.Context(), machine.AccessToken); err != nil || vc.ClientID != c.ID || vc.Subject != c.ID || vc.UserID != 0 {
		t.Errorf("verify.Verify(client_credentials token) = %+v, %v; want the client as subject, no user", vc, err)
	}
	if r := send(t, "GET", bases[0]+"/user", nil, "Authorization", "Bearer "+machine.AccessToken); r.status != 401 {
		t.Errorf("client_credentials token at /user = %d, want 401 (not for jwtgate's own API)", r.status)
	}

	// Reuse of the spent refresh token after the grace window (10 s) ends
	// the session: the rotated token and the access tokens die with it.
	time.Sleep(11 * time.Second)
	if _, err := rp.conf.TokenSource(rp.ctx(), &oauth2.Token{RefreshToken: old, Expiry: time.Now().Add(-time.Hour)}).Token(); err == nil {
		t.Fatal("a spent refresh token was accepted after the grace window")
	}
	if _, err := rp.conf.TokenSource(rp.ctx(), &oauth2.Token{RefreshToken: next.RefreshToken, Expiry: time.Now().Add(-time.Hour)}).Token(); err == nil {
		t.Error("the successor of a reused refresh token still works")
	}
	for _, b := range bases {
		deadline := time.Now().Add(5 * time.Second)
		for {
			r := send(t, "GET", b+"/auth/verify", nil, "Authorization", "Bearer "+next.AccessToken)
			if r.status == 401 {
				break
			}
			if time.Now().After(deadline) {
				t.Errorf("access token of a revoked session at %s /auth/verify = %d, want 401", b, r.status)
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// TestOIDCRelyingPartySQLite: a Go relying party (x/oauth2 + go-oidc)
// completes its life against the real binary on SQLite.
func TestOIDCRelyingPartySQLite(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := StartServer(t, dir, []string{"--demo", "--issuer", rpIssuer})
	store, err := sqlite.Open(t.Context(), filepath.Join(dir, "jwtgate.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	checkRP(t, store, s.URL)
}

// TestOIDCRelyingPartyTwoPostgres: the same on two instances sharing one
// PostgreSQL database; the code is issued by one and redeemed at the other.
func TestOIDCRelyingPartyTwoPostgres(t *testing.T) {
	t.Parallel()
	db := pgtest.FreshSchema(t)
	args := []string{"--demo", "--db", db, "--issuer", rpIssuer}
	a := StartServer(t, "", args)
	b := StartServer(t, "", args)
	store, err := postgres.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	checkRP(t, store, a.URL, b.URL)
}
