-- A waitlist entry whose last date has passed (in the clinic's zone) can
-- never be offered a time again; the timers mark it 'expired' (issue 16,
-- gaps) so it stops counting as waiting: it no longer blocks joining the
-- same waitlist again and is shown to the patient and staff as ended.
--
-- SQLite cannot change a CHECK constraint in place, so the table is rebuilt
-- (new table, copy, drop, rename). sqlx runs every SQLite migration in a
-- transaction (it ignores "no-transaction" there), where foreign keys
-- cannot be turned off, so dropping the old table cascades to its offers:
-- they are kept aside in a temporary table and put back, ids and all.
CREATE TEMP TABLE waitlist_offer_kept AS SELECT * FROM waitlist_offer;
CREATE TABLE waitlist_entry_new (
    id INTEGER PRIMARY KEY,
    clinic_id BIGINT NOT NULL REFERENCES clinic(id) ON DELETE CASCADE,
    patient_id BIGINT NOT NULL REFERENCES app_user(id) ON DELETE CASCADE,
    service_id BIGINT NOT NULL REFERENCES service(id) ON DELETE CASCADE,
    -- NULL: any of the clinic's providers.
    provider_id BIGINT REFERENCES app_user(id) ON DELETE CASCADE,
    -- The clinic's local dates, 'YYYY-MM-DD', both included.
    date_from TEXT NOT NULL,
    date_to TEXT NOT NULL,
    -- Preferred times of day (starts before 12:00, 12:00-17:00, from 17:00).
    morning BIGINT NOT NULL CHECK (morning IN (0, 1)),
    afternoon BIGINT NOT NULL CHECK (afternoon IN (0, 1)),
    evening BIGINT NOT NULL CHECK (evening IN (0, 1)),
    status TEXT NOT NULL DEFAULT 'waiting'
        CHECK (status IN ('waiting', 'booked', 'removed', 'expired')),
    created_at BIGINT NOT NULL,
    closed_at BIGINT,
    CHECK (morning + afternoon + evening >= 1),
    CHECK (date_from <= date_to)
);
INSERT INTO waitlist_entry_new (id, clinic_id, patient_id, service_id, provider_id, date_from,
    date_to, morning, afternoon, evening, status, created_at, closed_at)
    SELECT id, clinic_id, patient_id, service_id, provider_id, date_from, date_to, morning,
    afternoon, evening, status, created_at, closed_at FROM waitlist_entry;
DROP TABLE waitlist_entry;
ALTER TABLE waitlist_entry_new RENAME TO waitlist_entry;
-- The indexes of 0015, as they were.
CREATE UNIQUE INDEX waitlist_entry_once
    ON waitlist_entry (clinic_id, patient_id, service_id, COALESCE(provider_id, 0))
    WHERE status = 'waiting';
CREATE INDEX waitlist_entry_queue ON waitlist_entry (clinic_id, service_id, status, created_at);
CREATE INDEX waitlist_entry_patient ON waitlist_entry (patient_id, status);
-- The timers look for waiting entries past their last date on every poll.
CREATE INDEX waitlist_entry_due ON waitlist_entry (date_to) WHERE status = 'waiting';
INSERT INTO waitlist_offer SELECT * FROM waitlist_offer_kept;
DROP TABLE waitlist_offer_kept;
