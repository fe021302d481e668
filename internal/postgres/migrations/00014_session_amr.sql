-- The authentication methods of a session's login (RFC 8176 amr values,
-- space-separated: "pwd otp mfa"), so refreshed access tokens keep the
-- amr the login earned. Sessions from before are password logins.

-- +goose Up
ALTER TABLE sessions ADD COLUMN amr TEXT NOT NULL DEFAULT 'pwd';

-- +goose Down
ALTER TABLE sessions DROP COLUMN amr;
