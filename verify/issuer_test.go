package verify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwtgate/jwtgate/token"
)

// fakeIssuer is a jwtgate stand-in: discovery, JWKS and the revocation feed
// over httptest, with request counters.
type fakeIssuer struct {
	srv *httptest.Server
	url string

	mu           sync.Mutex
	keys         []*token.Key
	jwksStatus   int           // 0: 200
	cacheControl string        // Cache-Control of the JWKS
	jwksRedirect string        // redirect JWKS requests without ?moved here
	jwksBlock    chan struct{} // when set, JWKS requests wait for it to close
	discovery    map[string]any
	feed         []feedEntry // in order; the cursor is "<epoch>:<index>"
	feedEpoch    int         // bump to invalidate every cursor (a restarted server)
	feedStatus   int         // 0: 200
	feedPage     int         // at most this many entries per answer; 0: all
	sinces       []string    // the since parameters received

	discoveryHits, jwksHits, feedHits atomic.Int32
}

func newFakeIssuer(t testing.TB, keys ...*token.Key) *fakeIssuer {
	t.Helper()
	return newFakeIssuerOn(t, nil, keys...)
}

// newFakeIssuerOn serves the fake on l (a fresh loopback port when nil).
func newFakeIssuerOn(t testing.TB, l net.Listener, keys ...*token.Key) *fakeIssuer {
	t.Helper()
	f := &fakeIssuer{keys: keys}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", f.serveDiscovery)
	mux.HandleFunc("GET /.well-known/jwks.json", f.serveJWKS)
	mux.HandleFunc("GET /revocations", f.serveFeed)
	f.srv = httptest.NewUnstartedServer(mux)
	if l != nil {
		f.srv.Listener.Close()
		f.srv.Listener = l
	}
	f.url = "http://" + f.srv.Listener.Addr().String() // before Start: handlers read it
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeIssuer) serveDiscovery(w http.ResponseWriter, r *http.Request) {
	f.discoveryHits.Add(1)
	f.mu.Lock()
	doc := f.discovery
	f.mu.Unlock()
	if doc == nil {
		doc = map[string]any{"issuer": f.url, "jwks_uri": f.url + "/.well-known/jwks.json"}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(doc)
}

func (f *fakeIssuer) serveJWKS(w http.ResponseWriter, r *http.Request) {
	f.jwksHits.Add(1)
	f.mu.Lock()
	keys, status, cc, redirect, block := f.keys, f.jwksStatus, f.cacheControl, f.jwksRedirect, f.jwksBlock
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-r.Context().Done():
			return
		}
	}
	if redirect != "" && r.URL.Query().Get("moved") == "" {
		http.Redirect(w, r, redirect, http.StatusFound)
		return
	}
	if status != 0 {
		http.Error(w, "unavailable", status)
		return
	}
	doc, err := token.MarshalJWKS(keys)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	if cc != "" {
		w.Header().Set("Cache-Control", cc)
	}
	w.Header().Set("Content-Type", "application/jwk-set+json")
	_, _ = w.Write(doc)
}

func (f *fakeIssuer) serveFeed(w http.ResponseWriter, r *http.Request) {
	f.feedHits.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	since := r.URL.Query().Get("since")
	f.sinces = append(f.sinces, since)
	if f.feedStatus != 0 {
		http.Error(w, "unavailable", f.feedStatus)
		return
	}
	from := 0
	if since != "" {
		epoch, idx, ok := strings.Cut(since, ":")
		n, err := strconv.Atoi(idx)
		if !ok || epoch != strconv.Itoa(f.feedEpoch) || err != nil || n < 0 || n > len(f.feed) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":"invalid_cursor"}`)
			return
		}
		from = n
	}
	to := len(f.feed)
	if f.feedPage > 0 {
		to = min(to, from+f.feedPage)
	}
	out := struct {
		Cursor      string           `json:"cursor"`
		Revocations []map[string]any `json:"revocations"`
	}{Cursor: fmt.Sprintf("%d:%d", f.feedEpoch, to), Revocations: []map[string]any{}}
	for _, e := range f.feed[from:to] {
		if e.SID != "" {
			out.Revocations = append(out.Revocations, map[string]any{"sid": e.SID, "exp": e.Exp})
		} else {
			out.Revocations = append(out.Revocations, map[string]any{"jti": e.JTI, "exp": e.Exp})
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

func (f *fakeIssuer) setKeys(keys ...*token.Key) {
	f.mu.Lock()
	f.keys = keys
	f.mu.Unlock()
}

func (f *fakeIssuer) revoke(e feedEntry) {
	f.mu.Lock()
	f.feed = append(f.feed, e)
	f.mu.Unlock()
}

func (f *fakeIssuer) set(fn func(f *fakeIssuer)) {
	f.mu.Lock()
	fn(f)
	f.mu.Unlock()
}

// clock is a settable WithClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().Truncate(time.Second)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func mustGenerate(t testing.TB, alg string) *token.Key {
	t.Helper()
	k, err := token.Generate(alg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// claims are jwtgate-shaped claims from iss at now.
func claims(iss string, now time.Time) *token.Claims {
	return &token.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    iss,
			Subject:   "1",
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(15 * time.Minute)),
			ID:        token.NewID(),
		},
		UserID: 1, Name: "admin", SessionID: token.NewID(), Roles: []string{"admin"},
	}
}

func sign(t testing.TB, k *token.Key, c *token.Claims) string {
	t.Helper()
	raw, err := token.Sign(k, c)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// testLogger logs into a buffer the test can read.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func (b *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

var quiet = slog.New(slog.DiscardHandler)

// mustNew is New with a quiet logger and revocation polling off unless opts
// say otherwise; the Verifier is closed at cleanup.
func mustNew(t testing.TB, issuer string, opts ...Option) *Verifier {
	t.Helper()
	opts = append([]Option{WithLogger(quiet), WithRevocationPolling(0)}, opts...)
	v, err := New(context.Background(), issuer, opts...)
	if err != nil {
		t.Fatalf("New(%s) = %v", issuer, err)
	}
	t.Cleanup(func() { _ = v.Close() })
	return v
}

// eventually polls cond every 5 ms until it holds or 10 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
