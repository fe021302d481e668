package e2e

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// scrape reads the Prometheus text at url into series → value.
func scrape(t *testing.T, url string) map[string]float64 {
	t.Helper()
	r := send(t, "GET", url, nil)
	if r.status != 200 {
		t.Fatalf("GET %s = %d", url, r.status)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(bytes.NewReader(r.body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] = v
	}
	return out
}

// TestMetricsMove scrapes /metrics before and after a login, a failed
// login, a refresh and a refresh replay, and checks each counter moved by
// exactly what happened.
func TestMetricsMove(t *testing.T) {
	t.Parallel()
	s := StartServer(t, "", []string{"--demo", "--metrics-addr", "127.0.0.1:0"})
	metricsURL := "http://" + s.ListenAddr(t, "metrics listening") + "/metrics"
	before := scrape(t, metricsURL)
	login := send(t, "POST", s.URL+"/login", loginJSON("admin", "1234")).jsonBody()
	send(t, "POST", s.URL+"/login", loginJSON("admin", "wrong"))
	body := []byte(`{"refresh_token":"` + login["refresh_token"].(string) + `"}`)
	send(t, "POST", s.URL+"/token/refresh", body)
	send(t, "POST", s.URL+"/token/refresh", body) // inside the grace window
	send(t, "GET", s.URL+"/user", nil, "Authorization", "Bearer "+login["token"].(string))
	send(t, "GET", s.URL+"/user", nil, "Authorization", "Bearer nope")
	after := scrape(t, metricsURL)
	for _, tt := range []struct {
		series string
		delta  float64
	}{
		{`jwtgate_logins_total{outcome="success"}`, 1},
		{`jwtgate_logins_total{outcome="bad_credentials"}`, 1},
		{`jwtgate_refreshes_total{outcome="ok"}`, 1},
		{`jwtgate_refreshes_total{outcome="grace"}`, 1},
		{`jwtgate_token_verifications_total{result="ok"}`, 1},
		{`jwtgate_token_verifications_total{result="invalid"}`, 1},
		{`jwtgate_http_request_duration_seconds_count{code="200",method="POST",route="POST /login"}`, 1},
		{`jwtgate_http_request_duration_seconds_count{code="400",method="POST",route="POST /login"}`, 1},
		{`jwtgate_password_hash_seconds_count`, 2},
		{`jwtgate_store_operation_seconds_count{op="spend_refresh_token"}`, 1},
		{`jwtgate_store_operation_seconds_count{op="user_by_name"}`, 2},
	} {
		if got := after[tt.series] - before[tt.series]; got != tt.delta {
			t.Errorf("%s moved by %v, want %v", tt.series, got, tt.delta)
		}
	}
	for _, series := range []string{"jwtgate_password_hash_queue", "jwtgate_revocations", "go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := after[series]; !ok {
			t.Errorf("metric %s missing", series)
		}
	}
}

// TestMetricsAddr: the metrics are served only on --metrics-addr, never on
// the public listener (issue 17: login and throttling counts are not for
// the public), with or without --metrics-addr.
func TestMetricsAddr(t *testing.T) {
	t.Parallel()
	s := StartServer(t, "", []string{"--demo", "--metrics-addr", "127.0.0.1:0"})
	maddr := s.ListenAddr(t, "metrics listening")
	plain := StartServer(t, "", []string{"--demo"})
	for name, url := range map[string]string{"with --metrics-addr": s.URL, "without --metrics-addr": plain.URL} {
		if r := send(t, "GET", url+"/metrics", nil); r.status != 401 {
			t.Errorf("GET /metrics on the main address %s = %d, want 401 (not served there)", name, r.status)
		}
	}
	if m := scrape(t, "http://"+maddr+"/metrics"); len(m) == 0 {
		t.Error("no metrics on --metrics-addr")
	}
}
