-- Refresh tokens, the revocation feed and server secrets.

-- +goose Up
-- The idle timeout counts from the last login or refresh. Existing rows
-- start at their creation time.
ALTER TABLE sessions ADD COLUMN last_used_at INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET last_used_at = created_at;

CREATE TABLE refresh_tokens (
	hash       BLOB    PRIMARY KEY, -- SHA-256 of the token; the token itself is never stored
	session_id TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	spent_at   INTEGER NULL
) STRICT;

CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);

-- The feed other instances and services follow. seq is the cursor:
-- AUTOINCREMENT so a pruned seq is never handed out again.
CREATE TABLE revocations (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	session_id TEXT    NULL,
	token_id   TEXT    NULL,
	expires_at INTEGER NOT NULL,
	CHECK ((session_id IS NULL) <> (token_id IS NULL))
) STRICT;

CREATE INDEX revocations_expires_at ON revocations (expires_at);

CREATE TABLE secrets (
	name       TEXT    PRIMARY KEY,
	value      BLOB    NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE secrets;
DROP TABLE revocations;
DROP TABLE refresh_tokens;
ALTER TABLE sessions DROP COLUMN last_used_at;
