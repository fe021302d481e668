-- The same schema as internal/sqlite's, file for file. Times are BIGINT
-- unix milliseconds UTC, as in SQLite, so both stores map rows to domain
-- values with the same code. Columns that are keys or sort orders are
-- COLLATE "C": they compare and sort by bytes, as SQLite's BINARY does, and
-- their indexes do not depend on the operating system's locale data, whose
-- upgrades can silently reorder (and so corrupt) a text index.

-- +goose Up
CREATE TABLE users (
	-- An identity column: ids of deleted users are never handed out again,
	-- so a token still carrying one cannot become someone else's.
	id            BIGINT  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	name          TEXT    NOT NULL,                        -- as the user typed it
	name_key      TEXT    COLLATE "C" NOT NULL UNIQUE,     -- jwtgate.NameKey(name), computed in Go
	password_hash TEXT    NOT NULL,
	roles         TEXT    NOT NULL DEFAULT '',             -- joined by ','; '' is no roles
	disabled      BOOLEAN NOT NULL DEFAULT false,
	created_at    BIGINT  NOT NULL,
	updated_at    BIGINT  NOT NULL
);

CREATE TABLE sessions (
	id         TEXT   COLLATE "C" PRIMARY KEY,
	user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	created_at BIGINT NOT NULL,
	expires_at BIGINT NOT NULL,
	revoked_at BIGINT NULL,
	ip         TEXT   NOT NULL DEFAULT '',
	user_agent TEXT   NOT NULL DEFAULT ''
);

-- Serves SessionsByUser, RevokeSessions by user, and the cascade on user
-- deletion, which would otherwise scan sessions.
CREATE INDEX sessions_user_id ON sessions (user_id);

CREATE TABLE signing_keys (
	kid          TEXT   COLLATE "C" PRIMARY KEY,
	alg          TEXT   COLLATE "C" NOT NULL,
	private_key  BYTEA  NOT NULL,
	public_key   BYTEA  NOT NULL,
	created_at   BIGINT NOT NULL,
	activates_at BIGINT NOT NULL,
	retires_at   BIGINT NULL
);

-- Serves EnsureKey's "newest key of this alg".
CREATE INDEX signing_keys_alg ON signing_keys (alg, created_at);

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE sessions;
DROP TABLE users;
