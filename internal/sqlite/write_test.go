package sqlite

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jwtgate/jwtgate"
)

// TestWriteSlot: a write waits for the transaction holding the slot and
// gives up when its context ends; Commit followed by the deferred
// Rollback releases the slot once.
func TestWriteSlot(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	tx, err := db.w.BeginTx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	err = db.CreateUser(short, &jwtgate.User{Name: "waiter", PasswordHash: "h"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("write while the slot is held = %v, want context.DeadlineExceeded", err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err == nil {
		t.Fatal("Rollback after Commit succeeded")
	}
	if n := len(db.w.slot); n != 0 {
		t.Fatalf("slot holds %d after Commit and Rollback, want 0", n)
	}
	if err := db.CreateUser(ctx, &jwtgate.User{Name: "after", PasswordHash: "h"}); err != nil {
		t.Fatalf("write after the slot was released: %v", err)
	}
	if _, err := db.UserByName(ctx, "waiter"); !errors.Is(err, jwtgate.ErrNotFound) {
		t.Fatalf("the timed-out write was stored: %v", err)
	}
}
