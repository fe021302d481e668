-- The email outbox: messages wait here until an SMTP server takes them.
-- Numbered 00009 to leave room for concurrent work on the user tables.

-- +goose Up
CREATE TABLE outbox (
	id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	recipient    TEXT    NOT NULL,
	purpose      TEXT    NOT NULL,
	body         BYTEA,              -- sealed; NULL once sent or given up on
	created_at   BIGINT  NOT NULL,
	next_attempt BIGINT  NOT NULL,
	attempts     INTEGER NOT NULL DEFAULT 0,
	sent_at      BIGINT,
	gave_up      BOOLEAN NOT NULL DEFAULT false,
	last_error   TEXT    NOT NULL DEFAULT ''
);

-- The sender's scan: pending emails by due time.
CREATE INDEX outbox_pending ON outbox (next_attempt) WHERE sent_at IS NULL AND NOT gave_up;

-- +goose Down
DROP TABLE outbox;
