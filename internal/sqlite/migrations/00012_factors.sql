-- Second factors: TOTP secrets (sealed), recovery codes (hashed), WebAuthn
-- credentials. Each goes with its user.

-- +goose Up
CREATE TABLE totp_secrets (
	user_id      INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	secret       BLOB    NOT NULL, -- sealed under the key-encryption key when one is set
	created_at   INTEGER NOT NULL,
	confirmed_at INTEGER,          -- NULL while enrolment is pending
	last_step    INTEGER NOT NULL DEFAULT 0 -- each code works once
) STRICT;

CREATE TABLE recovery_codes (
	user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	hash       BLOB    NOT NULL, -- SHA-256 of the code
	created_at INTEGER NOT NULL,
	used_at    INTEGER,
	PRIMARY KEY (user_id, hash)
) STRICT;

CREATE TABLE webauthn_credentials (
	id               BLOB    PRIMARY KEY, -- the credential ID
	user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name             TEXT    NOT NULL,
	public_key       BLOB    NOT NULL,
	attestation_type TEXT    NOT NULL DEFAULT '',
	aaguid           BLOB    NOT NULL DEFAULT x'',
	sign_count       INTEGER NOT NULL DEFAULT 0,
	backup_eligible  INTEGER NOT NULL DEFAULT 0,
	backup_state     INTEGER NOT NULL DEFAULT 0,
	transports       TEXT    NOT NULL DEFAULT '', -- comma-separated
	created_at       INTEGER NOT NULL,
	last_used_at     INTEGER
) STRICT;

CREATE INDEX webauthn_credentials_user ON webauthn_credentials (user_id, created_at);

-- +goose Down
DROP TABLE webauthn_credentials;
DROP TABLE recovery_codes;
DROP TABLE totp_secrets;
