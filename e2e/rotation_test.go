package e2e

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate/token"
)

// TestScheduledRotationTwoInstances runs two real jwtgate processes on one
// SQLite file with a short --key-rotation-interval. Between them they make
// exactly one new key when it is due; both publish it in their JWKS before
// either signs a token with it; the JWKS max-age follows the publish delay
// (half of it); and after the rotation both sign with the new key.
func TestScheduledRotationTwoInstances(t *testing.T) {
	t.Parallel()
	const (
		publishDelay = 3 * time.Second
		interval     = 8 * time.Second // at least publish delay + access TTL
	)
	dir := t.TempDir()
	args := []string{"--demo", "--issuer", "http://jwtgate.cluster", "--access-ttl", "2s", "--key-publish-delay", publishDelay.String(),
		"--key-rotation-interval", interval.String()}
	a := StartServer(t, dir, args)
	b := StartServer(t, dir, args)
	servers := map[string]*Server{"A": a, "B": b}

	jwks := func(s *Server) (map[string]bool, reply) {
		r := send(t, "GET", s.URL+"/.well-known/jwks.json", nil)
		keys, err := token.ParseJWKS(r.body)
		if err != nil {
			t.Fatalf("GET %s/.well-known/jwks.json: %v", s.URL, err)
		}
		kids := map[string]bool{}
		for _, k := range keys {
			if k.Alg == token.EdDSA { // the signing keys, not the RS256 id_token key
				kids[k.ID] = true
			}
		}
		return kids, r
	}
	first, r := jwks(a)
	if len(first) != 1 {
		t.Fatalf("JWKS at start lists %d keys, want 1", len(first))
	}
	if got, want := r.header.Get("Cache-Control"), "public, max-age="+strconv.Itoa(int(publishDelay.Seconds()/2)); got != want {
		t.Errorf("JWKS Cache-Control = %q, want %q (half the publish delay)", got, want)
	}

	// Poll until both instances sign with a key that was not there at
	// start, noting when each instance's JWKS first listed each key and
	// when a token signed by it was first asked for.
	published := map[string]map[string]time.Time{"A": {}, "B": {}}
	signedFrom := map[string]time.Time{} // kid → start of the first login that got a token it signed
	signers := map[string]string{}       // instance → kid of its latest token
	deadline := time.Now().Add(interval + publishDelay + 20*time.Second)
	for {
		for name, s := range servers {
			kids, _ := jwks(s)
			now := time.Now()
			for kid := range kids {
				if _, seen := published[name][kid]; !seen {
					published[name][kid] = now
				}
			}
			asked := time.Now()
			kid := jwtHeaderKID(t, loginToken(t, s.URL, "admin", "1234"))
			if _, seen := signedFrom[kid]; !seen {
				signedFrom[kid] = asked
			}
			signers[name] = kid
		}
		if !first[signers["A"]] && !first[signers["B"]] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no instance signs with a new key %s after start; signers %v", time.Since(deadline.Add(-interval-publishDelay-20*time.Second)), signers)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if signers["A"] != signers["B"] {
		t.Errorf("after the rotation A signs with %s and B with %s, want the same key", signers["A"], signers["B"])
	}
	kid := signers["A"]
	for name := range servers {
		pub, ok := published[name][kid]
		if !ok || !pub.Before(signedFrom[kid]) {
			t.Errorf("instance %s published key %s at %v, want before it first signed (a login started at %v)",
				name, kid, pub.Format(time.StampMilli), signedFrom[kid].Format(time.StampMilli))
		}
	}

	// One scheduled rotation by two instances made one key.
	out, stderr, code := Run(t, dir, "", "keys", "list", "--json")
	if code != 0 {
		t.Fatalf("keys list = %d: %s", code, stderr)
	}
	var all []struct {
		ID    string `json:"kid"`
		Alg   string `json:"alg"`
		State string `json:"state"`
	}
	if err := json.Unmarshal([]byte(out), &all); err != nil {
		t.Fatalf("keys list --json: %v\n%s", err, out)
	}
	keys := slices.DeleteFunc(all, func(k struct {
		ID    string `json:"kid"`
		Alg   string `json:"alg"`
		State string `json:"state"`
	}) bool {
		return k.Alg != token.EdDSA
	})
	if len(keys) != 2 {
		t.Errorf("keys list after one scheduled rotation by two instances = %+v, want 2 keys", keys)
	}

	// While the rotated key is fresh, a manual rotation is accepted once
	// and a second one is refused: at most one key is pending.
	admin := loginToken(t, a.URL, "admin", "1234")
	if r := send(t, "POST", a.URL+"/admin/keys/rotate", nil, "Authorization", "Bearer "+admin); r.status != http.StatusCreated {
		t.Fatalf("POST /admin/keys/rotate = %d %s, want 201", r.status, r.body)
	}
	r = send(t, "POST", b.URL+"/admin/keys/rotate", nil, "Authorization", "Bearer "+admin)
	if code, _ := r.jsonBody()["error"].(string); r.status != http.StatusConflict || code != "key_pending" {
		t.Errorf("second POST /admin/keys/rotate (on B) while a key is pending = %d %s (%s), want 409 key_pending", r.status, r.body, r.header.Get("WWW-Authenticate"))
	}
	if _, stderr, code := Run(t, dir, "", "keys", "rotate"); code == 0 || stderr == "" {
		t.Errorf("jwtgate keys rotate while a key is pending = exit %d, stderr %q; want an error", code, stderr)
	}
}

// jwtHeaderKID returns the kid of a compact JWS.
func jwtHeaderKID(t *testing.T, tok string) string {
	t.Helper()
	kid, _ := jwtPart(t, tok, 0)["kid"].(string)
	if kid == "" {
		t.Fatalf("token header without kid: %s", tok)
	}
	return kid
}
