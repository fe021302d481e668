package redis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/jwtgate/jwtgate/internal/throttle"
)

// Brute-force counters shared by a cluster.
//
// A Limiter is throttle.Memory with its state in Redis. It computes exactly
// what Memory computes, and meets the same contract
// (internal/throttle/throttletest): the sliding window, the locks doubling
// up to MaxBan, failures during a lock changing nothing, Reset, and
// forgetting a key a quiet Window after its last lock or failure.
//
// One hash holds one key of one limiter, at
// "jwtgate:throttle:<name>:<hex SHA-256 of the key>" (keys are any bytes,
// and the hash keeps user names and addresses out of Redis). Its fields:
//
//	f  the failures within the window, oldest first, before the first lock
//	k  the strikes (locks imposed since the key was last forgotten), once locked
//	u  when the current or last lock ends, once locked
//	e  when the key has nothing left to remember
//
// Times are the limiter's clock (now), sent as script arguments, never
// Redis's TIME: several instances agree as far as their clocks agree, and
// tests can move time. Redis's Lua numbers are doubles, exact only up to
// 2^53, which unix nanoseconds exceed; so a time is stored and computed as
// "seconds:nanoseconds", two exact numbers, and durations (at most
// throttle.MaxDuration, far below 2^53 ns) are passed split the same way.
// Waits are therefore exact Durations, as Memory's.
//
// Atomicity. Fail is one Lua script (failScript, sent by EVALSHA) that
// reads the hash, computes the next state and writes it: Redis runs a
// script alone, so concurrent failures, from any number of processes, each
// see the state their predecessor left; none is lost and exactly one
// imposes each lock. A hash past its e reads as a key never seen.
//
// Check is one HGET of u, with no script and no write: a key never locked
// has no u, and a key that expired has a lock that ended. Reset is a DEL.
//
// Expiry. Every write sets a PEXPIRE of Window plus MaxBan (at least the
// key's remaining life, since a lock imposed now ends by now+MaxBan and is
// forgotten Window later), so Redis drops quiet keys by itself; no sweeper
// is needed. The TTL runs on Redis's clock, not now's, and only bounds how
// long a key may linger: the script's own expiry decides what is forgotten.
//
// Every instance must give a limiter name the same Policy: the hashes carry
// no policy, and each Fail applies its own.
type Limiter struct {
	c      *Client
	name   string
	prefix string
	now    func() time.Time
	// args are failScript's arguments after now: Window (s, ns),
	// MaxFailures, the TTL in milliseconds, then the bans by strike
	// (s, ns each), BanFor(1), BanFor(2), … up to the first that is MaxBan.
	args []any
}

var _ throttle.Limiter = (*Limiter)(nil)

const (
	// maxStrikes caps the lock counter, as throttle.Memory does.
	maxStrikes = 64
	// maxLimiterName bounds a limiter's name, which is part of every key.
	maxLimiterName = 64
	// KeyPrefix starts every key a Limiter writes.
	KeyPrefix = "jwtgate:throttle:"
)

// Limiter returns the limiter called name (say "account" or "ip"), with
// policy p (zero fields take their defaults), reading the time from now
// (time.Now if nil). Limiters of one name share their counts, in this
// process and in every other on the Redis database; limiters of different
// names never do. It returns an error if p.Validate does, or if name is
// empty, longer than 64 bytes, or holds other than ASCII letters, digits,
// '.', '_' and '-' (so that it needs no escaping in keys and patterns).
func (c *Client) Limiter(name string, p throttle.Policy, now func() time.Time) (*Limiter, error) {
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("redis: limiter %q: %w", name, err)
	}
	if !validName(name) {
		return nil, fmt.Errorf("redis: limiter %q: the name must be 1 to %d ASCII letters, digits, '.', '_' or '-'", name, maxLimiterName)
	}
	if now == nil {
		now = time.Now
	}
	p = p.WithDefaults()
	ttl := (p.Window + p.MaxBan + time.Millisecond - 1).Milliseconds()
	args := []any{secs(p.Window), nsecs(p.Window), p.MaxFailures, ttl}
	for s := 1; s <= maxStrikes; s++ {
		ban := p.BanFor(s)
		args = append(args, secs(ban), nsecs(ban))
		if ban >= p.MaxBan {
			break
		}
	}
	return &Limiter{c: c, name: name, prefix: KeyPrefix + name + ":", now: now, args: args}, nil
}

