-- Times are INTEGER unix milliseconds UTC, so the same columns map to
-- PostgreSQL BIGINT. Tables are STRICT so that a value of the wrong type (a
-- time bound as text, say) is rejected instead of silently stored.

-- +goose Up
CREATE TABLE users (
	id            INTEGER PRIMARY KEY AUTOINCREMENT, -- AUTOINCREMENT: ids of deleted users are never reused
	name          TEXT    NOT NULL,                  -- as the user typed it
	name_key      TEXT    NOT NULL UNIQUE,           -- jwtgate.NameKey(name), computed in Go
	password_hash TEXT    NOT NULL,
	roles         TEXT    NOT NULL DEFAULT '',       -- joined by ','; '' is no roles
	disabled      INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1)),
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL
) STRICT;

CREATE TABLE sessions (
	id         TEXT    PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL,
	revoked_at INTEGER NULL,
	ip         TEXT    NOT NULL DEFAULT '',
	user_agent TEXT    NOT NULL DEFAULT ''
) STRICT;

-- Serves the cascade on user deletion, which would otherwise scan sessions.
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE signing_keys (
	kid          TEXT    PRIMARY KEY,
	alg          TEXT    NOT NULL,
	private_key  BLOB    NOT NULL,
	public_key   BLOB    NOT NULL,
	created_at   INTEGER NOT NULL,
	activates_at INTEGER NOT NULL,
	retires_at   INTEGER NULL
) STRICT;

-- Serves EnsureKey's "newest key of this alg".
CREATE INDEX signing_keys_alg ON signing_keys (alg, created_at);

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE sessions;
DROP TABLE users;
