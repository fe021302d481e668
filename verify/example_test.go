package verify_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtgate/jwtgate/token"
	"github.com/jwtgate/jwtgate/verify"
)

// The README's Go blocks are copied from these examples, between the
// "README" comments, and TestREADMEGoBlocks keeps them equal. Each example
// runs against fakeJwtgate, a stand-in for the real server: discovery,
// keys and an empty revocation feed, and a function that mints tokens.

// fakeJwtgate serves what verify reads from a jwtgate server, naming
// issuer in its documents (its own URL when issuer is ""). mint signs an
// access token for name with roles, as jwtgate would.
func fakeJwtgate(issuer string) (url string, mint func(name string, roles ...string) string, stop func()) {
	key, _ := token.Generate(token.EdDSA)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	if issuer == "" {
		issuer = srv.URL
	}
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, issuer, issuer+"/.well-known/jwks.json")
	})
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		jwks, _ := token.MarshalJWKS([]*token.Key{key})
		w.Write(jwks)
	})
	mux.HandleFunc("GET /revocations", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"cursor":"0","revocations":[]}`)
	})
	mint = func(name string, roles ...string) string {
		now := time.Now()
		raw, _ := token.Sign(key, &token.Claims{
			RegisteredClaims: jwt.RegisteredClaims{
				Issuer: issuer, Subject: "7", ID: token.NewID(), Audience: jwt.ClaimStrings{"orders"},
				IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(15 * time.Minute)),
			},
			UserID: 7, Name: name, SessionID: token.NewID(), Roles: roles,
		})
		return raw
	}
	return srv.URL, mint, srv.Close
}

// call sends a request through h and prints the status and body.
func call(h http.Handler, method, bearer, cookie string) {
	r := httptest.NewRequest(method, "/api/orders", nil)
	if bearer != "" {
		r.Header.Set("Authorization", "Bearer "+bearer)
	}
	if cookie != "" {
		r.Header.Set("Cookie", cookie)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if body := strings.TrimSpace(w.Body.String()); body != "" {
		fmt.Println(w.Code, body)
	} else {
		fmt.Println(w.Code)
	}
}

// ExampleNew protects a service's routes with tokens from a jwtgate
// issuer: one Verifier for the process, its Handler around the routes that
// need a user, the claims read from the request context.
func ExampleNew() {
	issuerURL, mint, stop := fakeJwtgate("")
	defer stop()
	ctx := context.Background()

	// README: verify.New
	v, err := verify.New(ctx, issuerURL, // discovery + JWKS + revocation feed
		verify.WithAudience("orders"), // optional: require aud (jwtgate's --audience)
	)
	if err != nil {
		log.Fatal(err) // only a bad configuration; an issuer that is down is retried
	}
	defer v.Close()

	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verify.ClaimsFrom(r.Context())
		if r.Method != http.MethodGet && !c.HasRole("admin") {
			http.Error(w, "admins only", http.StatusForbidden)
			return
		}
		fmt.Fprintf(w, "hello %s (user %s)", c.Name, c.Subject)
	})
	mux := http.NewServeMux()
	mux.Handle("/api/", v.Handler(api)) // 401 without a valid token
	// README: end

	call(mux, "GET", mint("alice"), "")
	call(mux, "POST", mint("alice"), "")
	call(mux, "POST", mint("root", "admin"), "")
	call(mux, "GET", "", "")
	// Output:
	// 200 hello alice (user 7)
	// 403 admins only
	// 200 hello root (user 7)
	// 401
}

// ExampleWithInternalURL verifies tokens whose iss is the public issuer
// while fetching keys and revocations over an internal address, as a
// service inside a cluster does.
func ExampleWithInternalURL() {
	internalURL, mint, stop := fakeJwtgate("https://auth.example.com")
	defer stop()
	ctx := context.Background()

	// README: verify.WithInternalURL
	v, err := verify.New(ctx, "https://auth.example.com", // what tokens carry as iss
		verify.WithInternalURL(internalURL), // where to fetch from, e.g. http://jwtgate.auth.svc:8000
	)
	// README: end
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	c, err := v.Verify(ctx, mint("alice"))
	fmt.Println(c.Name, c.Issuer, err)
	// Output:
	// alice https://auth.example.com <nil>
}

// ExampleWithCookie accepts the browser's jwtgate session cookie as well as
// a bearer token, for a web app on a host that receives jwtgate's cookie
// (same host, or --cookie-domain).
func ExampleWithCookie() {
	issuerURL, mint, stop := fakeJwtgate("")
	defer stop()
	ctx := context.Background()

	// README: verify.WithCookie
	v, err := verify.New(ctx, issuerURL,
		verify.WithCookie("__Secure-jwtgate_access", "jwtgate_access"), // names jwtgate uses with --cookie-domain, and on plain http
	)
	// README: end
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()

	page := v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verify.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "hello %s", c.Name)
	}))
	call(page, "GET", "", "jwtgate_access="+mint("alice"))
	// Output:
	// 200 hello alice
}

// ExampleVerifier_Wait starts a service even while jwtgate is down: New
// returns at once, requests with a token get 503 until the issuer answers,
// and then the same Verifier accepts tokens. A service that would rather
// not serve without its issuer waits for it at startup.
func ExampleVerifier_Wait() {
	issuerURL, _, stop := fakeJwtgate("")
	stop() // jwtgate is down
	ctx := context.Background()

	v, err := verify.New(ctx, issuerURL)
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	call(v.Handler(http.NotFoundHandler()), "GET", "some.bearer.token", "")

	// README: Verifier.Wait
	ctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := v.Wait(ctx); err != nil {
		fmt.Println("jwtgate not reachable yet:", errors.Is(err, verify.ErrUnavailable))
	}
	// README: end

	// Output:
	// 503
	// jwtgate not reachable yet: true
}

// ExampleNewStatic checks the tutorial-compatible HS256 tokens with the
// shared secret, without any network.
func ExampleNewStatic() {
	secretFromEnv := "a-shared-secret-of-at-least-32-bytes!"
	// README: verify.NewStatic
	secret, err := token.Secret([]byte(secretFromEnv)) // jwtgate's JWTGATE_JWT_SECRET
	if err != nil {
		log.Fatal(err)
	}
	v, err := verify.NewStatic(secret)
	// README: end
	if err != nil {
		log.Fatal(err)
	}
	raw, _ := token.Sign(secret, &token.Claims{
		RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: jwt.NewNumericDate(time.Now().Add(time.Hour))},
		UserID:           1, Name: "admin",
	})
	c, err := v.Verify(context.Background(), raw)
	fmt.Println(c.Name, err)
	// Output:
	// admin <nil>
}

// ExampleRequireAMR demands a second factor for one route: a token whose
// login used only a password gets 401 with the RFC 9470 step-up challenge,
// one whose login used a code or a passkey as well ("mfa") goes through.
func ExampleRequireAMR() {
	key, _ := token.Generate(token.EdDSA)
	v, err := verify.NewStatic(key, verify.WithIssuer("https://auth.example.com"))
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	mint := func(amr ...string) string {
		now := time.Now()
		raw, _ := token.Sign(key, &token.Claims{
			RegisteredClaims: jwt.RegisteredClaims{Issuer: "https://auth.example.com", Subject: "7", ID: token.NewID(),
				IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(15 * time.Minute))},
			UserID: 7, Name: "alice", SessionID: token.NewID(), AMR: amr,
		})
		return raw
	}

	transfers := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verify.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "transfer by %s (%s)", c.Name, strings.Join(c.AMR, "+"))
	})
	mux := http.NewServeMux()
	mux.Handle("/api/", v.Handler(verify.RequireAMR("mfa")(transfers)))

	for _, tok := range []string{mint("pwd"), mint("pwd", "otp", "mfa"), mint("swk", "user", "mfa")} {
		r := httptest.NewRequest("POST", "/api/transfers", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		fmt.Println(w.Code, strings.TrimSpace(w.Body.String()+" "+w.Header().Get("WWW-Authenticate")))
	}
	// Output:
	// 401 Bearer realm="jwtgate", error="insufficient_user_authentication", error_description="sign in with: mfa"
	// 200 transfer by alice (pwd+otp+mfa)
	// 200 transfer by alice (swk+user+mfa)
}
