-- OpenID Connect clients. Lists (redirect URIs, scopes) are JSON arrays:
-- read and written whole, never queried into.

-- +goose Up
CREATE TABLE oidc_clients (
	id                        TEXT    PRIMARY KEY,
	name                      TEXT    NOT NULL,
	name_key                  TEXT    NOT NULL UNIQUE, -- lower-cased name
	secret_hash               BLOB,                    -- NULL for public clients
	public                    INTEGER NOT NULL DEFAULT 0,
	redirect_uris             TEXT    NOT NULL DEFAULT '[]',
	post_logout_redirect_uris TEXT    NOT NULL DEFAULT '[]',
	scopes                    TEXT    NOT NULL DEFAULT '[]',
	trusted                   INTEGER NOT NULL DEFAULT 0,
	id_token_alg              TEXT    NOT NULL DEFAULT '',
	created_at                INTEGER NOT NULL,
	updated_at                INTEGER NOT NULL
) STRICT;

-- +goose Down
DROP TABLE oidc_clients;
