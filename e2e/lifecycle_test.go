package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v3/jwk"
	"github.com/lestrrat-go/jwx/v3/jws"

	"github.com/jwtgate/jwtgate/internal/testkit"
	"github.com/jwtgate/jwtgate/token"
	"github.com/jwtgate/jwtgate/verify"
)

// TestVerifyServiceFollowsLogout protects a service with the verify
// package against the real binary and measures how long after a logout
// the service refuses the token, at the default 2 s feed polling. The
// delay is logged, and asserted (within 3 s) only with JGTEST_TIMING=1.
func TestVerifyServiceFollowsLogout(t *testing.T) {
	t.Parallel()
	s := StartServer(t, "", []string{"--demo"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v, err := verify.New(ctx, s.URL)
	if err != nil {
		t.Fatalf("verify.New(%s) = %v", s.URL, err)
	}
	defer v.Close()
	svc := httptest.NewServer(v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verify.ClaimsFrom(r.Context())
		w.Write([]byte(c.Name))
	})))
	defer svc.Close()

	tok := loginToken(t, s.URL, "admin", "1234")
	if r := send(t, "GET", svc.URL, nil, "Authorization", "Bearer "+tok); r.status != 200 || string(r.body) != "admin" {
		t.Fatalf("protected service = %d %q, want 200 admin", r.status, r.body)
	}
	if r := send(t, "POST", s.URL+"/logout", nil, "Authorization", "Bearer "+tok); r.status != 204 {
		t.Fatalf("logout = %d", r.status)
	}
	start := time.Now()
	// The issuing server refuses it at once.
	if r := send(t, "GET", s.URL+"/user", nil, "Authorization", "Bearer "+tok); r.status != 401 {
		t.Errorf("jwtgate after logout = %d, want 401 at once", r.status)
	}
	testkit.Eventually(t, "the verify-protected service to refuse the logged-out token", func() bool {
		return send(t, "GET", svc.URL, nil, "Authorization", "Bearer "+tok).status == 401
	})
	took := time.Since(start)
	t.Logf("verify-protected service refused the logged-out token after %s (feed polled every 2 s)", took.Round(time.Millisecond))
	if testkit.Timing() && took > 3*time.Second {
		t.Errorf("logout reached the service after %s, want within one poll interval (2 s) plus slack", took)
	}
}

// TestJWKSInteropAllAlgorithms verifies the real server's tokens for every
// algorithm with lestrrat-go/jwx, an independent JOSE implementation, from
// nothing but the JWKS the server publishes.
func TestJWKSInteropAllAlgorithms(t *testing.T) {
	t.Parallel()
	for _, alg := range []string{token.EdDSA, token.ES256, token.RS256} {
		t.Run(alg, func(t *testing.T) {
			t.Parallel()
			s := StartServer(t, "", []string{"--demo", "--signing-alg", alg})
			tok := loginToken(t, s.URL, "admin", "1234")
			r := send(t, "GET", s.URL+"/.well-known/openid-configuration", nil)
			var disc struct {
				Issuer  string `json:"issuer"`
				JWKSURI string `json:"jwks_uri"`
			}
			if err := json.Unmarshal(r.body, &disc); err != nil || disc.Issuer != s.URL {
				t.Fatalf("discovery = %s", r.body)
			}
			set, err := jwk.Parse(send(t, "GET", disc.JWKSURI, nil).body)
			if err != nil {
				t.Fatalf("jwx parse JWKS: %v", err)
			}
			payload, err := jws.Verify([]byte(tok), jws.WithKeySet(set, jws.WithRequireKid(true)))
			if err != nil {
				t.Fatalf("jwx verify %s token: %v", alg, err)
			}
			var claims map[string]any
			json.Unmarshal(payload, &claims)
			if claims["name"] != "admin" || claims["iss"] != s.URL {
				t.Errorf("claims = %v", claims)
			}
			msg, _ := jws.Parse([]byte(tok))
			if a, _ := msg.Signatures()[0].ProtectedHeaders().Algorithm(); a.String() != alg {
				t.Errorf("alg = %v, want %s", a, alg)
			}
		})
	}
}

// TestParallelRefreshOverHTTP: ten parallel refreshes with one token over
// real HTTP all get the same successor, and the session lives on.
func TestParallelRefreshOverHTTP(t *testing.T) {
	t.Parallel()
	s := StartServer(t, "", []string{"--demo"})
	login := send(t, "POST", s.URL+"/login", loginJSON("admin", "1234")).jsonBody()
	body, _ := json.Marshal(map[string]any{"refresh_token": login["refresh_token"]})
	var wg sync.WaitGroup
	got := make([]map[string]any, 10)
	codes := make([]int, 10)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Post(s.URL+"/token/refresh", "application/json", bytesReader(body))
			if err != nil {
				return
			}
			defer resp.Body.Close()
			codes[i] = resp.StatusCode
			json.NewDecoder(resp.Body).Decode(&got[i])
		}()
	}
	wg.Wait()
	for i := range got {
		if codes[i] != 200 || got[i]["refresh_token"] != got[0]["refresh_token"] || got[i]["token"] != got[0]["token"] {
			t.Errorf("refresh #%d = %d %v, want 200 and the same pair as #0", i, codes[i], got[i])
		}
	}
	if r := send(t, "GET", s.URL+"/user", nil, "Authorization", "Bearer "+got[0]["token"].(string)); r.status != 200 {
		t.Errorf("GET /user with the raced token = %d", r.status)
	}
}

// TestRotationOverHTTP: an admin rotation publishes the new key at once
// while the old one keeps signing (publish delay), and the CLI lists both.
func TestRotationOverHTTP(t *testing.T) {
	t.Parallel()
	s := StartServer(t, "", []string{"--demo"})
	admin := loginToken(t, s.URL, "admin", "1234")
	oldKid := jwtPart(t, admin, 0)["kid"]
	r := send(t, "POST", s.URL+"/admin/keys/rotate", nil, "Authorization", "Bearer "+admin)
	if r.status != 201 {
		t.Fatalf("rotate = %d %s", r.status, r.body)
	}
	newKid := r.jsonBody()["kid"]
	keys, err := token.ParseJWKS(send(t, "GET", s.URL+"/.well-known/jwks.json", nil).body)
	// Two signing keys, and two RS256 id_token keys rotated with them.
	signing := slices.DeleteFunc(keys, func(k *token.Key) bool { return k.Alg != token.EdDSA })
	if err != nil || len(signing) != 2 {
		t.Fatalf("JWKS after rotation = %v, %v; want 2 EdDSA keys", signing, err)
	}
	if kid := jwtPart(t, loginToken(t, s.URL, "admin", "1234"), 0)["kid"]; kid != oldKid || kid == newKid {
		t.Errorf("a token right after rotation is signed by %v, want the old key %v (publish delay)", kid, oldKid)
	}
	out, _, code := Run(t, s.Dir, "", "keys", "list", "--json")
	var listed []map[string]any
	err = json.Unmarshal([]byte(out), &listed)
	listed = slices.DeleteFunc(listed, func(k map[string]any) bool { return k["alg"] != token.EdDSA })
	if code != 0 || err != nil || len(listed) != 2 || listed[0]["state"] != "pending" {
		t.Errorf("keys list --json = %d %s", code, out)
	}
}
