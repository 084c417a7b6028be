-- One-time links sent by email (issue 12, part 6): a password reset, or the
-- confirmation of a new email address. Only a SHA-256 of the token is
-- stored, so a copy of the database opens no account. A link works until
-- expires_at and only once: used_at is set in the same transaction as the
-- change it makes, by an UPDATE guarded on "used_at IS NULL", so two
-- concurrent uses cannot both succeed.
CREATE TABLE account_token (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('password_reset', 'email_change')),
    -- The address an email_change confirms (empty for a reset).
    new_email TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX account_token_user ON account_token (user_id, purpose);
