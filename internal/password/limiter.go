package password

import (
	"context"
	"errors"
	"runtime"
	"sync"
)

// ErrBusy is returned by Limiter.Do when the wait queue is full (or the
// caller's place in it was given to a client that had waited less): the
// caller should answer 503 with Retry-After rather than queue without bound.
var ErrBusy = errors.New("password: hashing queue full")

// ErrTooMany is returned by Limiter.Do at once, before any waiting, when one
// of the caller's capped keys (a client address, an account) already has
// its limit of hashes running or waiting: the caller should answer 429 with
// Retry-After.
var ErrTooMany = errors.New("password: too many hashes in progress for this client")

// DefaultPerKey is how many hashes one capped key may have running or
// waiting at once when NewLimiter is given 0. Four lets a few people behind
// one NAT log in together while keeping one client's share of the queue
// small.
const DefaultPerKey = 4

// maxFlows bounds how many flows a Limiter remembers (see sweep).
const maxFlows = 1 << 16

// Limiter bounds how many hashes run at once (each argon2id hash holds its
// memory parameter for its whole run) and how many callers may wait, and it
// shares the hashing fairly between clients, so that a login flood costs
// bounded memory and cannot starve anyone else's login.
//
// Fairness is start-time fair queueing (SFQ) over flows, a flow being
// whatever key the caller queues under (the client address). Every arrival
// of a flow, whether admitted or refused, is charged one unit of virtual
// time: it gets the tag max(V, F) and moves the flow's finish F to tag+1,
// where V is the tag of the last wait that started running. Waits start in
// tag order; at equal tags, an arrival that found its flow idle (F ≤ V)
// goes before one that was already behind, then first come first served. So
// a client with one login to make (a sparse flow, tag V) starts at the next
// free slot, however many requests a flood keeps queued or retries, while
// backlogged flows share the rest round robin; a flow that hammers the
// server only pushes its own tags further back.
//
// When the queue is full, an arrival whose tag sorts before the worst
// queued one takes its place (that waiter gets ErrBusy); any other arrival
// gets ErrBusy.
//
// Independently, every capped key of a call (the address, the account) may
// have at most perKey calls admitted, running or waiting; one more gets
// ErrTooMany at once. Successful logins count like failed ones: it is the
// hashing that is bounded.
//
// The limit on what fairness can do: a flood that uses a fresh address for
// every request looks like many sparse clients, and a legitimate login then
// waits behind those that arrived before it, at most the queue's length.
type Limiter struct {
	maxRunning, maxWaiting, perKey int

	mu      sync.Mutex
	running int
	queue   []*waiter // unordered; scanned for the best and the worst
	flows   map[string]*flow
	counts  map[string]int // admitted calls per capped key
	v       uint64         // virtual time: the tag of the last wait that started running
	seq     uint64
	swept   int // len(flows) after the last sweep
}

type flow struct {
	finish uint64 // virtual finish of the flow's last arrival
	active int    // calls of this flow admitted and not yet done
}

// waiter is one queued call.
type waiter struct {
	tag    uint64
	behind bool // the flow was not idle on arrival: sorts after idle arrivals of the same tag
	seq    uint64
	flow   string
	capped []string
	ready  chan error // nil: run; ErrBusy: evicted
}

// before reports whether w runs before o.
func (w *waiter) before(o *waiter) bool {
	if w.tag != o.tag {
		return w.tag < o.tag
	}
	if w.behind != o.behind {
		return !w.behind
	}
	return w.seq < o.seq
}

// NewLimiter allows running hashes at once, waiting more in line, and
// perKey calls per capped key. Zero values pick defaults: running =
// GOMAXPROCS, waiting = 256 × running (a waiting login holds a goroutine
// and its small request, tens of KiB, not a hash's memory; with fair
// queueing the queue's length no longer decides anyone else's wait, and a
// flood that waits costs no CPU, while one that is refused retries at
// once), perKey = DefaultPerKey.
func NewLimiter(running, waiting, perKey int) *Limiter {
	if running <= 0 {
		running = runtime.GOMAXPROCS(0)
	}
	if waiting <= 0 {
		waiting = 256 * running
	}
	if perKey <= 0 {
		perKey = DefaultPerKey
	}
	return &Limiter{maxRunning: running, maxWaiting: waiting, perKey: perKey,
		flows: make(map[string]*flow), counts: make(map[string]int)}
}

