-- Notifications (issue 6): which clinic and appointment an outbox message
-- belongs to (the admins' Outbox page, the PMS sync state), how it was
-- delivered (smtp, http, or kept in the dev mailbox), the iCalendar
-- SEQUENCE per calendar UID, the providers' calendar feed tokens and the
-- clinic's PMS endpoint.
ALTER TABLE outbox ADD COLUMN clinic_id BIGINT REFERENCES clinic(id);
ALTER TABLE outbox ADD COLUMN appointment_id BIGINT REFERENCES appointment(id);
ALTER TABLE outbox ADD COLUMN transport TEXT;
-- A second calendar: when "this and all future" splits a series, the
-- earlier meetings' series is sent again with its shortened rule.
ALTER TABLE outbox ADD COLUMN attachment_extra TEXT;
CREATE INDEX outbox_clinic ON outbox (clinic_id, created_at);
CREATE INDEX outbox_recipient ON outbox (recipient_user_id, created_at);

CREATE TABLE ics_sequence (
    uid TEXT PRIMARY KEY,
    seq BIGINT NOT NULL
);

-- Only a SHA-256 of the feed token is stored; a new token revokes the old.
CREATE TABLE calendar_feed (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL UNIQUE REFERENCES app_user(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);

ALTER TABLE clinic ADD COLUMN pms_url TEXT NOT NULL DEFAULT '';
ALTER TABLE clinic ADD COLUMN pms_secret TEXT NOT NULL DEFAULT '';
