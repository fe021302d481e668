package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// writer serialises this process's writes to the database. SQLite lets one
// writer in at a time; without this, writers from database/sql's pool meet
// SQLITE_BUSY and wait in SQLite's busy handler, which sleeps in growing
// steps (up to 100 ms) instead of queueing: with 32 concurrent token
// refreshes, p99 was 440 ms for a 0.35 ms write. A one-slot channel queues
// waiters in arrival order and gives up when their context ends. Other
// processes on the same file (the CLI beside a server) still wait under
// busy_timeout.
//
// Every statement that writes goes through writer: ExecContext for one
// statement, BeginTx for a transaction (all transactions here write).
type writer struct {
	db   *sql.DB
	slot chan struct{}
}

func newWriter(db *sql.DB) *writer { return &writer{db: db, slot: make(chan struct{}, 1)} }

func (w *writer) lock(ctx context.Context) error {
	select {
	case w.slot <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *writer) unlock() { <-w.slot }

// ExecContext runs one writing statement (its own transaction).
func (w *writer) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := w.lock(ctx); err != nil {
		return nil, err
	}
	defer w.unlock()
	return w.db.ExecContext(ctx, query, args...)
}

// BeginTx starts an immediate transaction that holds the write slot until
// it commits or rolls back.
func (w *writer) BeginTx(ctx context.Context) (*writeTx, error) {
	if err := w.lock(ctx); err != nil {
		return nil, err
	}
	tx, err := w.db.BeginTx(ctx, nil)
	if err != nil {
		w.unlock()
		return nil, err
	}
	return &writeTx{Tx: tx, w: w}, nil
}

// writeTx is a transaction holding the write slot. Commit and Rollback
// release it; the usual defer tx.Rollback() after a Commit releases nothing
// twice.
type writeTx struct {
	*sql.Tx
	w    *writer
	once sync.Once
}

func (t *writeTx) Commit() error {
	defer t.release()
	return t.Tx.Commit()
}

func (t *writeTx) Rollback() error {
	defer t.release()
	return t.Tx.Rollback()
}

func (t *writeTx) release() { t.once.Do(t.w.unlock) }
