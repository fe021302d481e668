-- The email outbox: messages wait here until an SMTP server takes them.
-- Numbered 00009 to leave room for concurrent work on the user tables.

-- +goose Up
CREATE TABLE outbox (
	id           INTEGER PRIMARY KEY AUTOINCREMENT,
	recipient    TEXT    NOT NULL,
	purpose      TEXT    NOT NULL,
	body         BLOB,              -- sealed; NULL once sent or given up on
	created_at   INTEGER NOT NULL,
	next_attempt INTEGER NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	sent_at      INTEGER,
	gave_up      INTEGER NOT NULL DEFAULT 0,
	last_error   TEXT    NOT NULL DEFAULT ''
) STRICT;

-- The sender's scan: pending emails by due time.
CREATE INDEX outbox_pending ON outbox (next_attempt) WHERE sent_at IS NULL AND gave_up = 0;

-- +goose Down
DROP TABLE outbox;
