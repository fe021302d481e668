package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"
	"testing"

	lxjwk "github.com/lestrrat-go/jwx/v3/jwk"
)

func mustJWKS(t testing.TB, keys ...*Key) []byte {
	t.Helper()
	b, err := MarshalJWKS(keys)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// members decodes a JWK object into its member map.
func members(t *testing.T, raw []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestJWKSRoundTrip(t *testing.T) {
	secret, err := Secret([]byte(strings.Repeat("s", 32)))
	if err != nil {
		t.Fatal(err)
	}
	for _, alg := range []string{EdDSA, ES256, RS256} {
		t.Run(alg, func(t *testing.T) {
			k := mustGenerate(t, alg)
			doc := mustJWKS(t, k, secret)
			keys, err := ParseJWKS(doc)
			if err != nil {
				t.Fatalf("ParseJWKS(MarshalJWKS(%s key)) = %v", alg, err)
			}
			if len(keys) != 1 {
				t.Fatalf("ParseJWKS returned %d keys, want 1 (the secret must not be published): %s", len(keys), doc)
			}
			got := keys[0]
			if got.ID != k.ID || got.Alg != alg || got.CanSign() {
				t.Errorf("parsed key = {ID:%q Alg:%q CanSign:%v}, want {ID:%q Alg:%q CanSign:false}", got.ID, got.Alg, got.CanSign(), k.ID, alg)
			}
			raw, err := Sign(k, claimsAt(epoch))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := verifier(NewKeySet(keys...), []string{alg}, VerifierOptions{}).Verify(raw); err != nil {
				t.Errorf("Verify(token of original key) with parsed JWKS = %v", err)
			}
			// And the parsed key re-marshals to the same JWK.
			again, _ := got.JWK()
			first, _ := k.JWK()
			if string(again) != string(first) {
				t.Errorf("JWK after round trip = %s, want %s", again, first)
			}
		})
	}
}

// TestJWKMembers checks the exact members published: nothing private, nothing
// we did not ask for.
func TestJWKMembers(t *testing.T) {
	tests := []struct {
		alg  string
		want []string
	}{
		{alg: EdDSA, want: []string{"alg", "crv", "kid", "kty", "use", "x"}},
		{alg: ES256, want: []string{"alg", "crv", "kid", "kty", "use", "x", "y"}},
		{alg: RS256, want: []string{"alg", "e", "kid", "kty", "n", "use"}},
	}
	for _, tt := range tests {
		k := mustGenerate(t, tt.alg)
		raw, err := k.JWK()
		if err != nil {
			t.Fatal(err)
		}
		m := members(t, raw)
		if got := slices.Sorted(maps.Keys(m)); !slices.Equal(got, tt.want) {
			t.Errorf("%s JWK members = %v, want %v", tt.alg, got, tt.want)
		}
		if m["use"] != "sig" || m["alg"] != tt.alg || m["kid"] != k.ID {
			t.Errorf("%s JWK = %s, want use sig, alg %s, kid %s", tt.alg, raw, tt.alg, k.ID)
		}
	}
	secret, _ := Secret([]byte(strings.Repeat("s", 32)))
	if j, err := secret.JWK(); !errors.Is(err, ErrSecretNotPublishable) {
		t.Errorf("JWK(HS256 secret) = %s, %v; want ErrSecretNotPublishable", j, err)
	}
	if doc := mustJWKS(t, secret); string(doc) != `{"keys":[]}` {
		t.Errorf("MarshalJWKS(secret) = %s, want {\"keys\":[]}", doc)
	}
	if doc := mustJWKS(t); string(doc) != `{"keys":[]}` {
		t.Errorf("MarshalJWKS(nil) = %s, want {\"keys\":[]}", doc)
	}
}

// TestJWKFixedSizeCoordinates finds a P-256 key with a short coordinate and
// checks it is still published as 32 bytes (RFC 7518 section 6.2.1.2).
func TestJWKFixedSizeCoordinates(t *testing.T) {
	for range 20000 {
		p, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.X.Bytes()) == 32 && len(p.Y.Bytes()) == 32 {
			continue
		}
		der, _ := x509.MarshalPKIXPublicKey(&p.PublicKey)
		k, err := ParsePublic("", ES256, der)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := k.JWK()
		m := members(t, raw)
		for _, c := range []string{"x", "y"} {
			b, err := base64.RawURLEncoding.DecodeString(m[c].(string))
			if err != nil || len(b) != 32 {
				t.Errorf("JWK %s = %q (%d bytes), want 32 bytes", c, m[c], len(b))
			}
		}
		keys, err := ParseJWKS(mustJWKS(t, k))
		if err != nil || len(keys) != 1 || !keys[0].Public().(*ecdsa.PublicKey).Equal(&p.PublicKey) {
			t.Errorf("ParseJWKS(short-coordinate key) = %v, %v", keys, err)
		}
		return
	}
	t.Skip("no short coordinate in 20000 keys")
}

// TestJWKSInterop has lestrrat-go/jwx, an independent implementation, read
// our JWKS and write one for us.
func TestJWKSInterop(t *testing.T) {
	keys := []*Key{mustGenerate(t, EdDSA), mustGenerate(t, ES256), mustGenerate(t, RS256)}
	set, err := lxjwk.Parse(mustJWKS(t, keys...))
	if err != nil {
		t.Fatalf("jwx Parse(our JWKS) = %v", err)
	}
	if set.Len() != len(keys) {
		t.Fatalf("jwx sees %d keys, want %d", set.Len(), len(keys))
	}
	theirs := lxjwk.NewSet()
	for _, k := range keys {
		jk, ok := set.LookupKeyID(k.ID)
		if !ok {
			t.Fatalf("jwx: no key with kid %q", k.ID)
		}
		if alg, _ := jk.Algorithm(); alg.String() != k.Alg {
			t.Errorf("jwx: kid %q alg = %v, want %s", k.ID, alg, k.Alg)
		}
		if use, _ := jk.KeyUsage(); use != "sig" {
			t.Errorf("jwx: kid %q use = %q, want sig", k.ID, use)
		}
		var pub any
		if err := lxjwk.Export(jk, &pub); err != nil {
			t.Fatal(err)
		}
		if !equalPublic(pub, k.Public()) {
			t.Errorf("jwx: kid %q public key = %v, want %v", k.ID, pub, k.Public())
		}
		// The other direction: jwx encodes the original public key.
		imp, err := lxjwk.Import(k.Public())
		if err != nil {
			t.Fatal(err)
		}
		_ = imp.Set(lxjwk.KeyIDKey, k.ID)
		if err := theirs.AddKey(imp); err != nil {
			t.Fatal(err)
		}
	}
	doc, err := json.Marshal(theirs)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ParseJWKS(doc)
	if err != nil {
		t.Fatalf("ParseJWKS(jwx JWKS) = %v", err)
	}
	if len(parsed) != len(keys) {
		t.Fatalf("ParseJWKS(jwx JWKS %s) = %d keys, want %d", doc, len(parsed), len(keys))
	}
	for i, k := range keys {
		if parsed[i].ID != k.ID || parsed[i].Alg != k.Alg || !equalPublic(parsed[i].Public(), k.Public()) {
			t.Errorf("ParseJWKS(jwx JWKS)[%d] = {%q %s}, want {%q %s}", i, parsed[i].ID, parsed[i].Alg, k.ID, k.Alg)
		}
	}
}

func equalPublic(a, b crypto.PublicKey) bool {
	e, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && e.Equal(b)
}

// hostile builders for TestParseJWKSHostile.
func b64u(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func jwkMap(t *testing.T, k *Key) map[string]any {
	raw, err := k.JWK()
	if err != nil {
		t.Fatal(err)
	}
	return members(t, raw)
}

func with(m map[string]any, kv ...any) map[string]any {
	c := maps.Clone(m)
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == nil {
			delete(c, kv[i].(string))
			continue
		}
		c[kv[i].(string)] = kv[i+1]
	}
	return c
}

func doc(keys ...any) string {
	b, _ := json.Marshal(map[string]any{"keys": keys})
	return string(b)
}

// TestParseJWKSHostile is the attack table for JWKS documents. Rows with
// skip set are one bad key beside a good one: the good one must survive and
// the bad one be skipped for the stated reason. Rows with fail set must fail
// as a whole.
func TestParseJWKSHostile(t *testing.T) {
	ed, es, rs := mustGenerate(t, EdDSA), mustGenerate(t, ES256), mustGenerate(t, RS256)
	good := jwkMap(t, ed)
	goodKID := ed.ID
	edPriv, _ := ed.MarshalPrivate()
	edSK, _ := x509.ParsePKCS8PrivateKey(edPriv)
	rsa1024, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	ec, rsm := jwkMap(t, es), jwkMap(t, rs)
	ecOff := with(ec, "kid", "off-curve", "y", b64u(make([]byte, 32)))
	bigE := with(rsm, "kid", "even-e", "e", b64u(big.NewInt(65536).Bytes()))
	lowOrder := make([]byte, 32)
	lowOrder[0] = 1 // the identity point, a low-order Ed25519 key
	tests := []struct {
		name string
		doc  string
		skip string // substring of the skip reason; the good key survives
		fail string // substring of the error; the whole document is refused
	}{
		{name: "oct key", doc: doc(map[string]any{"kty": "oct", "kid": "hs", "alg": "HS256", "k": b64u([]byte("the-published-secret-0123456789ab"))}, good), skip: "oct"},
		{name: "oct key without k", doc: doc(map[string]any{"kty": "oct", "kid": "hs", "alg": "HS256"}, good), skip: "oct"},
		{name: "OKP with d", doc: doc(with(jwkMap(t, ed), "kid", "priv", "d", b64u(edSK.(ed25519.PrivateKey).Seed())), good), skip: `"d"`},
		{name: "EC with d", doc: doc(with(ec, "d", b64u(make([]byte, 32))), good), skip: `"d"`},
		{name: "RSA with p q", doc: doc(with(rsm, "p", "AQAB", "q", "AQAB"), good), skip: `"p"`},
		{name: "RSA with oth", doc: doc(with(rsm, "oth", []any{}), good), skip: `"oth"`},
		{name: "AKP priv", doc: doc(map[string]any{"kty": "AKP", "kid": "pq", "alg": "ML-DSA-44", "pub": "AA", "priv": "AA"}, good), skip: `"priv"`},
		{name: "RSA 1024", doc: doc(with(rsm, "kid", "tiny", "n", b64u(rsa1024.N.Bytes())), good), skip: "1024 bits"},
		{name: "RSA 8192 bits", doc: doc(with(rsm, "kid", "huge", "n", b64u(append([]byte{0xff}, make([]byte, 1023)...))), good), skip: "bad RSA key"},
		{name: "RSA even exponent", doc: doc(bigE, good), skip: "exponent"},
		{name: "RSA exponent 1", doc: doc(with(rsm, "kid", "e1", "e", "AQ"), good), skip: "bad RSA key"},
		{name: "EC P-384", doc: doc(with(ec, "kid", "p384", "crv", "P-384", "alg", "ES384", "x", b64u(p384.X.Bytes()), "y", b64u(p384.Y.Bytes())), good), skip: "P-384"},
		{name: "EC P-384 claiming ES256", doc: doc(with(ec, "kid", "p384", "crv", "P-384", "x", b64u(p384.X.Bytes()), "y", b64u(p384.Y.Bytes())), good), skip: "P-384"},
		{name: "EC P-384 coordinates as P-256", doc: doc(with(ec, "kid", "p384", "x", b64u(p384.X.Bytes()), "y", b64u(p384.Y.Bytes())), good), skip: "wrong length"},
		{name: "EC point off the curve", doc: doc(ecOff, good), skip: "not on declared curve"},
		{name: "EC secp256k1", doc: doc(with(ec, "kid", "k1", "crv", "secp256k1", "alg", "ES256K"), good), skip: "secp256k1"},
		{name: "Ed25519 low-order point", doc: doc(with(good, "kid", "low", "x", b64u(lowOrder)), good), skip: "low-order"},
		{name: "Ed25519 short x", doc: doc(with(good, "kid", "short", "x", "AAAA"), good), skip: "wrong length"},
		{name: "X25519", doc: doc(with(good, "kid", "x", "crv", "X25519", "alg", nil), good), skip: "X25519"},
		{name: "OKP alg ES256", doc: doc(with(good, "kid", "mix", "alg", "ES256"), good), skip: "does not fit"},
		{name: "OKP alg HS256", doc: doc(with(good, "kid", "mix", "alg", "HS256"), good), skip: "does not fit"},
		{name: "OKP alg none", doc: doc(with(good, "kid", "mix", "alg", "none"), good), skip: "does not fit"},
		{name: "EC alg RS256", doc: doc(with(ec, "alg", "RS256"), good), skip: "does not fit"},
		{name: "RSA alg PS256", doc: doc(with(rsm, "alg", "PS256"), good), skip: "does not fit"},
		{name: "RSA alg EdDSA", doc: doc(with(rsm, "alg", "EdDSA"), good), skip: "does not fit"},
		{name: "alg not a string", doc: doc(with(rsm, "alg", 256), good), skip: "not a string"},
		{name: "use enc", doc: doc(with(ec, "use", "enc"), good), skip: "use"},
		{name: "use empty", doc: doc(with(ec, "use", ""), good), skip: "use"},
		{name: "key_ops without verify", doc: doc(with(ec, "key_ops", []string{"encrypt"}), good), skip: "key_ops"},
		{name: "no kid", doc: doc(with(ec, "kid", nil), good), skip: "no kid"},
		{name: "empty kid", doc: doc(with(ec, "kid", ""), good), skip: "no kid"},
		{name: "kid a number", doc: doc(with(ec, "kid", 7), good), skip: "not a string"},
		{name: "kid too long", doc: doc(with(ec, "kid", strings.Repeat("k", maxKIDLen+1)), good), skip: "kid is"},
		{name: "unknown kty", doc: doc(map[string]any{"kty": "PQ", "kid": "pq"}, good), skip: "unsupported key type"},
		{name: "no kty", doc: doc(with(ec, "kty", nil), good), skip: "unsupported key type"},
		{name: "member names in upper case", doc: doc(map[string]any{"KTY": "EC", "kid": "upper", "CRV": "P-256", "X": ec["x"], "Y": ec["y"]}, good), skip: "unsupported key type"},
		{name: "duplicate member", doc: `{"keys":[{"kty":"EC","kid":"dup","crv":"P-256","alg":"ES256","alg":"HS256","x":"` + ec["x"].(string) + `","y":"` + ec["y"].(string) + `"},` + mustJSON(good) + `]}`, skip: "duplicate"},
		{name: "entry not an object", doc: doc(5, "x", nil, []int{1}, good), skip: "not a JSON object"},
		{name: "x not base64url", doc: doc(with(good, "kid", "b64", "x", "!!!"), good), skip: "bad OKP key"},
		{name: "duplicate kid", doc: doc(good, with(ec, "kid", goodKID)), fail: "two usable keys"},
		{name: "duplicate kid of the same key", doc: doc(good, good), fail: "two usable keys"},
		{name: "too many keys", doc: doc(slices.Repeat([]any{map[string]any{"kty": "PQ"}}, maxJWKSKeys+1)...), fail: "limit"},
		{name: "huge document", doc: `{"keys":[],"pad":"` + strings.Repeat("a", MaxJWKSLen) + `"}`, fail: "limit"},
		{name: "not JSON", doc: "<html>", fail: "not a JSON object"},
		{name: "empty", doc: "", fail: "not a JSON object"},
		{name: "array", doc: "[" + mustJSON(good) + "]", fail: "not a JSON object"},
		{name: "a single JWK", doc: mustJSON(good), fail: `no "keys"`},
		{name: "keys null", doc: `{"keys":null}`, fail: `no "keys"`},
		{name: "keys an object", doc: `{"keys":{}}`, fail: "not a JSON object"},
		{name: "keys in upper case", doc: `{"KEYS":[` + mustJSON(good) + `]}`, fail: `no "keys"`},
		{name: "keys twice", doc: `{"keys":[],"keys":[` + mustJSON(good) + `]}`, fail: "duplicate"},
		{name: "trailing garbage", doc: doc(good) + "x", fail: "not a JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, skipped, err := parseJWKS([]byte(tt.doc))
			if tt.fail != "" {
				if err == nil || !strings.Contains(err.Error(), tt.fail) {
					t.Fatalf("ParseJWKS(%s) = %d keys, %v; want error containing %q", tt.name, len(keys), err, tt.fail)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseJWKS(%s) = %v, want the good key", tt.name, err)
			}
			if len(keys) != 1 || keys[0].ID != goodKID {
				t.Fatalf("ParseJWKS(%s) = %v, want only %q", tt.name, kidsOf(keys), goodKID)
			}
			if len(skipped) == 0 || !strings.Contains(fmt.Sprint(skipped), tt.skip) {
				t.Errorf("ParseJWKS(%s) skipped %v, want a reason containing %q", tt.name, skipped, tt.skip)
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func kidsOf(keys []*Key) []string {
	var s []string
	for _, k := range keys {
		s = append(s, k.ID+"/"+k.Alg)
	}
	return s
}

// TestParseJWKSAccepts lists the lenient cases: what a JWKS from another
// well-behaved publisher may contain.
func TestParseJWKSAccepts(t *testing.T) {
	ed, es, rs := mustGenerate(t, EdDSA), mustGenerate(t, ES256), mustGenerate(t, RS256)
	tests := []struct {
		name string
		key  map[string]any
		alg  string
	}{
		{name: "Ed25519 without alg", key: with(jwkMap(t, ed), "alg", nil), alg: EdDSA},
		{name: "P-256 without alg", key: with(jwkMap(t, es), "alg", nil), alg: ES256},
		{name: "RSA without alg", key: with(jwkMap(t, rs), "alg", nil), alg: RS256},
		{name: "without use", key: with(jwkMap(t, ed), "use", nil), alg: EdDSA},
		{name: "key_ops verify", key: with(jwkMap(t, ed), "use", nil, "key_ops", []string{"verify"}), alg: EdDSA},
		{name: "unknown extra members", key: with(jwkMap(t, ed), "x5u", "http://127.0.0.1:1/x5u", "x5c", []string{"not even DER"}, "ext", true), alg: EdDSA},
	}
	for _, tt := range tests {
		keys, err := ParseJWKS([]byte(doc(tt.key)))
		if err != nil || len(keys) != 1 || keys[0].Alg != tt.alg {
			t.Errorf("ParseJWKS(%s) = %v, %v; want one %s key", tt.name, kidsOf(keys), err, tt.alg)
		}
	}
	if keys, err := ParseJWKS([]byte(`{"keys":[]}`)); err != nil || len(keys) != 0 {
		t.Errorf(`ParseJWKS({"keys":[]}) = %v, %v; want no keys, no error`, keys, err)
	}
}

func FuzzParseJWKS(f *testing.F) {
	var all []*Key
	for _, alg := range []string{EdDSA, ES256, RS256} {
		k, err := Generate(alg)
		if err != nil {
			f.Fatal(err)
		}
		all = append(all, k)
		f.Add(mustJWKS(f, k))
	}
	f.Add(mustJWKS(f, all...))
	f.Add([]byte(`{"keys":[{"kty":"oct","kid":"a","k":"c2VjcmV0"}]}`))
	f.Add([]byte(`{"keys":[]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParseJWKS(data)
		if err != nil {
			return
		}
		for _, k := range keys {
			if k.ID == "" || !slices.Contains([]string{EdDSA, ES256, RS256}, k.Alg) || k.CanSign() {
				t.Fatalf("ParseJWKS returned key {ID:%q Alg:%q CanSign:%v}", k.ID, k.Alg, k.CanSign())
			}
		}
		doc, err := MarshalJWKS(keys)
		if err != nil {
			t.Fatalf("MarshalJWKS(parsed keys %v) = %v", kidsOf(keys), err)
		}
		again, err := ParseJWKS(doc)
		if err != nil {
			t.Fatalf("ParseJWKS(MarshalJWKS(parsed)) = %v\n%s", err, doc)
		}
		if a, b := kidsOf(keys), kidsOf(again); !slices.Equal(a, b) {
			t.Fatalf("kids/algs after re-marshal = %v, want %v", b, a)
		}
		for i := range keys {
			if !equalPublic(keys[i].Public(), again[i].Public()) {
				t.Fatalf("key %q changed after re-marshal", keys[i].ID)
			}
		}
	})
}
