-- Tokens signed out before they expire. A token names itself with a `jti`; signing out
-- stores it here and every request refuses a stored one. Rows are pruned once the token
-- would have expired anyway.
CREATE TABLE revoked_tokens (
    jti         TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at  TEXT NOT NULL
) STRICT;
CREATE INDEX revoked_tokens_expires ON revoked_tokens (expires_at);
