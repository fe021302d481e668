package metrics

import (
	"encoding/json"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDashboardUsesRealMetrics: every jwtgate_* series the Grafana
// dashboard under deploy/ queries is one this package exports, so the
// dashboard cannot drift from the code.
func TestDashboardUsesRealMetrics(t *testing.T) {
	m := New(func() int { return 0 }, func() int { return 0 })
	m.Login("success")
	m.Verification("ok")
	m.Refresh("ok")
	m.Hash(time.Millisecond)
	m.Request("GET /user", "GET", 200, time.Millisecond)
	m.Store("user_by_name", time.Millisecond)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	exported := rec.Body.String()

	b, err := os.ReadFile("../../deploy/grafana/jwtgate.json")
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("dashboard is not valid JSON: %v", err)
	}
	name := regexp.MustCompile(`\b(jwtgate_[a-z_]+|process_[a-z_]+|go_[a-z_]+)`)
	n := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, series := range name.FindAllString(tg.Expr, -1) {
				n++
				if !strings.Contains(exported, "\n"+series) && !strings.HasPrefix(exported, series) {
					t.Errorf("panel %q queries %s, which is not exported", p.Title, series)
				}
			}
		}
	}
	if n < 10 {
		t.Fatalf("found only %d series in the dashboard", n)
	}
}

// BenchmarkHotPath is what every authenticated request records: one
// verification and one request latency.
func BenchmarkHotPath(b *testing.B) {
	m := New(nil, nil)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Verification("ok")
			m.Request("GET /user", "GET", 200, 300*time.Microsecond)
		}
	})
}
