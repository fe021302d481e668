package server

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
)

// TestDiscovery: the metadata lists what the server does today, no more,
// at both well-known names, publicly; every URL it names answers.
func TestDiscovery(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.login(t, "alice", "alice-pass")
	var first []byte
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		r := f.do(httptest.NewRequest("GET", path, nil))
		if r.code != 200 {
			t.Fatalf("GET %s without a token = %d, want 200", path, r.code)
		}
		if first == nil {
			first = r.body
		} else if !bytes.Equal(r.body, first) {
			t.Errorf("GET %s = %s, want the same document as openid-configuration %s", path, r.body, first)
		}
		m := r.json(t)
		want := []string{"grant_types_supported", "issuer", "jwks_uri", "response_types_supported", "revocation_feed_endpoint", "subject_types_supported", "userinfo_endpoint"}
		if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, want) {
			t.Errorf("GET %s members = %v, want %v (nothing the server does not do)", path, got, want)
		}
		if m["issuer"] != "http://test" {
			t.Errorf("GET %s issuer = %v, want http://test", path, m["issuer"])
		}
		for _, name := range []string{"grant_types_supported", "response_types_supported"} {
			if v, ok := m[name].([]any); !ok || len(v) != 0 {
				t.Errorf("GET %s %s = %v, want [] (no OAuth authorization or token endpoint)", path, name, m[name])
			}
		}
		for _, name := range []string{"jwks_uri", "userinfo_endpoint", "revocation_feed_endpoint"} {
			u, _ := m[name].(string)
			local := u[len("http://test"):]
			if r := f.do(bearer("GET", local, tok, "")); r.code != 200 {
				t.Errorf("GET %s (%s from %s) = %d, want 200", local, name, path, r.code)
			}
		}
	}
}

// TestUserSub: GET /user and /auth/verify carry sub, the user's stable id
// as a string, next to the tutorial's name.
func TestUserSub(t *testing.T) {
	f := newFixture(t, Options{})
	tok := f.login(t, "alice", "alice-pass")
	for _, path := range []string{"/user", "/auth/verify"} {
		r := f.do(bearer("GET", path, tok, ""))
		var body struct {
			Name string          `json:"name"`
			Sub  json.RawMessage `json:"sub"`
			ID   int64           `json:"id"`
		}
		if err := json.Unmarshal(r.body, &body); r.code != 200 || err != nil {
			t.Fatalf("GET %s = %d %s", path, r.code, r.body)
		}
		if want := strconv.Quote(strconv.FormatInt(body.ID, 10)); body.Name != "alice" || string(body.Sub) != want {
			t.Errorf("GET %s = %s, want name alice and sub %s", path, r.body, want)
		}
	}
}
