package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
)

// TestDiscovery: the metadata lists what the server does, no more, at
// both well-known names, publicly; every endpoint it names answers.
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
		want := []string{"authorization_endpoint", "authorization_response_iss_parameter_supported", "claims_supported",
			"code_challenge_methods_supported", "end_session_endpoint", "grant_types_supported", "id_token_signing_alg_values_supported",
			"introspection_endpoint", "introspection_endpoint_auth_methods_supported", "issuer", "jwks_uri", "prompt_values_supported",
			"request_parameter_supported", "request_uri_parameter_supported", "response_modes_supported", "response_types_supported",
			"revocation_endpoint", "revocation_endpoint_auth_methods_supported", "revocation_feed_endpoint", "scopes_supported",
			"subject_types_supported", "token_endpoint", "token_endpoint_auth_methods_supported", "userinfo_endpoint"}
		if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, want) {
			t.Errorf("GET %s members = %v, want %v (nothing the server does not do)", path, got, want)
		}
		if m["issuer"] != "http://test" {
			t.Errorf("GET %s issuer = %v, want http://test", path, m["issuer"])
		}
		for name, want := range map[string]string{
			"grant_types_supported":                 "[authorization_code refresh_token client_credentials]",
			"response_types_supported":              "[code]",
			"response_modes_supported":              "[query]",
			"code_challenge_methods_supported":      "[S256]",
			"id_token_signing_alg_values_supported": "[RS256 EdDSA]",
			"token_endpoint_auth_methods_supported": "[client_secret_basic client_secret_post none]",
			"request_uri_parameter_supported":       "false",
		} {
			if got := fmt.Sprint(m[name]); got != want {
				t.Errorf("GET %s %s = %s, want %s", path, name, got, want)
			}
		}
		for name, method := range map[string]string{
			"jwks_uri": "GET", "revocation_feed_endpoint": "GET", "authorization_endpoint": "GET", "token_endpoint": "POST",
			"userinfo_endpoint": "GET", "revocation_endpoint": "POST", "introspection_endpoint": "POST", "end_session_endpoint": "GET",
		} {
			u, _ := m[name].(string)
			local := u[len("http://test"):]
			r := f.do(bearer(method, local, tok, ""))
			if r.code == 404 || r.code == 405 || r.code >= 500 {
				t.Errorf("%s %s (%s from %s) = %d, want a route that answers", method, local, name, path, r.code)
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
