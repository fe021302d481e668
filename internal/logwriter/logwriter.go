// Package logwriter provides an io.Writer for log lines that hands them to
// the underlying writer from one background goroutine, in batches.
//
// A server that writes each log line with its own system call spends more
// on the log than on many requests (a write(2) to a pipe or file costs
// microseconds). Here a Write only appends to a buffer; the goroutine
// writes whatever has gathered as soon as it runs, so an idle server's
// lines leave at once and a busy one's leave many per call. Lines keep
// their order. What was buffered and not yet written is lost if the
// process is killed; Close writes it out.
package logwriter

import (
	"io"
	"sync"
)

// batchSize is when a writer stops waiting for the goroutine: a Write that
// brings the buffer to this size writes the batch itself. On a busy server
// with one CPU the goroutine may not run for a while; without this the
// buffer grew to maxPending and every request then waited for one large
// write (p99 went from 2 ms to 6-10 ms in bench/hot.sh).
const batchSize = 32 << 10

// maxPending bounds the buffer: a Write that finds this much waiting
// blocks until it has been taken, so a slow destination slows the loggers
// instead of growing memory without bound.
const maxPending = 1 << 20

// Writer batches writes to an io.Writer. It is safe for concurrent use.
// Each Write's bytes stay together, so writes of whole lines stay whole.
type Writer struct {
	out   io.Writer
	outMu sync.Mutex // held while writing to out: batches leave in order

	mu      sync.Mutex
	taken   *sync.Cond // signalled when the goroutine takes the buffer
	buf     []byte     // waiting to be written
	spare   []byte     // the last written buffer, for reuse
	closed  bool
	kick    chan struct{} // capacity 1: "there is something to write"
	stopped chan struct{}
}

// New returns a Writer to out and starts its goroutine; Close stops it.
func New(out io.Writer) *Writer {
	w := &Writer{out: out, kick: make(chan struct{}, 1), stopped: make(chan struct{})}
	w.taken = sync.NewCond(&w.mu)
	go w.run()
	return w
}

// Write queues p. It never reports an error: the destination's errors are
// dropped, as a logger has nowhere to report them. After Close it writes
// p directly.
func (w *Writer) Write(p []byte) (int, error) {
	w.mu.Lock()
	for len(w.buf) >= maxPending && !w.closed {
		w.taken.Wait()
	}
	if w.closed {
		w.mu.Unlock()
		return w.out.Write(p)
	}
	w.buf = append(w.buf, p...)
	full := len(w.buf) >= batchSize
	select {
	case w.kick <- struct{}{}:
	default: // already kicked; the goroutine will see these bytes too
	}
	w.mu.Unlock()
	// A full batch leaves now, from this goroutine, unless another is
	// already writing one (it, or the goroutine, takes this one next).
	if full && w.outMu.TryLock() {
		w.flushLocked()
		w.outMu.Unlock()
	}
	return len(p), nil
}

// Close writes out everything queued and stops the goroutine. Later
// writes go straight to the destination.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	close(w.kick) // under mu: no Write is sending
	w.taken.Broadcast()
	w.mu.Unlock()
	<-w.stopped
	return nil
}

func (w *Writer) run() {
	defer close(w.stopped)
	for range w.kick {
		w.flush()
	}
	w.flush() // what came between the last kick and Close
}

// flush writes what is queued, swapping buffers so writers can go on
// appending while it writes.
func (w *Writer) flush() {
	w.outMu.Lock()
	defer w.outMu.Unlock()
	w.flushLocked()
}

// flushLocked is flush with outMu held.
func (w *Writer) flushLocked() {
	w.mu.Lock()
	b := w.buf
	w.buf = w.spare[:0]
	w.spare = nil
	w.taken.Broadcast()
	w.mu.Unlock()
	if len(b) == 0 {
		return
	}
	_, _ = w.out.Write(b)
	if cap(b) <= 4*maxPending { // keep a buffer for reuse unless a burst made it huge
		w.mu.Lock()
		w.spare = b[:0]
		w.mu.Unlock()
	}
}
