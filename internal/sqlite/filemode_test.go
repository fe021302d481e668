//go:build unix

package sqlite

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFileModes: a new database and its -wal and -shm files are readable
// by their owner only, whatever the umask lets through; an existing
// database whose files other users may read is refused with one line
// naming the file and the fix.
func TestFileModes(t *testing.T) {
	old := syscall.Umask(0o022) // the common default, which leaves 0644
	defer syscall.Umask(old)
	ctx := context.Background()

	t.Run("created private", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "new.db")
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.EnsureSecret(ctx, "x", []byte("y"), time.Unix(0, 0)); err != nil { // a write: the WAL exists
			t.Fatal(err)
		}
		for _, name := range []string{path, path + "-wal", path + "-shm"} {
			fi, err := os.Stat(name)
			if err != nil {
				t.Fatalf("stat %s: %v", name, err)
			}
			if perm := fi.Mode().Perm(); perm != 0o600 {
				t.Errorf("mode of %s = %04o, want 0600", filepath.Base(name), perm)
			}
		}
	})

	tests := []struct {
		name   string
		suffix string // the file made too open
		mode   os.FileMode
	}{
		{name: "world-readable database", suffix: "", mode: 0o644},
		{name: "group-readable database", suffix: "", mode: 0o640},
		{name: "world-readable WAL", suffix: "-wal", mode: 0o604},
		{name: "group-writable shared memory", suffix: "-shm", mode: 0o620},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "old.db")
			db, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.EnsureSecret(ctx, "x", []byte("y"), time.Unix(0, 0)); err != nil {
				t.Fatal(err)
			}
			db.Close()
			name := path + tt.suffix
			if _, err := os.Stat(name); err != nil { // SQLite removed it on close: a leftover one
				if err := os.WriteFile(name, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chmod(name, tt.mode); err != nil {
				t.Fatal(err)
			}
			db, err = Open(ctx, path)
			if err == nil {
				db.Close()
				t.Fatalf("Open(%s with %s mode %04o) = nil error, want a refusal", filepath.Base(path), filepath.Base(name), tt.mode)
			}
			msg := err.Error()
			if !strings.Contains(msg, name) || !strings.Contains(msg, "chmod 600") || strings.Contains(msg, "\n") {
				t.Errorf("Open error = %q, want one line naming %s and chmod 600", msg, name)
			}
		})
	}
}
