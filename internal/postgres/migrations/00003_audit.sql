-- The audit log: security-relevant events, newest read first.

-- +goose Up
CREATE TABLE audit_events (
	id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at         BIGINT NOT NULL,
	type       TEXT   COLLATE "C" NOT NULL,
	user_id    BIGINT NOT NULL DEFAULT 0, -- no foreign key: events outlive deleted users
	actor_id   BIGINT NOT NULL DEFAULT 0,
	name       TEXT   NOT NULL DEFAULT '',
	ip         TEXT   NOT NULL DEFAULT '',
	user_agent TEXT   NOT NULL DEFAULT '',
	detail     TEXT   NOT NULL DEFAULT ''
);

CREATE INDEX audit_events_user_id ON audit_events (user_id, id);

-- +goose Down
DROP TABLE audit_events;
