package sqlite

import (
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/storetest"
)

// BenchmarkConcurrentWrites is 32 writers at once, as 32 clients
// refreshing tokens are: it reports throughput and the p50/p99 of one
// write's latency, queueing included.
func BenchmarkConcurrentWrites(b *testing.B) {
	ctx := b.Context()
	db := openTest(b)
	u := &jwtgate.User{Name: "bench", PasswordHash: "h"}
	if err := db.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	var n atomic.Int64
	var mu sync.Mutex
	var lat []time.Duration
	b.SetParallelism(16) // × GOMAXPROCS goroutines
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var mine []time.Duration
		for pb.Next() {
			s := &jwtgate.Session{ID: "s" + strconv.FormatInt(n.Add(1), 10), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
			start := time.Now()
			if err := db.CreateSession(ctx, s); err != nil {
				b.Error(err)
				return
			}
			mine = append(mine, time.Since(start))
		}
		mu.Lock()
		lat = append(lat, mine...)
		mu.Unlock()
	})
	slices.Sort(lat)
	if len(lat) > 0 {
		b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
	}
}

// BenchmarkSearchUsers is the admin user list over 100,000 users: the
// store's search and keyset pages against the in-memory listing it
// replaced (storetest.BenchSearchUsers).
func BenchmarkSearchUsers(b *testing.B) {
	db := openTest(b)
	_, err := db.db.ExecContext(b.Context(), `
		WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO users (name, name_key, password_hash, roles, created_at, updated_at)
		SELECT 'user' || i, 'user' || i, 'h', 'ops', 0, 0 FROM n`, storetest.BenchUsers)
	if err != nil {
		b.Fatal(err)
	}
	storetest.BenchSearchUsers(b, db)
}
