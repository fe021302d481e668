package server

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/jwtgate/jwtgate/internal/accounts"
	"github.com/jwtgate/jwtgate/internal/metrics"
	"github.com/jwtgate/jwtgate/internal/oidc"
	"github.com/jwtgate/jwtgate/internal/passkey"
)

// The tests below keep openapi.json honest: it documents exactly the routes
// addRoutes registers, it is structurally sound, and what it says about
// authentication matches what the real handler does.

// oaDoc is the part of an OpenAPI document the tests read.
type oaDoc struct {
	OpenAPI string `json:"openapi"`
	Info    struct {
		Title   string `json:"title"`
		Version string `json:"version"`
	} `json:"info"`
	Servers []struct {
		URL string `json:"url"`
	} `json:"servers"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components struct {
		SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
	} `json:"components"`
}

type oaParam struct {
	Ref      string `json:"$ref"`
	Name     string `json:"name"`
	In       string `json:"in"`
	Required bool   `json:"required"`
}

type oaOperation struct {
	Summary     string      `json:"summary"`
	Description string      `json:"description"`
	Parameters  []oaParam   `json:"parameters"`
	Security    *[]oaSecReq `json:"security"` // nil: not declared; empty: public
	// Responses maps a status code to a Response object or a $ref to one.
	Responses map[string]json.RawMessage `json:"responses"`
}

type oaSecReq map[string][]string

// oaMethods are the path-item members that are operations.
var oaMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// loadOpenAPI parses the embedded document twice: typed, and as a generic
// tree for resolving $refs.
func loadOpenAPI(t *testing.T) (*oaDoc, any) {
	t.Helper()
	var doc oaDoc
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	var tree any
	if err := json.Unmarshal(openapiJSON, &tree); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return &doc, tree
}

// operations returns the document's operations keyed "METHOD /path".
func (d *oaDoc) operations(t *testing.T) map[string]oaOperation {
	t.Helper()
	ops := map[string]oaOperation{}
	for path, item := range d.Paths {
		for key, raw := range item {
			if !slices.Contains(oaMethods, key) {
				continue
			}
			var op oaOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", key, path, err)
			}
			ops[strings.ToUpper(key)+" "+path] = op
		}
	}
	return ops
}

// anyMethod are the operations a route registered without a method must
// document: it answers every method. TRACE is left out: proxies do not
// forward it and nothing calls it.
var anyMethod = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

// docRoutes turns a ServeMux pattern into the document's "METHOD /path"
// operations: none for the catch-all "/", which is not an API route; one
// per method in anyMethod for another pattern without a method.
func docRoutes(pattern string) []string {
	methods := anyMethod
	method, path, ok := strings.Cut(pattern, " ")
	if ok {
		methods = []string{method}
	} else {
		path = pattern
	}
	switch {
	case !ok && path == "/":
		return nil
	case strings.HasSuffix(path, "/{$}"):
		path = strings.TrimSuffix(path, "{$}")
	case path == "/assets/":
		path = "/assets/{file}"
	case strings.HasSuffix(path, "/"):
		// Another subtree route: it needs its own mapping here.
		path += "{path}"
	}
	var out []string
	for _, m := range methods {
		out = append(out, m+" "+path)
	}
	return out
}

// fullDeps are Deps with every optional dependency set, so addRoutes
// registers every route it may.
func fullDeps(f *fixture) Deps {
	acc, err := accounts.New(f.store, f.svc, nil, accounts.Options{PublicURL: "http://test", Signup: accounts.SignupOpen})
	if err != nil {
		panic(err)
	}
	pk, err := passkey.New(f.store, passkey.Options{PublicURL: "http://localhost"}) // WebAuthn wants a domain, not the fixture's "test"
	if err != nil {
		panic(err)
	}
	return Deps{Logger: slog.New(slog.DiscardHandler), Auth: f.svc, Keys: f.kr, Ready: f.store.Ping,
		Metrics: metrics.New(nil, nil), Accounts: acc, Clients: oidc.NewClients(f.store, nil, f.svc.Record), Passkeys: pk, OIDC: f.op}
}

// registeredRoutes returns the documented form of every route addRoutes
// registers, sorted.
func registeredRoutes(t *testing.T, f *fixture) []string {
	t.Helper()
	var patterns []string
	addRoutes(&recordingMux{http.NewServeMux(), &patterns}, fullDeps(f), newCookies(false, "", nil), Options{Issuer: "http://test"})
	var routes []string
	for _, p := range patterns {
		routes = append(routes, docRoutes(p)...)
	}
	sort.Strings(routes)
	if len(routes) < 10 {
		t.Fatalf("recorded only %d routes: %v", len(routes), routes)
	}
	return routes
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	f := newFixture(t, Options{})
	doc, _ := loadOpenAPI(t)
	ops := doc.operations(t)
	registered := registeredRoutes(t, f)
	for _, r := range registered {
		if _, ok := ops[r]; !ok {
			t.Errorf("route %s is registered in addRoutes but not documented in openapi.json", r)
		}
	}
	var documented []string
	for r := range ops {
		documented = append(documented, r)
	}
	sort.Strings(documented)
	for _, r := range documented {
		if !slices.Contains(registered, r) {
			t.Errorf("openapi.json documents %s, which addRoutes does not register", r)
		}
	}
}

// resolvePointer follows a local JSON pointer ("#/components/...") in tree.
func resolvePointer(tree any, ref string) (any, bool) {
	p, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	cur := tree
	for _, tok := range strings.Split(p, "/") {
		tok = strings.NewReplacer("~1", "/", "~0", "~").Replace(tok)
		switch c := cur.(type) {
		case map[string]any:
			if cur, ok = c[tok]; !ok {
				return nil, false
			}
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return nil, false
			}
			cur = c[i]
		default:
			return nil, false
		}
	}
	return cur, true
}

// collectRefs returns every "$ref" value in v, with where it was found.
func collectRefs(v any, at string, out map[string]string) {
	switch c := v.(type) {
	case map[string]any:
		for k, e := range c {
			if s, ok := e.(string); ok && k == "$ref" {
				out[at+"/$ref"] = s
				continue
			}
			collectRefs(e, at+"/"+strings.NewReplacer("~", "~0", "/", "~1").Replace(k), out)
		}
	case []any:
		for i, e := range c {
			collectRefs(e, at+"/"+strconv.Itoa(i), out)
		}
	}
}

// deref follows $ref chains (a Reference object replaces its target).
func deref(tree, v any) any {
	for range 10 {
		m, ok := v.(map[string]any)
		if !ok {
			return v
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return v
		}
		if v, ok = resolvePointer(tree, ref); !ok {
			return nil
		}
	}
	return v
}

// errorCodes returns the error codes a response declares: the enums of
// every "error" property in its JSON schema, following $refs.
func errorCodes(tree, response any) []string {
	var codes []string
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch c := v.(type) {
		case map[string]any:
			if ref, ok := c["$ref"].(string); ok {
				if seen[ref] {
					return
				}
				seen[ref] = true
				if t, ok := resolvePointer(tree, ref); ok {
					walk(t)
				}
			}
			if props, ok := c["properties"].(map[string]any); ok {
				if e, ok := props["error"].(map[string]any); ok {
					for _, x := range asSlice(e["enum"]) {
						if s, ok := x.(string); ok {
							codes = append(codes, s)
						}
					}
				}
			}
			for k, e := range c {
				if k != "$ref" {
					walk(e)
				}
			}
		case []any:
			for _, e := range c {
				walk(e)
			}
		}
	}
	r, _ := deref(tree, response).(map[string]any)
	if content, ok := r["content"].(map[string]any); ok {
		if mt, ok := content["application/json"].(map[string]any); ok {
			walk(mt["schema"])
		}
	}
	return codes
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

var pathParamRE = regexp.MustCompile(`\{([^}]+)\}`)

// concrete fills a documented path's parameters with a harmless value.
func concrete(path string) string { return pathParamRE.ReplaceAllString(path, "probe") }

func TestOpenAPIValid(t *testing.T) {
	doc, tree := loadOpenAPI(t)
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	if doc.Info.Title != "jwtgate" || doc.Info.Version == "" {
		t.Errorf("info = %+v", doc.Info)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/" {
		t.Errorf("servers = %+v, want one relative server \"/\"", doc.Servers)
	}
	for _, s := range []string{"bearerAuth", "cookieAuth"} {
		if _, ok := doc.Components.SecuritySchemes[s]; !ok {
			t.Errorf("components.securitySchemes lacks %s", s)
		}
	}

	// Every $ref resolves to an existing component.
	refs := map[string]string{}
	collectRefs(tree, "#", refs)
	if len(refs) == 0 {
		t.Error("no $ref at all: the shared schemas are not used")
	}
	for at, ref := range refs {
		if !strings.HasPrefix(ref, "#/components/") {
			t.Errorf("%s: $ref %q does not point into #/components/", at, ref)
		} else if _, ok := resolvePointer(tree, ref); !ok {
			t.Errorf("%s: $ref %q does not resolve", at, ref)
		}
	}

	ops := doc.operations(t)
	for route, op := range ops {
		_, path, _ := strings.Cut(route, " ")
		if strings.TrimSpace(op.Summary) == "" {
			t.Errorf("%s: no summary", route)
		}
		if len(op.Responses) == 0 {
			t.Errorf("%s: no responses", route)
		}
		for code := range op.Responses {
			if n, err := strconv.Atoi(code); code != "default" && (err != nil || n < 100 || n > 599) {
				t.Errorf("%s: response key %q is not a status code", route, code)
			}
		}
		if op.Security == nil {
			t.Errorf("%s: no security declared (public routes say security: [])", route)
		}
		for _, req := range securityReqs(op.Security) {
			for name := range req {
				if _, ok := doc.Components.SecuritySchemes[name]; !ok {
					t.Errorf("%s: security names unknown scheme %q", route, name)
				}
			}
		}

		// Path parameters: in the template exactly when declared.
		inTemplate := map[string]bool{}
		for _, m := range pathParamRE.FindAllStringSubmatch(path, -1) {
			inTemplate[m[1]] = true
		}
		declared := map[string]bool{}
		var params []oaParam
		if raw, ok := doc.Paths[path]["parameters"]; ok {
			if err := json.Unmarshal(raw, &params); err != nil {
				t.Fatalf("%s parameters: %v", path, err)
			}
		}
		for _, p := range append(params, op.Parameters...) {
			if p.Ref != "" {
				target, ok := resolvePointer(tree, p.Ref)
				if !ok {
					continue // reported above
				}
				b, _ := json.Marshal(target)
				p = oaParam{}
				_ = json.Unmarshal(b, &p)
			}
			if p.In != "path" {
				continue
			}
			declared[p.Name] = true
			if !inTemplate[p.Name] {
				t.Errorf("%s: declares path parameter %q that is not in the path", route, p.Name)
			}
			if !p.Required {
				t.Errorf("%s: path parameter %q must be required", route, p.Name)
			}
		}
		for name := range inTemplate {
			if !declared[name] {
				t.Errorf("%s: path parameter {%s} is not declared in parameters", route, name)
			}
		}
	}

	// Authentication as the handler does it. Every route is called without
	// a token: a 401 with a Bearer challenge means it is a token route
	// (wrapped in authed), which must declare security and a 401; any other
	// answer means a public route, which must declare security: []. Token
	// routes are called again with a fresh non-admin token: a 403
	// "forbidden" means an admin route, which must say so and list the 403.
	// Every status seen must be documented, with its error code.
	f := newFixture(t, Options{})
	h := NewServer(fullDeps(f), Options{Issuer: "http://test"})
	call := func(method, path, tok string) result { return serve(h, bearer(method, path, tok, "")) }
	tokenRoutes, adminRoutes := 0, 0
	for _, route := range registeredRoutes(t, f) {
		op, ok := ops[route]
		if !ok {
			continue // TestOpenAPIMatchesRoutes reports it
		}
		method, path, _ := strings.Cut(route, " ")
		anon := call(method, concrete(path), "")
		checkDocumented(t, tree, route, op, anon)
		if anon.code != http.StatusUnauthorized || !strings.HasPrefix(anon.header.Get("WWW-Authenticate"), "Bearer") {
			if op.Security == nil || len(*op.Security) != 0 {
				t.Errorf("%s is public (answered %d without a token) but does not declare security: []", route, anon.code)
			}
			continue
		}
		tokenRoutes++
		if op.Security == nil || len(*op.Security) == 0 {
			t.Errorf("%s needs a token but declares no security requirement", route)
		}
		if _, ok := op.Responses["401"]; !ok {
			t.Errorf("%s needs a token but documents no 401", route)
		}
		user := call(method, concrete(path), f.login(t, "alice", "alice-pass"))
		checkDocumented(t, tree, route, op, user)
		if user.code == http.StatusForbidden && bytes.Contains(user.body, []byte(`"forbidden"`)) {
			adminRoutes++
			if !strings.Contains(op.Summary+" "+op.Description, "role admin") &&
				!strings.Contains(op.Summary+" "+op.Description, "role `admin`") {
				t.Errorf("%s needs the admin role but its summary and description do not say so", route)
			}
		}
	}
	if tokenRoutes < 5 || adminRoutes < 3 {
		t.Errorf("found %d token routes, %d admin routes; the probe is broken", tokenRoutes, adminRoutes)
	}
}

// serve runs req through h (a handler other than a fixture's).
func serve(h http.Handler, req *http.Request) result {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	return result{code: resp.StatusCode, header: resp.Header, body: rec.Body.Bytes(), resp: resp}
}

func securityReqs(s *[]oaSecReq) []oaSecReq {
	if s == nil {
		return nil
	}
	return *s
}

func TestOpenAPIServed(t *testing.T) {
	f := newFixture(t, Options{})
	r := f.do(httptest.NewRequest("GET", "/openapi.json", nil))
	if r.code != http.StatusOK {
		t.Fatalf("GET /openapi.json = %d %.200s", r.code, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	if !bytes.Equal(r.body, openapiJSON) {
		t.Errorf("served %d bytes that differ from the embedded %d", len(r.body), len(openapiJSON))
	}
	if !json.Valid(r.body) {
		t.Error("served document is not valid JSON")
	}
}

// checkDocumented checks a real answer of route against its documentation:
// the status is documented; a JSON error's code is among the response's
// error codes; the media type is one documented; a JSON body has the
// schema's required members; every documented header is sent, with its
// value when the document fixes one.
func checkDocumented(t *testing.T, tree any, route string, op oaOperation, r result) {
	t.Helper()
	raw, ok := op.Responses[strconv.Itoa(r.code)]
	if !ok {
		t.Errorf("%s answered %d %.200s, which is not documented", route, r.code, r.body)
		return
	}
	var generic any
	_ = json.Unmarshal(raw, &generic)
	resp, _ := deref(tree, generic).(map[string]any)
	if resp == nil {
		return // an unresolved $ref, reported by TestOpenAPIValid
	}
	mediaType, _, _ := strings.Cut(r.header.Get("Content-Type"), ";")
	var e apiError
	if mediaType == "application/json" && json.Unmarshal(r.body, &e) == nil && e.Code != "" {
		if codes := errorCodes(tree, resp); !slices.Contains(codes, e.Code) {
			t.Errorf("%s answered %d %q, but that response documents error codes %v", route, r.code, e.Code, codes)
		}
	}
	if content, ok := resp["content"].(map[string]any); ok && len(r.body) > 0 {
		mt, ok := content[mediaType].(map[string]any)
		if !ok {
			t.Errorf("%s answered %d with Content-Type %q, not among the documented %v", route, r.code, mediaType, slices.Sorted(maps.Keys(content)))
		} else if strings.HasSuffix(mediaType, "json") {
			var body map[string]any
			if err := json.Unmarshal(r.body, &body); err != nil {
				t.Errorf("%s answered %d with a body that is not a JSON object: %.200s", route, r.code, r.body)
			}
			for _, k := range requiredKeys(tree, mt["schema"]) {
				if _, ok := body[k]; !ok {
					t.Errorf("%s answered %d without the required member %q: %.200s", route, r.code, k, r.body)
				}
			}
		}
	}
	headers, _ := resp["headers"].(map[string]any)
	for name, h := range headers {
		got, sent := r.header[http.CanonicalHeaderKey(name)]
		if !sent {
			t.Errorf("%s answered %d without the documented header %s", route, r.code, name)
			continue
		}
		hm, _ := deref(tree, h).(map[string]any)
		schema, _ := hm["schema"].(map[string]any)
		if want, ok := schema["const"].(string); ok && got[0] != want {
			t.Errorf("%s answered %d with %s: %q, documented as %q", route, r.code, name, got[0], want)
		}
	}
}

// requiredKeys returns the required members of an object schema, through
// $refs and allOf.
func requiredKeys(tree, schema any) []string {
	m, _ := deref(tree, schema).(map[string]any)
	var keys []string
	for _, k := range asSlice(m["required"]) {
		if s, ok := k.(string); ok {
			keys = append(keys, s)
		}
	}
	for _, sub := range asSlice(m["allOf"]) {
		keys = append(keys, requiredKeys(tree, sub)...)
	}
	return keys
}

// TestOpenAPIResponses calls routes the way clients do, successes and
// failures, and checks each answer against the document.
func TestOpenAPIResponses(t *testing.T) {
	doc, tree := loadOpenAPI(t)
	ops := doc.operations(t)
	f := newFixture(t, Options{})
	h := NewServer(fullDeps(f), Options{Issuer: "http://test", MaxBodyBytes: 4096})
	alice := f.loginFull(t, "alice", "alice-pass")
	user, refresh := alice["token"].(string), alice["refresh_token"].(string)
	admin := f.login(t, "admin", "admin-pass")
	big := `{"name":"alice","password":"` + strings.Repeat("x", 5000) + `"}`
	tests := []struct {
		route, path, tok, body string
		want                   int
	}{
		{"GET /", "/", "", "", 200},
		{"GET /login", "/login", "", "", 200},
		{"GET /assets/{file}", "/assets/app.css", "", "", 200},
		{"GET /assets/{file}", "/assets/nope.css", "", "", 404},
		{"POST /login", "/login", "", `{"name":"alice","password":"alice-pass"}`, 200},
		{"POST /login", "/login", "", `{"name":"alice","password":"wrong"}`, 400},
		{"POST /login", "/login", "", `{"name":"alice"}`, 400},
		{"POST /login", "/login", "", big, 413},
		{"GET /user", "/user", user, "", 200},
		{"GET /user", "/user", "", "", 401},
		{"POST /token/refresh", "/token/refresh", "", `{"refresh_token":"` + refresh + `"}`, 200},
		{"POST /token/refresh", "/token/refresh", "", `{"refresh_token":"nope"}`, 401},
		{"GET /user/sessions", "/user/sessions", user, "", 200},
		{"DELETE /user/sessions/{id}", "/user/sessions/nope", user, "", 404},
		{"POST /user/password", "/user/password", user, `{"current_password":"wrong","new_password":"long enough"}`, 400},
		{"POST /user/password", "/user/password", user, `{"current_password":"alice-pass","new_password":"short"}`, 400},
		{"GET /auth/verify", "/auth/verify", user, "", 200},
		{"POST /auth/verify", "/auth/verify", "", "", 401},
		{"GET /.well-known/jwks.json", "/.well-known/jwks.json", "", "", 200},
		{"GET /.well-known/openid-configuration", "/.well-known/openid-configuration", "", "", 200},
		{"GET /.well-known/oauth-authorization-server", "/.well-known/oauth-authorization-server", "", "", 200},
		{"GET /revocations", "/revocations", "", "", 200},
		{"GET /revocations", "/revocations?since=x", "", "", 400},
		{"GET /admin/keys", "/admin/keys", admin, "", 200},
		{"GET /admin/keys", "/admin/keys", user, "", 403},
		{"POST /admin/keys/rotate", "/admin/keys/rotate", admin, "", 201},
		{"GET /admin/audit", "/admin/audit", admin, "", 200},
		{"GET /admin/audit", "/admin/audit?limit=0", admin, "", 400},
		{"GET /admin/users", "/admin/users?q=al&limit=1", admin, "", 200},
		{"POST /admin/users", "/admin/users", admin, `{"name":"carol","password":"carol-pass","roles":["ops"]}`, 201},
		{"POST /admin/users", "/admin/users", admin, `{"name":"carol","password":"carol-pass"}`, 409},
		{"POST /admin/users", "/admin/users", admin, `{"name":"` + strings.Repeat("n", 65) + `","password":"carol-pass"}`, 400},
		{"POST /admin/users/{name}/password", "/admin/users/carol/password", admin, `{"password":"new-carol-pass"}`, 204},
		{"POST /admin/users/{name}/disable", "/admin/users/admin/disable", admin, "", 409},
		{"POST /admin/users/{name}/disable", "/admin/users/carol/disable", admin, "", 204},
		{"POST /admin/users/{name}/enable", "/admin/users/nobody/enable", admin, "", 404},
		{"DELETE /admin/users/{name}/sessions", "/admin/users/alice/sessions", admin, "", 200},
		{"DELETE /admin/users/{name}", "/admin/users/carol", admin, "", 204},
		{"GET /openapi.json", "/openapi.json", "", "", 200},
		{"GET /healthz", "/healthz", "", "", 200},
		{"GET /readyz", "/readyz", "", "", 200},
		{"GET /signup", "/signup", "", "", 200},
		{"POST /signup", "/signup", "", `{"name":"dora","password":"dora's long password"}`, 201},
		{"POST /signup", "/signup", "", `{"name":"dora","password":"dora's long password"}`, 409},
		{"POST /signup", "/signup", "", `{"name":"erin","password":"password123"}`, 400},
		{"POST /signup/invitation", "/signup/invitation", "", `{"invitation":"x"}`, 404},
		{"GET /email/verify", "/email/verify", "", "", 200},
		{"POST /email/verify", "/email/verify", "", `{"token":"nope"}`, 400},
		{"GET /password/forgot", "/password/forgot", "", "", 200},
		{"POST /password/forgot", "/password/forgot", "", `{"email":"alice@example.test"}`, 501},
		{"GET /password/reset", "/password/reset", "", "", 200},
		{"POST /password/reset", "/password/reset", "", `{"token":"nope","password":"a-long-password"}`, 400},
		{"GET /user/email", "/user/email", admin, "", 200},
		{"POST /user/email", "/user/email", admin, `{"email":"root@example.test"}`, 501},
		{"POST /user/email/resend", "/user/email/resend", admin, "", 501},
		{"PUT /admin/users/{name}/email", "/admin/users/alice/email", admin, `{"email":"Alice@Example.TEST","verified":true}`, 200},
		{"PUT /admin/users/{name}/email", "/admin/users/bob/email", admin, `{"email":"ALICE@example.test"}`, 409},
		{"PUT /admin/users/{name}/email", "/admin/users/alice/email", admin, `{"email":"a\r\nb@example.test"}`, 400},
		{"PUT /admin/users/{name}/email", "/admin/users/nobody/email", admin, `{"email":null}`, 404},
		{"GET /admin/invitations", "/admin/invitations", admin, "", 200},
		{"POST /admin/invitations", "/admin/invitations", admin, `{"email":"frank@example.test","roles":["dev"]}`, 201},
		{"POST /admin/invitations", "/admin/invitations", admin, `{"email":"not an address"}`, 400},
		{"DELETE /admin/invitations/{id}", "/admin/invitations/999", admin, "", 404},
		{"DELETE /admin/invitations/{id}", "/admin/invitations/x", admin, "", 400},
		{"GET /admin/clients", "/admin/clients", admin, "", 200},
		{"POST /admin/clients", "/admin/clients", admin, `{"name":"app","redirect_uris":["https://app.example.test/cb"]}`, 201},
		{"POST /admin/clients", "/admin/clients", admin, `{"name":"APP","redirect_uris":["https://app.example.test/cb"]}`, 409},
		{"POST /admin/clients", "/admin/clients", admin, `{"name":"b","redirect_uris":["http://app.example.test/cb"]}`, 400},
		{"GET /admin/clients/{id}", "/admin/clients/nope", admin, "", 404},
		{"POST /admin/clients/{id}/secret", "/admin/clients/nope/secret", admin, "", 404},
		{"DELETE /admin/clients/{id}", "/admin/clients/nope", admin, "", 404},
		{"POST /logout", "/logout", admin, "", 204},
	}
	for _, tt := range tests {
		op, ok := ops[tt.route]
		if !ok {
			t.Errorf("%s is not documented", tt.route)
			continue
		}
		method, _, _ := strings.Cut(tt.route, " ")
		r := serve(h, bearer(method, tt.path, tt.tok, tt.body))
		if r.code != tt.want {
			t.Errorf("%s %s = %d %.200s, want %d", method, tt.path, r.code, r.body, tt.want)
		}
		checkDocumented(t, tree, tt.route, op, r)
	}
}
