package throttle

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// DefaultMaxKeys is how many keys a Memory from NewMemory holds at most. An
// entry costs about a hundred bytes plus its key and 8 bytes per remembered
// failure, so the default bounds the limiter to tens of megabytes however
// many names or addresses an attacker sprays.
const DefaultMaxKeys = 100_000

const (
	// evictSample is how many entries Memory compares to choose one to
	// evict when it is full (sampled eviction, as Redis does it: O(1) per
	// insert instead of a heap or a full scan).
	evictSample = 16
	// sweepEvery is how often Memory drops every expired entry in one pass;
	// between passes expired entries are dropped when next touched.
	sweepEvery = time.Minute
	// maxStrikes caps the lock counter; BanFor has long reached MaxBan.
	maxStrikes = 64
)

// Memory is a Limiter that keeps its counts in this process: right for one
// instance; several instances need a shared implementation. It is safe for
// concurrent use. It never fails and ignores its contexts, since it never
// waits for anything but a short-held mutex.
//
// Memory holds at most its key cap. When full, a new key evicts the
// entry that carries the least evidence among a random sample: an expired
// one if any, then the one with the fewest live failures and no lock, then
// the one that would expire soonest. Evicting simply by age or expiry would
// let an attacker flush a victim's counter by spraying fresh keys, since
// the victim's entry is always the older one; by evidence, sprayed
// one-failure keys go first and locked keys are kept.
type Memory struct {
	p       Policy
	now     func() time.Time
	epoch   time.Time // times are stored as offsets from epoch, which keeps the monotonic clock
	maxKeys int

	mu        sync.Mutex
	keys      map[string]*entry
	nextSweep time.Duration
}

// entry is the state of one key. Times are offsets from Memory.epoch.
type entry struct {
	fails   []time.Duration // failures within Window, oldest first; kept only before the first lock
	strikes int             // locks imposed since the key was last forgotten
	until   time.Duration   // when the current or last lock ends; meaningful if strikes > 0
}

var _ Limiter = (*Memory)(nil)

// NewMemory returns an empty Memory with policy p (zero fields take their
// defaults) that holds at most DefaultMaxKeys keys and reads the time from
// now (time.Now if nil). It panics if p.Validate fails: validate policies
// that come from configuration first.
func NewMemory(p Policy, now func() time.Time) *Memory {
	return NewMemoryCap(p, now, DefaultMaxKeys)
}

// NewMemoryCap is NewMemory holding at most maxKeys keys. It panics if
// maxKeys < 1.
func NewMemoryCap(p Policy, now func() time.Time, maxKeys int) *Memory {
	if err := p.Validate(); err != nil {
		panic(err)
	}
	if maxKeys < 1 {
		panic(fmt.Sprintf("throttle: NewMemoryCap maxKeys = %d, want ≥ 1", maxKeys))
	}
	if now == nil {
		now = time.Now
	}
	return &Memory{p: p.WithDefaults(), now: now, epoch: now(), maxKeys: maxKeys, keys: make(map[string]*entry)}
}

// Check implements Limiter.
func (m *Memory) Check(_ context.Context, key string) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock()
	m.maybeSweep(now)
	e := m.lookup(key, now)
	if e == nil || e.strikes == 0 || now >= e.until {
		return 0, nil
	}
	return e.until - now, nil
}

// Fail implements Limiter. A failure while key is locked changes nothing
// and returns the wait that remains.
func (m *Memory) Fail(_ context.Context, key string) (time.Duration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock()
	m.maybeSweep(now)
	e := m.lookup(key, now)
	if e == nil {
		m.makeRoom(now)
		e = &entry{}
		m.keys[key] = e
	}
	if e.strikes > 0 {
		if now < e.until {
			return e.until - now, nil
		}
		// The key failed again soon after a lock: lock it again, longer.
		e.strikes = min(e.strikes+1, maxStrikes)
		ban := m.p.BanFor(e.strikes)
		e.until = now + ban
		return ban, nil
	}
	live := e.fails[m.firstLive(e, now):]
	at := now
	if n := len(live); n > 0 && at < live[n-1] {
		at = live[n-1] // the clock stepped back: keep the log sorted
	}
	e.fails = append(e.fails[:0], live...)
	e.fails = append(e.fails, at)
	if len(e.fails) < m.p.MaxFailures {
		return 0, nil
	}
	e.fails = nil
	e.strikes = 1
	e.until = now + m.p.BanTime
	return m.p.BanTime, nil
}

// Reset implements Limiter.
func (m *Memory) Reset(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.keys, key)
	return nil
}

// Len reports how many keys Memory holds, including expired ones not yet
// swept (for metrics and tests).
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys)
}

// clock is the current time as an offset from the epoch. Callers hold mu,
// so the offsets that entries see never run backwards between operations
// unless the injected clock does.
func (m *Memory) clock() time.Duration { return m.now().Sub(m.epoch) }

// lookup returns key's entry, or nil if there is none or it has expired (and
// then drops it).
func (m *Memory) lookup(key string, now time.Duration) *entry {
	e := m.keys[key]
	if e != nil && now >= m.expiry(e) {
		delete(m.keys, key)
		return nil
	}
	return e
}

// expiry is when e has nothing left to remember: Window after its last lock
// ended, or Window after its last failure if it was never locked.
func (m *Memory) expiry(e *entry) time.Duration {
	if e.strikes > 0 {
		return e.until + m.p.Window
	}
	if n := len(e.fails); n > 0 {
		return e.fails[n-1] + m.p.Window
	}
	return 0
}

// firstLive returns the index of e's first failure still within Window.
func (m *Memory) firstLive(e *entry, now time.Duration) int {
	i := 0
	for i < len(e.fails) && now-e.fails[i] >= m.p.Window {
		i++
	}
	return i
}

// weight is how much e is worth keeping: -1 if expired, else its live
// failures, and above any such count once it has been locked.
func (m *Memory) weight(e *entry, now time.Duration) int {
	switch {
	case now >= m.expiry(e):
		return -1
	case e.strikes > 0:
		return m.p.MaxFailures + e.strikes
	default:
		return len(e.fails) - m.firstLive(e, now)
	}
}

// makeRoom evicts one entry if Memory is full (see Memory).
func (m *Memory) makeRoom(now time.Duration) {
	if len(m.keys) < m.maxKeys {
		return
	}
	var (
		victim    string
		bestW     int
		bestUntil time.Duration
		seen      int
	)
	for k, e := range m.keys { // map iteration starts at a random place
		w, exp := m.weight(e, now), m.expiry(e)
		if seen == 0 || w < bestW || (w == bestW && exp < bestUntil) {
			victim, bestW, bestUntil = k, w, exp
		}
		if seen++; seen == evictSample || w < 0 {
			break
		}
	}
	delete(m.keys, victim)
}

// maybeSweep drops every expired entry once per sweepEvery, so idle keys do
// not sit in memory until the cap forces them out.
func (m *Memory) maybeSweep(now time.Duration) {
	if now < m.nextSweep {
		return
	}
	for k, e := range m.keys {
		if now >= m.expiry(e) {
			delete(m.keys, k)
		}
	}
	m.nextSweep = now + sweepEvery
}
