package logwriter

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a destination that records every Write call.
type lockedBuffer struct {
	mu    sync.Mutex
	b     bytes.Buffer
	calls int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls++
	return l.b.Write(p)
}

// TestWriterKeepsEveryLineWhole: lines written concurrently all arrive,
// each whole, each writer's lines in its order, and Close writes out what
// is queued; writes after Close still arrive.
func TestWriterKeepsEveryLineWhole(t *testing.T) {
	tests := []struct {
		name             string
		writers, perEach int
	}{
		{name: "one writer", writers: 1, perEach: 1000},
		{name: "many writers", writers: 16, perEach: 500},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := &lockedBuffer{}
			w := New(dst)
			var wg sync.WaitGroup
			for g := range tt.writers {
				wg.Go(func() {
					for i := range tt.perEach {
						fmt.Fprintf(w, "writer=%d line=%d %s\n", g, i, strings.Repeat("x", i%50))
					}
				})
			}
			wg.Wait()
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(w, "after close\n")
			lines := strings.Split(strings.TrimSuffix(dst.b.String(), "\n"), "\n")
			if got, want := len(lines), tt.writers*tt.perEach+1; got != want {
				t.Fatalf("got %d lines, want %d", got, want)
			}
			next := make([]int, tt.writers)
			for _, l := range lines[:len(lines)-1] {
				var g, i int
				var rest string
				if _, err := fmt.Sscanf(l, "writer=%d line=%d %s", &g, &i, &rest); err != nil && i%50 != 0 {
					t.Fatalf("line %q is not whole: %v", l, err)
				}
				if i != next[g] || (i%50 != 0 && rest != strings.Repeat("x", i%50)) {
					t.Fatalf("line %q: want writer %d's line %d next, whole", l, g, next[g])
				}
				next[g]++
			}
			if lines[len(lines)-1] != "after close" {
				t.Errorf("last line = %q, want the one written after Close", lines[len(lines)-1])
			}
		})
	}
}

// TestWriterBatches: lines queued while the destination is busy leave in
// fewer writes than lines.
func TestWriterBatches(t *testing.T) {
	dst := &lockedBuffer{}
	w := New(dst)
	dst.mu.Lock() // the destination is busy: everything written now queues
	for i := range 1000 {
		fmt.Fprintf(w, "line %d\n", i)
	}
	dst.mu.Unlock()
	w.Close()
	if dst.calls >= 1000 || strings.Count(dst.b.String(), "\n") != 1000 {
		t.Errorf("1000 lines arrived in %d writes (%d lines), want fewer writes than lines and every line",
			dst.calls, strings.Count(dst.b.String(), "\n"))
	}
}
