-- The subject of an authorization request's id_token_hint (OpenID Connect
-- Core section 3.1.2.1): the user the client expects, checked against the
-- browser's session after the login page. Requests from before had none.

-- +goose Up
ALTER TABLE oidc_auth_requests ADD COLUMN hint_subject TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE oidc_auth_requests DROP COLUMN hint_subject;
