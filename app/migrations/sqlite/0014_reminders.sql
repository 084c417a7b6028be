-- Reminders before each appointment (issue 15, point 1), with links to
-- confirm or cancel it.
--
-- Per clinic: on or off, how long before the start each of up to two
-- reminders goes (minutes; the second 0 = none) and by which channels.
-- Patients still always get request, reschedule and cancellation emails.
ALTER TABLE clinic ADD COLUMN reminders_on BIGINT NOT NULL DEFAULT 1
    CHECK (reminders_on IN (0, 1));
ALTER TABLE clinic ADD COLUMN reminder_first_minutes BIGINT NOT NULL DEFAULT 1440;
ALTER TABLE clinic ADD COLUMN reminder_second_minutes BIGINT NOT NULL DEFAULT 120;
ALTER TABLE clinic ADD COLUMN reminder_email BIGINT NOT NULL DEFAULT 1
    CHECK (reminder_email IN (0, 1));
ALTER TABLE clinic ADD COLUMN reminder_sms BIGINT NOT NULL DEFAULT 0
    CHECK (reminder_sms IN (0, 1));

-- When the patient confirmed the appointment at its current time (NULL:
-- not confirmed; cleared when the time changes).
ALTER TABLE appointment ADD COLUMN confirmed_at BIGINT;

-- One reminder of one appointment, for the start it had when scheduled
-- (for_start): a move drops the scheduled ones and schedules new ones, so
-- what went out for the old time stays on record. The timers claim due
-- ones with an UPDATE guarded on status = 'scheduled' (several instances
-- never queue one twice; the outbox key reminder/<id>/<channel> backs it).
CREATE TABLE reminder (
    id INTEGER PRIMARY KEY,
    appointment_id BIGINT NOT NULL REFERENCES appointment(id) ON DELETE CASCADE,
    clinic_id BIGINT NOT NULL REFERENCES clinic(id),
    nth BIGINT NOT NULL CHECK (nth IN (1, 2)),
    for_start BIGINT NOT NULL,
    due_at BIGINT NOT NULL,
    status TEXT NOT NULL DEFAULT 'scheduled'
        CHECK (status IN ('scheduled', 'queued', 'skipped', 'dropped')),
    -- The first message queued for it (the email, else the SMS).
    outbox_id BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX reminder_due ON reminder (status, due_at);
CREATE INDEX reminder_appointment ON reminder (appointment_id);

-- The confirm and cancel links of a reminder. As with account_token, only
-- a SHA-256 of the token is stored; a link works until the appointment's
-- start (for_start, the time it was sent for) and only once: used_at is
-- set by an UPDATE guarded on "used_at IS NULL" in the transaction that
-- acts on it.
CREATE TABLE reminder_link (
    token_hash TEXT PRIMARY KEY,
    appointment_id BIGINT NOT NULL REFERENCES appointment(id) ON DELETE CASCADE,
    purpose TEXT NOT NULL CHECK (purpose IN ('confirm', 'cancel')),
    for_start BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX reminder_link_appointment ON reminder_link (appointment_id);
