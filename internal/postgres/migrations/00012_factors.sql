-- Second factors: TOTP secrets (sealed), recovery codes (hashed), WebAuthn
-- credentials. Each goes with its user.

-- +goose Up
CREATE TABLE totp_secrets (
	user_id      BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
	secret       BYTEA  NOT NULL, -- sealed under the key-encryption key when one is set
	created_at   BIGINT NOT NULL,
	confirmed_at BIGINT,          -- NULL while enrolment is pending
	last_step    BIGINT NOT NULL DEFAULT 0 -- each code works once
);

CREATE TABLE recovery_codes (
	user_id    BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	hash       BYTEA  NOT NULL, -- SHA-256 of the code
	created_at BIGINT NOT NULL,
	used_at    BIGINT,
	PRIMARY KEY (user_id, hash)
);

CREATE TABLE webauthn_credentials (
	id               BYTEA   PRIMARY KEY, -- the credential ID
	user_id          BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	name             TEXT    NOT NULL,
	public_key       BYTEA   NOT NULL,
	attestation_type TEXT    NOT NULL DEFAULT '',
	aaguid           BYTEA   NOT NULL DEFAULT '\x',
	sign_count       BIGINT  NOT NULL DEFAULT 0,
	backup_eligible  BOOLEAN NOT NULL DEFAULT false,
	backup_state     BOOLEAN NOT NULL DEFAULT false,
	transports       TEXT    NOT NULL DEFAULT '', -- comma-separated
	created_at       BIGINT  NOT NULL,
	last_used_at     BIGINT
);

CREATE INDEX webauthn_credentials_user ON webauthn_credentials (user_id, created_at);

-- +goose Down
DROP TABLE webauthn_credentials;
DROP TABLE recovery_codes;
DROP TABLE totp_secrets;