// Do runs f when a slot is free and its turn has come, queued under flow,
// with every key in capped counting against its per-key limit (duplicates
// in capped count once each; pass distinct keys). It returns ErrTooMany at
// once if a capped key is at its limit, ErrBusy if the queue is full or the
// call's place was taken by a call with an earlier tag, or ctx.Err() if ctx
// ends while waiting; f has not run then. Safe for concurrent use.
func (l *Limiter) Do(ctx context.Context, flow string, capped []string, f func()) error {
	w, err := l.admit(flow, capped)
	if err != nil {
		return err
	}
	if w != nil {
		select {
		case err := <-w.ready:
			if err != nil {
				return err
			}
		case <-ctx.Done():
			l.mu.Lock()
			if i := l.index(w); i >= 0 {
				l.remove(i)
				l.mu.Unlock()
				return ctx.Err()
			}
			l.mu.Unlock()
			// Granted or evicted meanwhile: a grant holds a slot to give back.
			if err := <-w.ready; err != nil {
				return err
			}
			l.done(flow, capped)
			return ctx.Err()
		}
	}
	defer l.done(flow, capped)
	f()
	return nil
}

// admit charges the arrival to its flow and either starts it (nil waiter),
// queues it, or refuses it.
func (l *Limiter) admit(flowKey string, capped []string) (*waiter, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fl := l.flows[flowKey]
	if fl == nil {
		l.sweep()
		fl = &flow{}
		l.flows[flowKey] = fl
	}
	w := &waiter{tag: max(l.v, fl.finish), behind: fl.finish > l.v, seq: l.seq, flow: flowKey, capped: capped}
	l.seq++
	fl.finish = w.tag + 1
	for _, k := range capped {
		if l.counts[k] >= l.perKey {
			return nil, ErrTooMany
		}
	}
	if l.running < l.maxRunning && len(l.queue) == 0 {
		l.take(w)
		l.running++
		l.v = max(l.v, w.tag)
		return nil, nil
	}
	if len(l.queue) >= l.maxWaiting {
		worst := 0
		for i, q := range l.queue {
			if l.queue[worst].before(q) {
				worst = i
			}
		}
		if !w.before(l.queue[worst]) {
			return nil, ErrBusy
		}
		evicted := l.queue[worst]
		l.remove(worst)
		evicted.ready <- ErrBusy
	}
	w.ready = make(chan error, 1)
	l.take(w)
	l.queue = append(l.queue, w)
	return w, nil
}

// take counts an admitted call against its flow and capped keys.
func (l *Limiter) take(w *waiter) {
	l.flows[w.flow].active++
	for _, k := range w.capped {
		l.counts[k]++
	}
}

// release undoes take.
func (l *Limiter) release(flowKey string, capped []string) {
	if fl := l.flows[flowKey]; fl != nil {
		fl.active--
	}
	for _, k := range capped {
		if l.counts[k]--; l.counts[k] <= 0 {
			delete(l.counts, k)
		}
	}
}

// done ends a running call and starts the best waiter, if any.
func (l *Limiter) done(flowKey string, capped []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.release(flowKey, capped)
	l.running--
	if len(l.queue) == 0 {
		return
	}
	best := 0
	for i, q := range l.queue {
		if q.before(l.queue[best]) {
			best = i
		}
	}
	w := l.queue[best]
	l.queue[best] = l.queue[len(l.queue)-1]
	l.queue = l.queue[:len(l.queue)-1]
	l.running++
	l.v = max(l.v, w.tag)
	w.ready <- nil
}

// index finds w in the queue (-1 if it has left it).
func (l *Limiter) index(w *waiter) int {
	for i, q := range l.queue {
		if q == w {
			return i
		}
	}
	return -1
}

// remove drops the i-th waiter from the queue and releases its counts.
func (l *Limiter) remove(i int) {
	w := l.queue[i]
	l.queue[i] = l.queue[len(l.queue)-1]
	l.queue = l.queue[:len(l.queue)-1]
	l.release(w.flow, w.capped)
}

// sweep forgets flows with nothing admitted whose finish V has reached
// (forgetting them changes no tag), once the map has doubled since the last
// sweep; amortized O(1) per new flow. If a spray of addresses keeps V from
// moving and the map still exceeds maxFlows, idle flows are forgotten
// anyway: they come back as sparse, which is what they nearly are.
func (l *Limiter) sweep() {
	if len(l.flows) < max(2*l.swept, 1024) {
		return
	}
	for k, fl := range l.flows {
		if fl.active == 0 && fl.finish <= l.v {
			delete(l.flows, k)
		}
	}
	for k, fl := range l.flows {
		if len(l.flows) <= maxFlows/2 {
			break
		}
		if fl.active == 0 {
			delete(l.flows, k)
		}
	}
	l.swept = len(l.flows)
}

// Waiting reports how many callers are queued or running (for metrics).
func (l *Limiter) Waiting() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.running + len(l.queue)
}

// Queued reports how many callers are waiting for a slot.
func (l *Limiter) Queued() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queue)
}
