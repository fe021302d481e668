-- Brute-force counters shared by several instances. NOTHING USES THIS TABLE
-- YET: it exists so that SQLite and PostgreSQL keep the same migration
-- numbers (the PostgreSQL store's limiter, internal/postgres/throttle.go,
-- uses its twin; a SQLite database has one instance, which counts in memory
-- with throttle.Memory). Should the SQLite store ever share counters between
-- processes, this is the same table: one row per limiter and key.
--
-- As in PostgreSQL's, times here are INTEGER unix NANOseconds, not the
-- milliseconds of the other tables, so that a limiter computes exactly what
-- throttle.Memory computes.

-- +goose Up
CREATE TABLE throttle (
	limiter      TEXT    NOT NULL,              -- the limiter's name: "account", "ip"
	key_hash     BLOB    NOT NULL,              -- SHA-256 of the key: keys are any bytes, and are not stored
	fails        TEXT    NOT NULL DEFAULT '[]', -- failures within the window, a JSON array (SQLite has no arrays), oldest first; empty once locked
	strikes      INTEGER NOT NULL DEFAULT 0,    -- locks imposed since the key was last forgotten; 0: never locked
	locked_until INTEGER NOT NULL DEFAULT 0,    -- when the current or last lock ends; 0 if strikes = 0
	expires_at   INTEGER NOT NULL,              -- from then on the row has nothing to remember: it reads as absent and is garbage
	PRIMARY KEY (limiter, key_hash)
) STRICT;

CREATE INDEX throttle_expires_at ON throttle (limiter, expires_at);

-- +goose Down
DROP TABLE throttle;
