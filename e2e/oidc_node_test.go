package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/internal/testkit"
)

// envRequireNode makes the Node relying-party tests fail, instead of
// skipping, when Node.js, npm or the npm packages are unavailable (CI sets
// it, as for internal/server's discovery test).
const envRequireNode = "JGTEST_REQUIRE_NODE"

// nodeRPDir returns a directory holding the pinned npm packages of
// internal/server/testdata/rpclient (openid-client, oauth4webapi, jose)
// and this package's testdata/oidc_rp.mjs. It shares internal/server's
// cache: the same directory under the user's cache directory, keyed by the
// same hash of package.json and the lock file, so the packages are
// installed once for both, with `npm ci` from the lock, and never enter the
// worktree.
func nodeRPDir(t *testing.T) string {
	t.Helper()
	src := filepath.Join("..", "internal", "server", "testdata", "rpclient")
	return testkit.NodeScript(t, envRequireNode, src, filepath.Join("testdata", "oidc_rp.mjs"))
}

// nodeRPResult is what testdata/oidc_rp.mjs prints.
type nodeRPResult struct {
	Discovery struct {
		Issuer                string   `json:"issuer"`
		AuthorizationEndpoint string   `json:"authorization_endpoint"`
		TokenEndpoint         string   `json:"token_endpoint"`
		UserinfoEndpoint      string   `json:"userinfo_endpoint"`
		CodeChallengeMethods  []string `json:"code_challenge_methods_supported"`
		IssParameter          bool     `json:"authorization_response_iss_parameter_supported"`
	} `json:"discovery"`
	Callback struct {
		HasCode      bool   `json:"has_code"`
		StateMatches bool   `json:"state_matches"`
		Iss          string `json:"iss"`
	} `json:"callback"`
	IDToken struct {
		Header map[string]any `json:"header"`
		Claims map[string]any `json:"claims"`
	} `json:"id_token"`
	TokenType   string         `json:"token_type"`
	Scope       string         `json:"scope"`
	HasRefresh  bool           `json:"has_refresh_token"`
	AccessToken nodeAccess     `json:"access_token"`
	Userinfo    map[string]any `json:"userinfo"`
	Refreshed   *struct {
		NewAccessToken bool       `json:"new_access_token"`
		Rotated        bool       `json:"rotated_refresh_token"`
		AccessToken    nodeAccess `json:"access_token"`
	} `json:"refreshed"`
}

type nodeAccess struct {
	Claims map[string]any `json:"claims"`
	Header map[string]any `json:"header"`
}

