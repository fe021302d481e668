-- The OpenID Provider's state: authorization requests (with the code issued
-- for each, stored as a hash), remembered consents, and the sessions that
-- redeemed codes created for clients. Lists are space-separated: scopes and
-- amr values never contain spaces.

-- +goose Up
CREATE TABLE oidc_auth_requests (
	id                TEXT    PRIMARY KEY,
	client_id         TEXT    NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
	redirect_uri      TEXT    NOT NULL,
	scopes            TEXT    NOT NULL DEFAULT '',
	state             TEXT    NOT NULL DEFAULT '',
	nonce             TEXT    NOT NULL DEFAULT '',
	code_challenge    TEXT    NOT NULL DEFAULT '',
	response_mode     TEXT    NOT NULL DEFAULT '',
	prompt            TEXT    NOT NULL DEFAULT '',
	max_age           INTEGER NOT NULL DEFAULT -1,
	login_hint        TEXT    NOT NULL DEFAULT '',
	created_at        INTEGER NOT NULL,
	expires_at        INTEGER NOT NULL,
	user_id           INTEGER REFERENCES users (id) ON DELETE CASCADE,
	session_id        TEXT    NOT NULL DEFAULT '',
	auth_time         INTEGER NOT NULL DEFAULT 0,
	amr               TEXT    NOT NULL DEFAULT '',
	code_hash         BLOB    UNIQUE,
	code_expires_at   INTEGER NOT NULL DEFAULT 0,
	code_used_at      INTEGER,
	issued_session_id TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX oidc_auth_requests_expiry ON oidc_auth_requests (expires_at);

CREATE TABLE oidc_consents (
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	client_id  TEXT    NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
	scopes     TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (user_id, client_id)
) STRICT;

CREATE TABLE oidc_grants (
	session_id TEXT    PRIMARY KEY REFERENCES sessions (id) ON DELETE CASCADE,
	client_id  TEXT    NOT NULL REFERENCES oidc_clients (id) ON DELETE CASCADE,
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	scopes     TEXT    NOT NULL,
	auth_time  INTEGER NOT NULL,
	amr        TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX oidc_grants_user_client ON oidc_grants (user_id, client_id);

-- +goose Down
DROP TABLE oidc_grants;
DROP TABLE oidc_consents;
DROP TABLE oidc_auth_requests;
