-- Users' email addresses: optional, one per user, unique case-insensitively.
-- A table of its own rather than columns on users: most of an address's
-- life (verification, change) is its own, and users without one store nothing.

-- +goose Up
CREATE TABLE user_emails (
	user_id     BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	address     TEXT   NOT NULL,                  -- as given, domain lower-cased
	address_key TEXT   COLLATE "C" NOT NULL UNIQUE, -- jwtgate.EmailKey(address), computed in Go
	verified_at BIGINT
);

-- +goose Down
DROP TABLE user_emails;