func validName(name string) bool {
	if name == "" || len(name) > maxLimiterName {
		return false
	}
	for _, r := range name {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Name returns the limiter's name.
func (l *Limiter) Name() string { return l.name }

// Prefix returns the prefix of every Redis key this limiter writes.
func (l *Limiter) Prefix() string { return l.prefix }

func secs(d time.Duration) int64  { return int64(d / time.Second) }
func nsecs(d time.Duration) int64 { return int64(d % time.Second) }

// redisKey is the Redis key of key.
func (l *Limiter) redisKey(key string) string {
	h := sha256.Sum256([]byte(key))
	return l.prefix + hex.EncodeToString(h[:])
}

// parseTime reads a time stored as "seconds:nanoseconds".
func parseTime(v string) (time.Time, error) {
	s, n, ok := strings.Cut(v, ":")
	if ok {
		sec, err1 := strconv.ParseInt(s, 10, 64)
		nsec, err2 := strconv.ParseInt(n, 10, 64)
		if err1 == nil && err2 == nil && 0 <= nsec && nsec < 1e9 {
			return time.Unix(sec, nsec), nil
		}
	}
	return time.Time{}, fmt.Errorf("malformed time %q", v)
}

// wait is how long a key locked until v (stored form, "" for none) waits at now.
func wait(v string, now time.Time) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	until, err := parseTime(v)
	if err != nil {
		return 0, err
	}
	return max(until.Sub(now), 0), nil
}

// Check implements throttle.Limiter: one HGET.
func (l *Limiter) Check(ctx context.Context, key string) (time.Duration, error) {
	now := l.now()
	v, err := l.c.rdb.HGet(ctx, l.redisKey(key), "u").Result()
	if errors.Is(err, goredis.Nil) {
		return 0, nil
	}
	if err == nil {
		var w time.Duration
		if w, err = wait(v, now); err == nil {
			return w, nil
		}
	}
	return 0, fmt.Errorf("redis: throttle %s: check: %w", l.name, err)
}

// failScript records a failure, the steps of throttle.Memory.Fail. KEYS[1]
// is the key's hash; ARGV: now (s, ns), Window (s, ns), MaxFailures, the TTL
// in milliseconds, then the bans by strike (s, ns each). It returns when the
// key's lock ends ("s:ns"), or "" if it has none.
var failScript = goredis.NewScript(`
local function parse(v)
  local s, n = string.match(v, '^(-?%d+):(%d+)$')
  return tonumber(s), tonumber(n)
end
local function fmt(s, n) return string.format('%d:%d', s, n) end
local function add(s, n, ds, dn)
  s, n = s + ds, n + dn
  if n >= 1000000000 then s, n = s + 1, n - 1000000000 end
  return s, n
end
local function lt(as, an, bs, bn) return as < bs or (as == bs and an < bn) end

local key = KEYS[1]
local now_s, now_n = tonumber(ARGV[1]), tonumber(ARGV[2])
local win_s, win_n = tonumber(ARGV[3]), tonumber(ARGV[4])
local max_failures = tonumber(ARGV[5])
local ttl = ARGV[6]
local nbans = (#ARGV - 6) / 2
local function ban(strike)
  local i = math.min(strike, nbans)
  return tonumber(ARGV[5 + 2 * i]), tonumber(ARGV[6 + 2 * i])
end
-- lock imposes the strike-th lock at now and returns its end.
local function lock(strike, first)
  local bs, bn = ban(strike)
  local us, un = add(now_s, now_n, bs, bn)
  local es, en = add(us, un, win_s, win_n)
  local u = fmt(us, un)
  if first then redis.call('HDEL', key, 'f') end
  redis.call('HSET', key, 'k', strike, 'u', u, 'e', fmt(es, en))
  redis.call('PEXPIRE', key, ttl)
  return u
end

-- The key as it is now: a hash past its expiry is a key never seen.
local h = redis.call('HMGET', key, 'f', 'k', 'u', 'e')
local alive = false
if h[4] then
  local es, en = parse(h[4])
  alive = lt(now_s, now_n, es, en)
  if not alive then redis.call('DEL', key) end
end
local strikes = 0
if alive and h[2] then strikes = tonumber(h[2]) end

if strikes > 0 then
  local us, un = parse(h[3])
  if lt(now_s, now_n, us, un) then return h[3] end -- locked: nothing changes
  -- Failing again after a lock: lock again, longer.
  return lock(math.min(strikes + 1, 64), false)
end

-- Before the first lock: the failures still within the window, and this
-- one, never before the last, so that the log stays sorted should the
-- clock step back.
local fails = {}
local ls, ln
if alive and h[1] then
  for tok in string.gmatch(h[1], '[^,]+') do
    local s, n = parse(tok)
    local xs, xn = add(s, n, win_s, win_n)
    if lt(now_s, now_n, xs, xn) then
      fails[#fails + 1] = tok
      ls, ln = s, n
    end
  end
end
local as, an = now_s, now_n
if ls and lt(as, an, ls, ln) then as, an = ls, ln end
fails[#fails + 1] = fmt(as, an)
if #fails >= max_failures then return lock(1, true) end
local es, en = add(as, an, win_s, win_n)
redis.call('HSET', key, 'f', table.concat(fails, ','), 'e', fmt(es, en))
redis.call('PEXPIRE', key, ttl)
return ''
`)

// Fail implements throttle.Limiter in one script (failScript). A failure
// while key is locked changes nothing and returns the wait that remains.
func (l *Limiter) Fail(ctx context.Context, key string) (time.Duration, error) {
	now := l.now()
	args := make([]any, 0, 2+len(l.args))
	args = append(args, now.Unix(), now.Nanosecond())
	args = append(args, l.args...)
	v, err := failScript.Run(ctx, l.c.rdb, []string{l.redisKey(key)}, args...).Text()
	if err == nil {
		var w time.Duration
		if w, err = wait(v, now); err == nil {
			return w, nil
		}
	}
	return 0, fmt.Errorf("redis: throttle %s: fail: %w", l.name, err)
}

// Reset implements throttle.Limiter.
func (l *Limiter) Reset(ctx context.Context, key string) error {
	if err := l.c.rdb.Del(ctx, l.redisKey(key)).Err(); err != nil {
		return fmt.Errorf("redis: throttle %s: reset: %w", l.name, err)
	}
	return nil
}
