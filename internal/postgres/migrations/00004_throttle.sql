-- Brute-force counters shared by every instance: one row per limiter and
-- key, the state of one throttle.Memory entry (see throttle.go, which holds
-- the SQL that reads and writes it, and internal/throttle for the policy).
--
-- Unlike the rest of the schema, times here are BIGINT unix NANOseconds:
-- the limiter then computes exactly what throttle.Memory computes, whose
-- waits are time.Durations (a Fail at 12:00:00.000999 locks until exactly
-- BanTime later, not a rounded millisecond). They fit until the year 2262.

-- +goose Up
CREATE TABLE throttle (
	limiter      TEXT     COLLATE "C" NOT NULL,  -- the limiter's name: "account", "ip"
	key_hash     BYTEA    NOT NULL,              -- SHA-256 of the key: keys are any bytes, and are not stored
	fails        BIGINT[] NOT NULL DEFAULT '{}', -- failures within the window, oldest first, fewer than MaxFailures; empty once locked
	strikes      INTEGER  NOT NULL DEFAULT 0,    -- locks imposed since the key was last forgotten; 0: never locked
	locked_until BIGINT   NOT NULL DEFAULT 0,    -- when the current or last lock ends; 0 if strikes = 0
	expires_at   BIGINT   NOT NULL,              -- from then on the row has nothing to remember: it reads as absent and is garbage
	PRIMARY KEY (limiter, key_hash)
);

-- Serves the sweep of expired rows (Limiter.Sweep).
CREATE INDEX throttle_expires_at ON throttle (limiter, expires_at);

-- +goose Down
DROP TABLE throttle;
