-- Single-use tokens sent by email: verification, password reset,
-- invitation. Only the SHA-256 of a token is stored.

-- +goose Up
CREATE TABLE one_time_tokens (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	hash       BLOB    NOT NULL UNIQUE,
	purpose    TEXT    NOT NULL,
	user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE, -- NULL: an invitation, before the account exists
	email      TEXT    NOT NULL DEFAULT '',
	data       TEXT    NOT NULL DEFAULT '',
	created_by INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	used_at    INTEGER
) STRICT;

-- "The newest link only": unused tokens by user (or invited address) and purpose.
CREATE INDEX one_time_tokens_owner ON one_time_tokens (purpose, user_id, email) WHERE used_at IS NULL;

-- +goose Down
DROP TABLE one_time_tokens;
