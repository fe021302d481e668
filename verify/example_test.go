package verify_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/jwtgate/jwtgate/token"
	"github.com/jwtgate/jwtgate/verify"
)

// Example protects a handler with tokens from a jwtgate issuer. A tiny fake
// issuer stands in for the real server: it publishes its discovery
// document, its keys and an empty revocation feed.
func Example() {
	key, _ := token.Generate(token.EdDSA)
	mux := http.NewServeMux()
	issuer := httptest.NewServer(mux)
	defer issuer.Close()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"issuer":%q,"jwks_uri":%q}`, issuer.URL, issuer.URL+"/.well-known/jwks.json")
	})
	mux.HandleFunc("GET /.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		jwks, _ := token.MarshalJWKS([]*token.Key{key})
		w.Write(jwks)
	})
	mux.HandleFunc("GET /revocations", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"cursor":"0","revocations":[]}`)
	})

	// The service: one Verifier for the process, its Handler around the
	// routes that need a user.
	v, err := verify.New(context.Background(), issuer.URL, verify.WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		log.Fatal(err)
	}
	defer v.Close()
	api := v.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _ := verify.ClaimsFrom(r.Context())
		fmt.Fprintf(w, "hello %s (roles %v)", c.Name, c.Roles)
	}))

	// A client with a token the issuer signed, and one without.
	now := time.Now()
	raw, _ := token.Sign(key, &token.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer.URL, Subject: "1", ID: token.NewID(),
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(15 * time.Minute)),
		},
		UserID: 1, Name: "admin", SessionID: token.NewID(), Roles: []string{"admin"},
	})
	for _, auth := range []string{"Bearer " + raw, ""} {
		r := httptest.NewRequest("GET", "/api/things", nil)
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		if w.Code == http.StatusOK {
			fmt.Println(w.Code, w.Body)
		} else {
			fmt.Println(w.Code, w.Header().Get("WWW-Authenticate"))
		}
	}
	// Output:
	// 200 hello admin (roles [admin])
	// 401 Bearer realm="jwtgate"
}