// TestOIDCNodeRelyingParty runs Node's openid-client v6, oauth4webapi and
// jose (testdata/oidc_rp.mjs) against the real binary: discovery, the code
// flow with PKCE S256, state and nonce for a user who logs in over plain
// HTTP, the id_token's signature and claims, the access token as an RFC
// 9068 JWT access token, userinfo and a refresh. The libraries do the
// checking; this test then holds their findings to jwtgate's documented
// values (who the user is, which client, which scopes, RS256 for the
// id_token).
func TestOIDCNodeRelyingParty(t *testing.T) {
	dir := nodeRPDir(t)
	srv := StartServer(t, "", nil, "JWTGATE_ADMIN_PASSWORD=admin-pass-123")
	base := srv.URL
	if _, errOut, code := Run(t, srv.Dir, "alice-pass-123\n", "user", "add", "alice", "--email", "alice@example.test", "--email-verified", "--password-stdin"); code != 0 {
		t.Fatalf("jwtgate user add alice: exit %d: %s", code, errOut)
	}
	_, users := userList(t, srv.Dir)
	var aliceID int64
	for _, u := range users {
		if u.Name == "alice" {
			aliceID = u.ID
		}
	}
	// A trusted client: no consent page, so that plain HTTP requests get
	// the code (the consent page is the browser tests' part).
	const redirectURI = "http://127.0.0.1:9/callback"
	out, errOut, code := Run(t, srv.Dir, "", "client", "add", "node-rp", "--redirect-uri", redirectURI, "--trusted", "--json")
	var creds struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	if err := json.Unmarshal([]byte(out), &creds); code != 0 || err != nil || creds.ClientSecret == "" {
		t.Fatalf("jwtgate client add node-rp --json: exit %d, %q (%v): %s", code, out, err, errOut)
	}

	input, _ := json.Marshal(map[string]string{
		"issuer": base, "client_id": creds.ClientID, "client_secret": creds.ClientSecret,
		"redirect_uri": redirectURI, "name": "alice", "password": "alice-pass-123",
		"scope": "openid profile email offline_access", "audience": oidcAccessTokenAudience(creds.ClientID),
	})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "oidc_rp.mjs")
	cmd.Dir = dir
	cmd.Stdin = bytes.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node oidc_rp.mjs: %v\n%s\nserver log:\n%s", err, stderr.Bytes(), srv.Stderr())
	}
	var got nodeRPResult
	if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
		t.Fatalf("oidc_rp.mjs printed %q: %v", stdout.Bytes(), err)
	}
	t.Logf("openid-client: %s", stdout.Bytes())

	sub := strconv.FormatInt(aliceID, 10)
	if got.Discovery.Issuer != base || !strings.HasPrefix(got.Discovery.AuthorizationEndpoint, base+"/") ||
		!strings.HasPrefix(got.Discovery.TokenEndpoint, base+"/") || !strings.Contains(strings.Join(got.Discovery.CodeChallengeMethods, " "), "S256") ||
		strings.Contains(strings.Join(got.Discovery.CodeChallengeMethods, " "), "plain") || !got.Discovery.IssParameter {
		t.Errorf("discovery = %+v, want the issuer's endpoints, S256 only, and the iss parameter", got.Discovery)
	}
	if !got.Callback.HasCode || !got.Callback.StateMatches || got.Callback.Iss != base {
		t.Errorf("authorization response = %+v, want a code, the state back and iss %s (RFC 9207)", got.Callback, base)
	}
	c := got.IDToken.Claims
	if got.IDToken.Header["alg"] != "RS256" || c["iss"] != base || c["aud"] != creds.ClientID || c["sub"] != sub ||
		c["nonce"] == nil || c["at_hash"] == nil || c["auth_time"] == nil || c["sid"] == nil {
		t.Errorf("id_token = %v %v, want RS256 with iss, aud=client_id, sub %s, nonce, at_hash, auth_time, sid", got.IDToken.Header, c, sub)
	}
	if !strings.EqualFold(got.TokenType, "bearer") || !got.HasRefresh {
		t.Errorf("token response: token_type %q, refresh token %v; want Bearer and one (offline_access)", got.TokenType, got.HasRefresh)
	}
	checkAccess := func(who string, a nodeAccess) {
		t.Helper()
		if a.Header["typ"] != "at+jwt" || a.Claims["sub"] != sub || a.Claims["client_id"] != creds.ClientID ||
			a.Claims["iss"] != base || !strings.Contains(" "+fmtAny(a.Claims["scope"])+" ", " openid ") {
			t.Errorf("%s access token = %v %v, want typ at+jwt, sub %s, client_id %s, scope with openid", who, a.Header, a.Claims, sub, creds.ClientID)
		}
	}
	checkAccess("first", got.AccessToken)
	u := got.Userinfo
	if u["sub"] != sub || u["preferred_username"] != "alice" || u["email"] != "alice@example.test" || u["email_verified"] != true {
		t.Errorf("userinfo = %v, want sub %s, preferred_username alice, the verified email", u, sub)
	}
	if got.Refreshed == nil || !got.Refreshed.NewAccessToken || !got.Refreshed.Rotated {
		t.Errorf("refresh = %+v, want a new access token and a rotated refresh token", got.Refreshed)
	} else {
		checkAccess("refreshed", got.Refreshed.AccessToken)
	}
}

func fmtAny(v any) string {
	s, _ := v.(string)
	return s
}

// oidcAccessTokenAudience is the aud jwtgate puts in a client's access
// tokens (RFC 9068 §2.2): the client's own id, as the audience of the
// tokens it gets.
func oidcAccessTokenAudience(clientID string) string { return clientID }
