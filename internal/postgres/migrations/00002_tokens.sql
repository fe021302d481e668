-- Refresh tokens, the revocation feed and server secrets.

-- +goose Up
-- The idle timeout counts from the last login or refresh. Existing rows
-- start at their creation time.
ALTER TABLE sessions ADD COLUMN last_used_at BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET last_used_at = created_at;

CREATE TABLE refresh_tokens (
	hash       BYTEA  PRIMARY KEY, -- SHA-256 of the token; the token itself is never stored
	session_id TEXT   COLLATE "C" NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	created_at BIGINT NOT NULL,
	spent_at   BIGINT NULL
);

CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);

-- The feed other instances and services follow. seq is the cursor: an
-- identity column, so a pruned seq is never handed out again. A sequence
-- alone does not make seqs commit in order; writers take an advisory lock
-- for that (see revocation.go).
CREATE TABLE revocations (
	seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	session_id TEXT   COLLATE "C" NULL,
	token_id   TEXT   COLLATE "C" NULL,
	expires_at BIGINT NOT NULL,
	CHECK ((session_id IS NULL) <> (token_id IS NULL))
);

CREATE INDEX revocations_expires_at ON revocations (expires_at);

CREATE TABLE secrets (
	name       TEXT   COLLATE "C" PRIMARY KEY,
	value      BYTEA  NOT NULL,
	created_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE secrets;
DROP TABLE revocations;
DROP TABLE refresh_tokens;
ALTER TABLE sessions DROP COLUMN last_used_at;
