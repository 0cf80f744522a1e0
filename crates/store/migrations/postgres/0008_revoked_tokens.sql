-- Tokens signed out before they expire. A token names itself with a `jti`; signing out
-- stores it here and every request refuses a stored one. Rows are pruned once the token
-- would have expired anyway.
CREATE TABLE revoked_tokens (
    jti         UUID PRIMARY KEY,
    user_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires_at);
