-- OpenID Connect clients. Lists (redirect URIs, scopes) are JSON arrays:
-- read and written whole, never queried into.

-- +goose Up
CREATE TABLE oidc_clients (
	id                        TEXT    COLLATE "C" PRIMARY KEY,
	name                      TEXT    NOT NULL,
	name_key                  TEXT    COLLATE "C" NOT NULL UNIQUE, -- lower-cased name
	secret_hash               BYTEA,                               -- NULL for public clients
	public                    BOOLEAN NOT NULL DEFAULT false,
	redirect_uris             TEXT    NOT NULL DEFAULT '[]',
	post_logout_redirect_uris TEXT    NOT NULL DEFAULT '[]',
	scopes                    TEXT    NOT NULL DEFAULT '[]',
	trusted                   BOOLEAN NOT NULL DEFAULT false,
	id_token_alg              TEXT    NOT NULL DEFAULT '',
	created_at                BIGINT  NOT NULL,
	updated_at                BIGINT  NOT NULL
);

-- +goose Down
DROP TABLE oidc_clients;
