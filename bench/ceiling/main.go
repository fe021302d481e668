// Command ceiling is the contract ceiling for bench/hot.sh: the fastest a
// bare net/http server can answer GET /user and GET /auth/verify while
// keeping what SPEC.md requires of every such answer, and nothing else.
//
// go-hello (../shared/bench/peers/go-hello), the ceiling issue 12 measures
// against, answers {"name":"admin"} with one header and only a header
// timeout. jwtgate must also send Cache-Control: no-store, a CSP,
// X-Content-Type-Options and a fresh X-Request-Id on every JSON answer
// (and the four X-Auth-* headers from /auth/verify), a larger body, and
// run with SPEC.md's timeouts (whole request 5 s, writes 30 s, idle 120 s).
// This server does exactly that with no authentication, no token, no
// middleware: the same bytes on the wire as jwtgate's answers for the
// demo admin (header values and body lengths alike), so ceiling ÷ go-hello
// is what the contract itself costs net/http, and jwtgate ÷ ceiling is
// what jwtgate's own work costs.
//
//	go run ./bench/ceiling -addr 127.0.0.1:18122
package main

import (
	"flag"
	"log"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:18122", "listen address")
	flag.Parse()
	// A body of the same length as jwtgate's for the demo admin (the
	// token's exp is ten digits until 2286).
	exp := time.Now().Add(15 * time.Minute).Unix()
	user := []byte(`{"name":"admin","sub":"1","id":1,"roles":["admin"],"exp":` + strconv.FormatInt(exp, 10) + "}\n")
	verify := []byte(`{"name":"admin","sub":"1","id":1,"roles":["admin"]}` + "\n")
	var ids atomic.Uint64

	common := func(h http.Header) {
		h["Cache-Control"] = noStore
		h["Content-Security-Policy"] = csp
		h["X-Content-Type-Options"] = nosniff
		h["Content-Type"] = jsonType
		var b [16]byte
		v := ids.Add(1)
		for i := 15; i >= 0; i-- {
			b[i] = "0123456789abcdef"[v&0xf]
			v >>= 4
		}
		h["X-Request-Id"] = []string{string(b[:])}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /user", func(w http.ResponseWriter, r *http.Request) {
		common(w.Header())
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(user)
	})
	mux.HandleFunc("/auth/verify", func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		common(h)
		h["X-Auth-User"] = admin
		h["X-Auth-User-Id"] = one
		h["X-Auth-Roles"] = admin
		h["X-Auth-Amr"] = pwd
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(verify)
	})
	srv := &http.Server{
		Addr:    *addr,
		Handler: mux,
		// SPEC.md's timeouts, as cmd/jwtgate sets them.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       5 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	log.Printf("ceiling listening on http://%s", *addr)
	log.Fatal(srv.ListenAndServe())
}

var (
	noStore  = []string{"no-store"}
	csp      = []string{"default-src 'none'; frame-ancestors 'none'"}
	nosniff  = []string{"nosniff"}
	jsonType = []string{"application/json"}
	admin    = []string{"admin"}
	one      = []string{"1"}
	pwd      = []string{"pwd"}
)
