// Package metrics exposes jwtgate's Prometheus metrics: what logins,
// verifications and refreshes came to, request latency by route, the
// password-hashing queue, the revocation set, and the Go runtime. It
// implements auth.Observer, so the rules never import Prometheus.
package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors on their own registry (not the global
// default, so tests and several servers in one process do not collide).
// Safe for concurrent use.
type Metrics struct {
	reg           *prometheus.Registry
	logins        *prometheus.CounterVec
	verifications *prometheus.CounterVec
	// verifiedBy holds the verification counter of each known result,
	// resolved once: a verification is on every authenticated request.
	// Read-only after New.
	verifiedBy   map[string]prometheus.Counter
	refreshes    *prometheus.CounterVec
	requests     *prometheus.HistogramVec
	hashSeconds  prometheus.Histogram
	storeSeconds *prometheus.HistogramVec

	// observers caches the histogram of each (route, method, code), so a
	// request does not hash three labels and format its status code.
	mu        sync.RWMutex
	observers map[requestKey]prometheus.Observer
}

type requestKey struct {
	route, method string
	code          int
}

// New registers jwtgate's collectors and the Go and process collectors.
// hashQueue and revoked, when not nil, are read at scrape time.
func New(hashQueue, revoked func() int) *Metrics {
	m := &Metrics{
		observers: map[requestKey]prometheus.Observer{},
		reg:       prometheus.NewRegistry(),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jwtgate_logins_total",
			Help: "Login attempts by outcome: success, bad_credentials, throttled, busy, invalid.",
		}, []string{"outcome"}),
		verifications: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jwtgate_token_verifications_total",
			Help: "Access token checks by result: ok, revoked, expired, unknown_key, invalid.",
		}, []string{"result"}),
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "jwtgate_refreshes_total",
			Help: "Refresh token uses by outcome: ok, grace (a concurrent reuse answered with the same pair), invalid, reused (replay detected; session revoked).",
		}, []string{"outcome"}),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "jwtgate_http_request_duration_seconds",
			Help:    "HTTP request latency by route pattern, method and status code.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method", "code"}),
		hashSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "jwtgate_password_hash_seconds",
			Help:    "Time one password hash or check took, excluding the wait in the queue.",
			Buckets: []float64{.005, .01, .02, .04, .08, .16, .32, .64},
		}),
	}
	m.storeSeconds = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "jwtgate_store_operation_seconds",
		Help:    "Latency of store operations on the login, refresh and sync paths, by operation.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
	}, []string{"op"})
	m.reg.MustRegister(m.logins, m.verifications, m.refreshes, m.requests, m.hashSeconds, m.storeSeconds,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if hashQueue != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "jwtgate_password_hash_queue",
			Help: "Password hashes running or waiting for a slot.",
		}, func() float64 { return float64(hashQueue()) }))
	}
	if revoked != nil {
		m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "jwtgate_revocations",
			Help: "Revoked sessions and tokens held in memory (not yet expired).",
		}, func() float64 { return float64(revoked()) }))
	}
	// Outcomes that have not happened yet still show as 0, so dashboards
	// and rate() work from the first scrape.
	for _, o := range []string{"success", "bad_credentials", "throttled", "busy", "invalid"} {
		m.logins.WithLabelValues(o)
	}
	m.verifiedBy = map[string]prometheus.Counter{}
	for _, r := range []string{"ok", "revoked", "expired", "unknown_key", "invalid"} {
		m.verifiedBy[r] = m.verifications.WithLabelValues(r)
	}
	for _, o := range []string{"ok", "grace", "invalid", "reused"} {
		m.refreshes.WithLabelValues(o)
	}
	return m
}

// Login implements auth.Observer.
func (m *Metrics) Login(outcome string) { m.logins.WithLabelValues(outcome).Inc() }

// Verification implements auth.Observer.
func (m *Metrics) Verification(result string) {
	if c, ok := m.verifiedBy[result]; ok {
		c.Inc()
		return
	}
	m.verifications.WithLabelValues(result).Inc()
}

// Refresh implements auth.Observer.
func (m *Metrics) Refresh(outcome string) { m.refreshes.WithLabelValues(outcome).Inc() }

// Hash implements auth.Observer.
func (m *Metrics) Hash(d time.Duration) { m.hashSeconds.Observe(d.Seconds()) }

// Store implements auth.Observer. op is one of a fixed set of names.
func (m *Metrics) Store(op string, d time.Duration) {
	m.storeSeconds.WithLabelValues(op).Observe(d.Seconds())
}

// Request records one HTTP request. route is the ServeMux pattern ("" for
// none), which keeps the label set small whatever paths clients send.
func (m *Metrics) Request(route, method string, code int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	switch method {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
	default:
		// net/http accepts any token as a method: keep label values (and
		// this map) bounded whatever clients send.
		method = "OTHER"
	}
	k := requestKey{route, method, code}
	m.mu.RLock()
	o, ok := m.observers[k]
	m.mu.RUnlock()
	if !ok {
		// Methods are normalised above, routes are the mux's patterns and
		// codes ours: the map stays small.
		o = m.requests.WithLabelValues(route, method, strconv.Itoa(code))
		m.mu.Lock()
		m.observers[k] = o
		m.mu.Unlock()
	}
	o.Observe(d.Seconds())
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}
