package postgres

import (
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
	"github.com/jwtgate/jwtgate/internal/storetest"
)

// The benchmarks' bodies take any jwtgate.Store, so the same loop can be
// pointed at another store to compare.

func BenchmarkUserByName(b *testing.B) { benchUserByName(b, openTest(b)) }

func BenchmarkSpendRefreshToken(b *testing.B) { benchSpendRefreshToken(b, openTest(b)) }

// benchUserByName looks one user up by name, in another case, among 1000.
func benchUserByName(b *testing.B, s jwtgate.Store) {
	ctx := b.Context()
	for i := range 1000 {
		u := &jwtgate.User{Name: "user" + strconv.Itoa(i), PasswordHash: "h", Roles: []string{"admin", "ops"}}
		if err := s.CreateUser(ctx, u); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.UserByName(ctx, "User500"); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSpendRefreshToken is a refresh: spend a token, insert its
// successor, touch the session. "serial" is one client refreshing over
// and over; "parallel" is many sessions refreshing at once, which SQLite
// serializes on its one writer and PostgreSQL need not.
func benchSpendRefreshToken(b *testing.B, s jwtgate.Store) {
	ctx := b.Context()
	now := time.Now()
	u := &jwtgate.User{Name: "bench", PasswordHash: "h"}
	if err := s.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	var sessions atomic.Int64
	// chain returns a function spending the next token of a new session.
	// It may run in RunParallel's goroutines, so it reports with Errorf.
	chain := func(b *testing.B) func() {
		sid := "s" + strconv.FormatInt(sessions.Add(1), 10)
		hash := func(i int) []byte { return []byte(sid + "/" + strconv.Itoa(i)) }
		if err := s.CreateSession(ctx, &jwtgate.Session{ID: sid, UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			b.Errorf("CreateSession(%s) = %v", sid, err)
			return func() {}
		}
		if err := s.CreateRefreshToken(ctx, &jwtgate.RefreshToken{Hash: hash(0), SessionID: sid, CreatedAt: now}); err != nil {
			b.Errorf("CreateRefreshToken(%s) = %v", hash(0), err)
			return func() {}
		}
		i := 0
		return func() {
			next := &jwtgate.RefreshToken{Hash: hash(i + 1), SessionID: sid, CreatedAt: now}
			ok, err := s.SpendRefreshToken(ctx, hash(i), now, next)
			if err != nil || !ok {
				b.Errorf("SpendRefreshToken(%s) = %t, %v, want true, nil", hash(i), ok, err)
			}
			i++
		}
	}
	b.Run("serial", func(b *testing.B) {
		spend := chain(b)
		b.ReportAllocs()
		for b.Loop() {
			spend()
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.SetParallelism(4)
		b.RunParallel(func(pb *testing.PB) {
			spend := chain(b)
			for pb.Next() {
				spend()
			}
		})
	})
}

// BenchmarkSearchUsers is the admin user list over 100,000 users: the
// store's search and keyset pages against the in-memory listing it
// replaced (storetest.BenchSearchUsers).
func BenchmarkSearchUsers(b *testing.B) {
	db := openTest(b)
	_, err := db.pool.Exec(b.Context(), `
		INSERT INTO users (name, name_key, password_hash, roles, created_at, updated_at)
		SELECT 'user' || i, 'user' || i, 'h', 'ops', 0, 0 FROM generate_series(1, $1::int) i`, storetest.BenchUsers)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := db.pool.Exec(b.Context(), `ANALYZE users`); err != nil {
		b.Fatal(err)
	}
	storetest.BenchSearchUsers(b, db)
}
